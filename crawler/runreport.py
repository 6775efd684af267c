"""The run report: one row per source and run, what it says, and how it is shown.

A row (``storage.schema.RUN_SCHEMA``) is built from the spider's counters when
the spider closes and accepted into the run's ``runs`` dataset before the run
commits, so ``<archive>/runs/`` holds it with the same guarantees as articles.
Every article URL a crawl found has exactly one fate, so

    articles_found = articles_archived + duplicates_skipped + sum(dropped.values())

``status`` says whether cron should shout (anything but ``ok`` makes the
command exit 1):

- ``failed``: the spider did not finish, the archive could not be written, or
  nothing announcing articles (feed, sitemap, listing, robots.txt) could be read;
- ``interrupted``: stopped by a signal (Ctrl-C, SIGTERM);
- ``nothing_archived``: discovery showed new articles (at least ``NOTHING_ARCHIVED_MIN_NEW``,
  default 3, not counting copies and pages outside a rerun's window) but none was archived;
- ``incomplete``: found article URLs were never fetched, or the share of archived articles with a
  title, body or date fell below the source's ``min_completeness``;
- ``degraded``: ok, or ``incomplete`` only by that fixed floor, and the source fell below its own
  recent median of completeness (title, body, date, authors) or of articles per local day (the drift
  rule, ``crawler/drift.py``; ``scrapy archive report`` shows the same alerts; why it wins over the
  floor: ``drift_judged``);
- ``ok``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from crawler.runkind import STATUS_OK, crawl_kind
from pipelines.dropped import is_duplicate
from storage import clock

NOT_ARCHIVED_QUIETLY = ("outside_window", "unchanged", "already_archived", "known_not_article", "known_gone",
                        "known_refused", "failed_recently", "failed_gave_up", "max_articles")
FINISHED_REASONS = ("finished", "max_articles")
_VERSION: str | None = None


def crawler_version() -> str:
    global _VERSION
    if _VERSION is None:
        import scrapy

        commit = ""
        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                    timeout=5, cwd=Path(__file__).resolve().parents[1]).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
        _VERSION = f"newsarchive {commit or 'unknown'} scrapy {scrapy.__version__}"
    return _VERSION


def build_row(spider, reason: str, stats: dict, now: datetime | None = None) -> dict:
    """The ``runs`` row of one spider, from its outcome counters and the crawl stats."""
    now = now or clock.now()
    outcomes = dict(spider.outcomes)
    archived = outcomes.pop("archived", 0)
    duplicates = sum(v for k, v in outcomes.items() if is_duplicate(k))
    dropped = {k: v for k, v in outcomes.items() if not is_duplicate(k) and v}
    found = len(spider.found)
    unaccounted = found - archived - duplicates - sum(dropped.values())
    if unaccounted > 0:  # requested but never answered: the spider closed first, or a filtered redirect
        dropped["not_fetched"] = unaccounted
    http_errors = {}
    for key, value in stats.items():
        if key.startswith("downloader/response_status_count/"):
            code = key.rsplit("/", 1)[1]
            if code.isdigit() and int(code) >= 400:
                http_errors[code] = value
    comp = spider.completeness
    n = comp.get("archived", 0)
    row = {
        "run_id": spider.session.run_id,
        "source": spider.name,
        "started_at": spider.started_at,
        "finished_at": now,
        "status": STATUS_OK,
        "requests": stats.get("downloader/request_count", 0),
        "article_pages_fetched": stats.get("article/pages_fetched", 0),
        "articles_found": found,
        "articles_archived": archived,
        "duplicates_skipped": duplicates,
        "dropped": dict(sorted(dropped.items())),
        "http_errors": dict(sorted(http_errors.items())),
        "completeness_title": (comp["title"] / n) if n else None,
        "completeness_body": (comp["body"] / n) if n else None,
        "completeness_date": (comp["date"] / n) if n else None,
        "completeness_authors": (comp["authors"] / n) if n else None,
        "bytes_downloaded": stats.get("downloader/response_bytes", 0),
        "duration_s": round((now - spider.started_at).total_seconds(), 3),
        "publish_delay_s": getattr(getattr(spider.session, "run", None), "publish_delay_s", None),
        "crawler_version": crawler_version(),
        "notes": "",
    }
    min_sample = spider.crawler.settings.getint("COMPLETENESS_MIN_ARTICLES", 10)
    status, problems = evaluate(row, reason, spider, stats, min_sample)
    row["status"] = status
    notes = problems + [f"{k}={v}" for k, v in sorted(spider.events.items())]
    if spider.discovery.get("failed"):
        notes.append(f"discovery_failed={spider.discovery['failed']}")
    for label, key in (("sitemaps_unchanged", "discovery/sitemap_unchanged"),
                       ("retries", "retry/count"), ("retry_after_waits", "retry/retry_after_honoured"),
                       ("retry_after_too_long", "retry/retry_after_too_long"),
                       ("robots_disallowed", "robotstxt/forbidden")):
        if stats.get(key):
            notes.append(f"{label}={stats[key]}")
    if spider.dry_run:
        notes.append("dry run: nothing written")
    if spider.explicit_urls:
        notes.append(f"rerun of {len(spider.explicit_urls)} given URL(s)")
    if spider.since or spider.until:
        notes.append(f"window {spider.since or '…'}..{spider.until or '…'}")
    row["notes"] = "; ".join(notes)
    history = getattr(spider.session, "recent_runs", None)  # not in distributed mode's aggregate
    if drift_judged(row) and history is not None and not spider.dry_run:
        from crawler.drift import DEGRADED, DriftRule

        rule = DriftRule.from_settings(spider.crawler.settings)
        tz = getattr(spider, "tz", None) or spider.source.timezone
        first, last = rule.count_days(row, tz)
        counts = getattr(spider.session, "daily_counts", None)
        daily = counts(spider.name, tz, first, last) if counts is not None else None
        if daily is not None:  # this run's articles are not in the archive yet
            for day, count in getattr(spider, "archived_days", {}).items():
                if first <= day <= last:
                    daily[day] = daily.get(day, 0) + count
        alerts = rule.assess(history(spider.name), row, daily, tz)
        if alerts:
            row["status"] = DEGRADED
            row["notes"] = "; ".join(["degraded: " + ", ".join(map(str, alerts))] + ([row["notes"]] if row["notes"] else []))
        elif daily is None and crawl_kind(row) != "restricted":
            row["notes"] = "; ".join(x for x in (row["notes"], "daily count not judged: archive unreadable") if x)
    return row


def drift_judged(row: dict) -> bool:
    """Whether the drift rule may mark this run ``degraded``: it is ``ok``, or ``incomplete`` only
    because a field fell below the source's fixed floor (``min_completeness``).

    ``degraded`` wins over that ``incomplete``: when the source's own history shows it used to do
    better, the run is a regression (a redesign, a block) and says so; a source that is always below
    its floor, which the median cannot flag, stays ``incomplete``. Both exit 1, and the notes keep the
    floor's finding. An ``incomplete`` for URLs never fetched is not overridden: the archive has a gap
    a rerun must fill, and the drop the rule would see is that gap."""
    if row["status"] == STATUS_OK:
        return True
    return row["status"] == "incomplete" and not (row.get("dropped") or {}).get("not_fetched")


def evaluate(row: dict, reason: str, spider, stats: dict, min_sample: int) -> tuple[str, list[str]]:
    """``(status, problems)`` of one source's run."""
    problems: list[str] = []
    status = STATUS_OK
    if reason not in FINISHED_REASONS:
        status = "interrupted" if reason == "shutdown" else "failed"
        problems.append(f"spider closed: {reason}")
    disc = spider.discovery
    if not spider.explicit_urls and disc.get("requested", 0) and not disc.get("ok", 0):
        status = "failed"
        why = ", ".join(f"{k[7:]}×{v}" for k, v in sorted(disc.items()) if k.startswith("failed/")) or "no answer"
        problems.append(f"no feed, sitemap or listing could be read ({why})")
    if stats.get("robotstxt/unreachable"):
        status = "failed"
        problems.append("robots.txt unreachable: the site was not crawled (RFC 9309: assume disallowed)")
    # of the requested articles, those that needed no archiving (max_articles URLs were never requested)
    settled = row["duplicates_skipped"] + sum(
        v for k, v in row["dropped"].items() if k in ("outside_window", "unchanged"))
    new = spider.requested_articles - settled
    min_new = spider.crawler.settings.getint("NOTHING_ARCHIVED_MIN_NEW", 3)
    if status == STATUS_OK and not row["articles_archived"] and new >= max(1, min_new):
        status = "nothing_archived"
        problems.append(f"{new} new article URL(s) requested, none archived")
    unfetched = row["dropped"].get("not_fetched", 0)
    if status == STATUS_OK and unfetched and not spider.dry_run:
        # found, never answered: a silent gap in the archive unless the report says so
        status = "incomplete"
        problems.append(f"{unfetched} found article URL(s) never fetched; rerun with -a since=...")
    n = spider.completeness.get("archived", 0)
    if status == STATUS_OK and n >= max(1, min_sample):
        low = []
        for field in ("title", "body", "date", "authors"):  # authors: no floor unless a source declares one
            share, floor = row.get(f"completeness_{field}"), spider.source.completeness_floor(field)
            if share is not None and share < floor:
                low.append(f"{field} {share:.0%} < {floor:.0%}")
        if low:
            status = "incomplete"
            problems.append("completeness " + ", ".join(low))
    return status, problems


def mark_unpublished(rows: list[dict], error: str) -> None:
    """The run could not be committed: every source of it failed (its rows wait in the journal)."""
    for row in rows:
        row["status"] = "failed"
        row["notes"] = "; ".join(x for x in (f"archive not written: {error}", row.get("notes")) if x)


# ---------------------------------------------------------------- showing it

def _mb(n) -> str:
    return f"{(n or 0) / 1e6:.1f} MB"


def _top(mapping: dict, k: int = 4) -> str:
    items = sorted(mapping.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{key} {value}" for key, value in items[:k])
    return text + (", …" if len(items) > k else "")


def summary_line(row: dict) -> str:
    """One line per source a human can read in a cron mail."""
    dropped = row.get("dropped") or {}
    parts = [
        f"{row['source']}: {row['status'].upper()}",
        f"archived {row['articles_archived']} of {row['articles_found']} found",
        f"{row['duplicates_skipped']} duplicates",
    ]
    if dropped:
        parts.append(f"not archived {sum(dropped.values())} ({_top(dropped)})")
    parts.append(f"{row['requests']} requests, {row['article_pages_fetched']} article pages, "
                 f"{_mb(row['bytes_downloaded'])}, {row.get('duration_s') or 0:.0f}s")
    if row.get("http_errors"):
        parts.append("HTTP " + _top(row["http_errors"]))
    line = "; ".join(parts)
    if row.get("notes"):
        line += f" [{row['notes']}]"
    return line


def print_report(rows: list[dict], title: str, archive: str, log_path: str | None = None, out=None) -> None:
    """A table on a terminal, plain lines otherwise; then the one-line summaries."""
    out = out or sys.stdout
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{title}: what each source did")
        for col in ("source", "status", "found", "archived", "duplicates", "not archived (why)", "requests",
                    "article pages", "HTTP errors", "title/body/date/authors"):
            table.add_column(col, justify="left" if col in ("source", "status", "not archived (why)",
                                                            "HTTP errors") else "right",
                             no_wrap=col in ("source", "status"))
        for row in rows:
            comp = "/".join("-" if row.get(f"completeness_{f}") is None else f"{row[f'completeness_{f}']:.0%}"
                            for f in ("title", "body", "date", "authors"))
            style = "green" if row["status"] == STATUS_OK else "bold red"
            table.add_row(row["source"], f"[{style}]{row['status']}[/]", str(row["articles_found"]),
                          str(row["articles_archived"]), str(row["duplicates_skipped"]),
                          _top(row["dropped"] or {}, 6) or "-", str(row["requests"]),
                          str(row["article_pages_fetched"]), _top(row["http_errors"] or {}) or "-", comp)
        Console(file=out).print(table)
    for row in rows:
        print(summary_line(row), file=out)
    archived = sum(r["articles_archived"] for r in rows)
    duplicates = sum(r["duplicates_skipped"] for r in rows)
    bad = [r["source"] for r in rows if r["status"] != STATUS_OK]
    print(f"{title}: archived {archived} articles, skipped {duplicates} duplicates, {len(rows)} source(s) "
          f"{'all ok' if not bad else 'NOT OK: ' + ', '.join(bad)}", file=out)
    print(f"archive: {archive}" + (f"   log: {log_path}" if log_path else ""), file=out)
    scrapy = os.path.relpath(os.path.join(os.path.dirname(sys.executable), "scrapy"))
    if not os.path.exists(scrapy):
        scrapy = "scrapy"
    print(f"try: {scrapy} archive runs", file=out)
    print(f"     {scrapy} archive query \"SELECT source, strftime(published_at, '%Y-%m') AS month, count(*) "
          f"FROM articles GROUP BY ALL ORDER BY ALL\"", file=out)
    out.flush()


# ---------------------------------------------------------------- `scrapy archive runs`

class RunsSubcommand:
    """``scrapy archive runs``: the latest runs, one line per source."""

    help = "the latest crawl runs, a row per source: status, found, archived, duplicates, dropped, errors"

    def add_arguments(self, parser):
        parser.add_argument("--last", type=int, default=5, help="how many runs to show (default 5)")
        parser.add_argument("--source", default=None, help="only this source")
        parser.add_argument("--status", default=None, help="only rows with this status (e.g. failed)")
        parser.add_argument("--json", action="store_true", help="print JSON lines (every column)")

    def run(self, archive, opts) -> int:
        con = archive.duckdb()
        where, params = [], []
        if opts.source:
            where.append("source = ?")
            params.append(opts.source)
        if opts.status:
            where.append("status = ?")
            params.append(opts.status)
        cond = ("WHERE " + " AND ".join(where)) if where else ""
        sql = (f"WITH latest AS (SELECT run_id, min(started_at) AS s FROM runs {cond} GROUP BY run_id "
               f"ORDER BY s DESC LIMIT {max(1, int(opts.last))}) "
               f"SELECT r.* FROM runs r JOIN latest USING (run_id) {cond} "
               f"ORDER BY r.started_at DESC, r.source")
        cur = con.execute(sql, params + params)
        columns = [d[0] for d in cur.description]
        rows = [dict(zip(columns, r)) for r in cur.fetchall()]
        for row in rows:
            for key in ("dropped", "http_errors"):
                if isinstance(row.get(key), list):  # DuckDB may hand maps back as key/value lists
                    row[key] = {kv["key"]: kv["value"] for kv in row[key]}
        if opts.json:
            for row in rows:
                print(json.dumps(row, default=str, ensure_ascii=False))
            return 0
        if not rows:
            print("no runs recorded yet")
            return 0
        current = None
        for row in rows:
            if row["run_id"] != current:
                current = row["run_id"]
                print(f"run {current}  started {row['started_at']:%Y-%m-%d %H:%M:%S} UTC")
            print("  " + summary_line(row))
        return 0
