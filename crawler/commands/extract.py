"""``scrapy extract``: run the extraction steps on saved pages, print JSON lines.

    scrapy extract FILE... [--url URL] [--manifest FILE.jsonl] [--source NAME] [--fetched-at ISO]

Each FILE is a saved page (``.html`` or ``.html.gz``). Its URL comes from
``--url`` (one file), from a manifest (JSON lines with ``file`` and ``url``, and
optionally ``fetched_at``, ``content_type``; files relative to the manifest),
or is unknown. The source is ``--source``, or the registered source whose
``domains`` hold the URL's host, or none (the generic path). Steps 0-4 run
exactly as in the crawl (:func:`pipelines.process.process_page`); the output
has every archived field, ``drop_reason`` and ``file``, one JSON object a line.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

OUTPUT_FIELDS = (
    "url", "canonical_url", "source", "region", "country", "language", "title", "lead", "body", "authors",
    "section", "tags", "image_captions", "published_at", "published_at_offset", "published_at_precision",
    "published_date", "published_at_raw", "modified_at", "modified_at_raw", "field_sources", "discovered_via", "http_status", "crawled_at", "date_problems", "drop_reason",
)


def source_for_url(url: str | None, sources=None):
    """The registered source whose ``domains`` hold the URL's host (subdomains included), or None."""
    if not url:
        return None
    if sources is None:
        from crawler.sources import registry

        sources = registry().sources.values()
    host = (urlsplit(url).hostname or "").lower()
    best = None
    for src in sources:
        for domain in src.domains:
            d = domain.lower()
            if host == d or host.endswith("." + d):
                if best is None or len(d) > best[0]:  # the most specific domain wins
                    best = (len(d), src)
    return best[1] if best else None


def read_saved(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") or raw[:2] == b"\x1f\x8b" else raw


def _aware(iso: str) -> datetime:
    """An ISO time; one without an offset is UTC."""
    value = datetime.fromisoformat(iso)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return str(value)


def in_stated_offset(value: datetime | None, minutes: int | None) -> datetime | None:
    """A UTC instant shown in the offset the page stated (ISO 8601 with that offset)."""
    if value is None or minutes is None:
        return value
    return value.astimezone(timezone(timedelta(minutes=minutes)))


def record(item: dict, file: str) -> dict:
    out = {name: item.get(name) for name in OUTPUT_FIELDS}
    out["published_at"] = in_stated_offset(item.get("published_at"), item.get("published_at_offset"))
    out["crawled_at"] = item.get("fetched_at")
    out["file"] = file
    return out


def pages_from(args: list[str], url: str | None, manifest: str | None):
    """``(path, url, extra)`` for every page to process."""
    if url and len(args) != 1:
        raise UsageError("--url needs exactly one FILE")
    for name in args:
        yield Path(name), url, {}
    if manifest:
        base = Path(manifest).resolve().parent
        for n, line in enumerate(Path(manifest).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise UsageError(f"{manifest}:{n}: not JSON ({exc})") from None
            if "file" not in row:
                raise UsageError(f"{manifest}:{n}: no 'file' key")
            path = Path(row["file"])
            yield (path if path.is_absolute() else base / path), row.get("url"), row


def extract_saved(raw: bytes, url: str | None, fetched: datetime, source=None, extra: dict | None = None,
                  path: Path | None = None, **options) -> dict:
    """One saved page through steps 0-4 as the crawl runs them: what ``scrapy extract`` prints and
    what ``benchmarks/eval.py`` scores (one path for both). ``options`` go to ``process_page``."""
    from pipelines.process import process_page

    extra = extra or {}
    page = {
        "source": source.name if source else None, "url": url or (path.resolve().as_uri() if path else None),
        "response_url": url, "raw_body": raw, "content_type": extra.get("content_type"),
        "http_status": extra.get("http_status", 200), "fetched_at": fetched, "discovered_via": "urls",
        "hints": extra.get("hints") or {}, "run_id": "extract",
    }
    item = process_page(page, source, **options)
    if source is None and not url and item.get("canonical_url"):
        # no URL given: the page's own canonical URL may still name a declared source
        source = source_for_url(item["canonical_url"])
        if source is not None:
            page.update(source=source.name, html=item["html"])  # decoded once
            item = process_page(page, source, **options)
    if source is not None:
        item.setdefault("region", source.region)
        item.setdefault("country", source.country)
    return item


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self):
        return "FILE... [--url URL] [--manifest FILE.jsonl] [--source NAME]"

    def short_desc(self):
        return "Extract articles from saved pages (.html/.html.gz) and print them as JSON lines"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--url", help="the URL the (single) FILE was fetched from")
        parser.add_argument("--manifest", help="JSON lines with 'file' and 'url' (and optionally 'fetched_at')")
        parser.add_argument("--source", help="source name to use instead of matching the URL's host")
        parser.add_argument("--fetched-at", dest="fetched_at",
                            help="ISO time the pages were fetched (default: each file's modification time)")

    def run(self, args, opts):
        from crawler.sources import get_source

        if not args and not opts.manifest:
            raise UsageError("give at least one FILE or --manifest", print_help=True)
        forced = get_source(opts.source, self.settings.get("DEMO_BASE_URL")) if opts.source else None
        try:
            fetched_default = _aware(opts.fetched_at) if opts.fetched_at else None
        except ValueError:
            raise UsageError(f"--fetched-at {opts.fetched_at!r}: not an ISO 8601 time "
                             "(e.g. 2026-03-08T09:30:00+07:00; without an offset: UTC)") from None
        failures = 0
        for path, url, extra in pages_from(args, opts.url, opts.manifest):
            try:
                raw = read_saved(path)
            except OSError as exc:
                print(f"extract: cannot read {path}: {exc}", file=sys.stderr)
                failures += 1
                continue
            fetched = fetched_default
            if extra.get("fetched_at"):
                try:
                    fetched = _aware(str(extra["fetched_at"]))
                except ValueError:  # one page's fault: the others are still extracted
                    print(f"extract: {path}: its manifest's fetched_at {extra['fetched_at']!r} is not an ISO 8601 "
                          f"time: page skipped", file=sys.stderr)
                    failures += 1
                    continue
            if fetched is None:
                fetched = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
            item = extract_saved(raw, url, fetched, forced or source_for_url(url), extra, path)
            print(json.dumps(record(item, str(path)), ensure_ascii=False, default=_json_default), flush=True)
        self.exitcode = 1 if failures else 0
