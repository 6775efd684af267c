"""Per-page costs on the bench site's own article pages, each system in its own process.

    python -m benchmarks.perf.micro KIND SITE_FOLDER [--pages N] [--real DIR]   # one JSON object out

Kinds (every one gets the same pages, already in memory, so only the work itself is timed):

``lxml``             ``lxml.html.document_fromstring(raw bytes)``: the floor, one parse per page;
``lxml_str``         the same parse of the decoded ``str`` (what our step 1 parses);
``steps_rules``      ``pipelines.process.process_page`` with the page's source (layout rules), then
                     ``dedupe.identify`` and ``archive.to_row``, each step timed on its own;
``steps_generic``    the same with ``source=None`` for steps 0-4 (no rules: metadata + generic extractor);
``trafilatura``      ``trafilatura.extract(html_str, url=...)``, its defaults;
``generic_vs_trafilatura``  the generic path (``process_page`` with no source: decode, metadata, the
                     ensemble body, cleaning, dates) and ``trafilatura.extract`` on the same pages,
                     alternating page by page in this one process; their ratio is the issue-13 floor
                     (generic path <= 1.3x trafilatura alone);
``peer``             newspaper4k end to end on the page (``Article.download(input_html=...)`` + ``parse()``).
``journal``          accepting ``--pages`` article rows into a run's journal (SITE_FOLDER: a scratch folder on
                     the journal's disk): one fsync per row (``Run.accept``) against the group commit
                     (``Run.accept_grouped``), all rows in flight and a crawl-like window of 32; rows per
                     second, fsyncs, and the accepting thread's own milliseconds per row (the reactor's share).

Reported: pages, pages per second (wall), CPU milliseconds per page, peak resident memory of
the process, and its growth over the loop (the pages themselves are held before it starts).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

WARMUP = 20


def sample_pages(folder: Path, count: int) -> list[dict]:
    """``count`` article pages spread evenly over the world (all three sites, every section)."""
    from benchmarks.perf.sitegen import load

    site = load(folder)
    arts = site.article_targets()
    step = max(1, len(arts) // count)
    pages = []
    for target, source in arts[::step][:count]:
        url = site.base_url + target
        pages.append({"url": url, "response_url": url, "source": source, "raw_body": site.body(target),
                      "content_type": site.content_type(target), "hints": {}})
    return pages


def real_pages(folder: Path) -> list[dict]:
    """The shared real Vietnamese pages (``../shared/data/vn-pages``), with their registered source;
    or, for ``../shared/data/fundus-pages``, the multilingual pages of its pairs.jsonl (no source declared)."""
    from crawler.sources import get_source, source_names
    from storage.urls import on_domains

    if (folder / "pairs.jsonl").exists():
        from benchmarks.eval import load_fundus  # make eval's reader of the same pages

        return [{"url": c.url, "response_url": c.url, "source": "", "raw_body": c.raw,
                 "content_type": "text/html", "hints": {}} for c in load_fundus(folder.parent, None)]
    sources = [get_source(n) for n in source_names() if not n.startswith("demo_")]
    out = []
    for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        raw = (folder / rec["file"]).read_bytes()
        source = next((s.name for s in sources if on_domains(rec["url"], s.domains)), "")
        out.append({"url": rec["url"], "response_url": rec["url"], "source": source, "raw_body": raw,
                    "content_type": "text/html; charset=utf-8", "hints": {}})
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(pages: list[dict], fn, warmed=None) -> dict:
    """``fn`` on every page, timed after a warm-up on the first :data:`WARMUP` pages (first-use imports
    and caches); ``warmed`` is called between the two (to drop what the warm-up recorded)."""
    for page in pages[:WARMUP]:
        fn(page)
    if warmed is not None:
        warmed()
    gc.collect()
    base_rss = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    for page in pages:
        fn(page)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(pages)
    return {"pages": n, "pages_per_s": round(n / wall, 1), "wall_ms_per_page": round(wall / n * 1000, 3),
            "cpu_ms_per_page": round(cpu / n * 1000, 3), "peak_rss_mb": round(_rss_mb(), 1),
            "rss_growth_mb": round(_rss_mb() - base_rss, 1),
            "page_kb_mean": round(sum(len(p["raw_body"]) for p in pages) / n / 1024, 1)}


def _sources(pages: list[dict]) -> dict:
    from crawler.sources import get_source

    base_url = "/".join(pages[0]["url"].split("/", 3)[:3])
    return {name: get_source(name, base_url) for name in {p["source"] for p in pages if p["source"]}}


def _steps(pages: list[dict], generic: bool) -> dict:
    """Every step after the download, timed one by one (same order as ITEM_PIPELINES)."""
    from pipelines.archive import to_row
    from pipelines.clean import clean_fields
    from pipelines.dates import resolve_dates
    from pipelines.decode import decode_html
    from pipelines.dedupe import identify
    from pipelines.extract import extract_fields
    from pipelines.process import process_page
    from pipelines.validate import drop_reason

    try:
        from pipelines.neardup_signature import signature
    except ImportError:                 # the near-dup step is not there (yet)
        signature = None
    from storage.rows import dumps, normalize

    sources = _sources(pages)
    clock = time.process_time
    spent: dict[str, float] = {}

    def add(name, t):
        spent[name] = spent.get(name, 0.0) + t

    def one(page):
        source = sources.get(page["source"])
        rules = None if generic else source
        item = dict(page, fetched_at=None, run_id="bench")
        t = clock()
        item["html"], _ = decode_html(item["raw_body"], item["content_type"])
        t, t0 = clock(), t
        add("decode", t - t0)
        item.update(extract_fields(item["html"], item["url"], rules, item["hints"]))
        t, t0 = clock(), t
        add("extract", t - t0)
        item.update(clean_fields(item))
        t, t0 = clock(), t
        add("clean", t - t0)
        item.update(resolve_dates(item, getattr(rules, "timezone", None)))
        t, t0 = clock(), t
        add("dates", t - t0)
        drop_reason(item)
        t, t0 = clock(), t
        add("validate", t - t0)
        if source is not None:
            identify(item, source)
            t, t0 = clock(), t
            add("dedupe_identify", t - t0)
            if signature is not None:
                signature(item.get("body"))
                t, t0 = clock(), t
                add("neardup_signature", t - t0)
            from datetime import datetime, timezone

            item["fetched_at"] = datetime.now(timezone.utc)
            row = to_row(item, source)
            row["run_id"] = "bench"
            t, t0 = clock(), t
            add("archive_to_row", t - t0)
            dumps({"t": "row", "d": "articles", "r": normalize("articles", row)}).encode("utf-8")
            add("journal_encode", clock() - t)

    out = _timed(pages, one, warmed=spent.clear)  # the warm-up's first-use costs (datasketch's import) are not a step's
    n = len(pages)
    out["cpu_ms_per_step"] = {k: round(v / n * 1000, 3) for k, v in spent.items()}
    # and the composed function the crawl's steps 0-4 are (a check that the steps add up)
    out["process_page"] = _timed(pages, lambda p: process_page(p, None if generic else sources.get(p["source"])))
    return out


def _journal_rows(n: int) -> list[dict]:
    from datetime import datetime, timedelta, timezone

    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    body = "Một câu văn của bài báo về kinh tế Bình Dương tháng mười một. " * 45  # ~2.9 KB, a short article
    return [{"article_id": f"{i:016x}", "version": 1, "url": f"https://bench.example/a/{i}",
             "canonical_url": f"https://bench.example/a/{i}", "source": "demo_alpha", "region": "vn",
             "country": "VN", "language": "vi", "title": f"Tiêu đề {i}", "body": f"{i} {body}",
             "authors": ["Phóng viên"], "tags": ["kinh tế"], "image_captions": [], "published_at": t0,
             "crawled_at": t0 + timedelta(seconds=i), "content_hash": f"{i:032x}", "word_count": 540,
             "field_sources": {"title": "rules"}, "discovered_via": "sitemap", "http_status": 200,
             "run_id": "20261101T000000Z-bench0"} for i in range(n)]


def journal_accept(folder: Path, rows: list[dict], grouped: bool, window: int | None = None,
                   group_rows: int = 100, group_ms: float = 5.0) -> dict:
    """Accept ``rows`` into a fresh run's journal; count the fsyncs of the journal's file."""
    import collections
    import os
    import shutil
    import tempfile

    from storage import open_archive

    scratch = Path(tempfile.mkdtemp(prefix="journal-bench-", dir=folder))
    real_fsync, fsyncs = os.fsync, [0]
    try:
        archive = open_archive(str(scratch / "arc"), journal_dir=scratch / "journal", journal_group_rows=group_rows,
                               journal_group_ms=group_ms)
        run = archive.begin_run(rows[0]["run_id"])
        journal_fd = run.journal._fd

        def counted(fd):
            fsyncs[0] += fd == journal_fd
            real_fsync(fd)

        os.fsync = counted
        t0, c0 = time.perf_counter(), time.thread_time()
        if not grouped:
            for row in rows:
                run.accept("articles", row)
        else:
            in_flight: collections.deque = collections.deque()
            for row in rows:
                in_flight.append(run.accept_grouped("articles", row))
                if window is not None and len(in_flight) >= window:
                    in_flight.popleft().result()
            accepting_cpu = time.thread_time() - c0
            for future in in_flight:
                future.result()
        wall = time.perf_counter() - t0
        if not grouped:
            accepting_cpu = time.thread_time() - c0
        os.fsync = real_fsync
        n = len(rows)
        out = {"rows": n, "rows_per_s": round(n / wall), "wall_s": round(wall, 3), "fsyncs": fsyncs[0],
               "rows_per_fsync": round(n / max(1, fsyncs[0]), 1),
               "accepting_thread_cpu_ms_per_row": round(accepting_cpu / n * 1000, 4)}
        if grouped:
            out.update(group_rows=group_rows, group_ms=group_ms, window=window, batches=run.group.batches)
        run.close()
        return out
    finally:
        os.fsync = real_fsync
        shutil.rmtree(scratch, ignore_errors=True)


def journal(folder: Path, n: int) -> dict:
    """One fsync per row against the group commit, over the same ``n`` rows (after a warm-up)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = _journal_rows(n)
    journal_accept(folder, rows[:200], grouped=False)
    out = {"per_row_fsync": journal_accept(folder, rows, grouped=False),
           "grouped_all_in_flight": journal_accept(folder, rows, grouped=True),
           "grouped_window_32": journal_accept(folder, rows, grouped=True, window=32),
           "grouped_window_32_0ms": journal_accept(folder, rows, grouped=True, window=32, group_ms=0.0),
           "grouped_window_32_20ms": journal_accept(folder, rows, grouped=True, window=32, group_ms=20.0)}
    base = out["per_row_fsync"]["rows_per_s"]
    out["speedup_all_in_flight"] = round(out["grouped_all_in_flight"]["rows_per_s"] / base, 1)
    return out


def _paired(pages: list[dict]) -> dict:
    """CPU ms per page of the generic path and of trafilatura alone, timed page by page in turn (a
    busy machine slows both alike). trafilatura gets the decoded ``str`` (it decodes nothing we
    would count); the generic path gets the bytes, as the crawl does."""
    import trafilatura

    from pipelines.process import process_page

    for p in pages:
        p["html_str"] = p["raw_body"].decode("utf-8", errors="replace")
    systems = {"generic": lambda p: process_page({k: v for k, v in p.items() if k != "html_str"}, None),
               "trafilatura": lambda p: trafilatura.extract(p["html_str"], url=p["url"])}
    spent = dict.fromkeys(systems, 0.0)
    for p in pages[:WARMUP]:
        for fn in systems.values():
            fn(p)
    for p in pages:
        for name, fn in systems.items():
            c0 = time.process_time()
            fn(p)
            spent[name] += time.process_time() - c0
    n = len(pages)
    out = {"pages": n, "page_kb_mean": round(sum(len(p["raw_body"]) for p in pages) / n / 1024, 1),
           "peak_rss_mb": round(_rss_mb(), 1), "trafilatura_version": trafilatura.__version__}
    for name, total in spent.items():
        out[f"{name}_cpu_ms_per_page"] = round(total / n * 1000, 3)
    out["cpu_ms_per_page"] = out["generic_cpu_ms_per_page"]
    out["pages_per_s"] = round(1000 / out["cpu_ms_per_page"], 1)
    out["generic_over_trafilatura"] = round(spent["generic"] / spent["trafilatura"], 3)
    return out


def run(kind: str, pages: list[dict]) -> dict:
    if kind == "lxml":
        import lxml.html

        return _timed(pages, lambda p: lxml.html.document_fromstring(p["raw_body"]))
    if kind == "lxml_str":
        import lxml.html

        for p in pages:
            p["html"] = p["raw_body"].decode("utf-8", errors="replace")
        return _timed(pages, lambda p: lxml.html.document_fromstring(p["html"]))
    if kind in ("steps_rules", "steps_generic"):
        return _steps(pages, generic=kind == "steps_generic")
    if kind == "trafilatura":
        import trafilatura

        for p in pages:
            p["html"] = p["raw_body"].decode("utf-8", errors="replace")
        out = _timed(pages, lambda p: trafilatura.extract(p["html"], url=p["url"]))
        out["version"] = trafilatura.__version__
        return out
    if kind == "generic_vs_trafilatura":
        return _paired(pages)
    if kind == "peer":
        import warnings

        peer_dir = Path(sys.executable).parents[1] / "bench-peer"     # see benchmarks/requirements.txt
        if peer_dir.is_dir():
            sys.path.append(str(peer_dir))

        warnings.filterwarnings("ignore")
        import newspaper

        def np4k(p):
            art = newspaper.Article(p["url"], language="vi", fetch_images=False)
            art.download(input_html=p["raw_body"].decode("utf-8", errors="replace"))
            art.parse()
            return art.text

        out = _timed(pages, np4k)
        out["system"] = f"newspaper4k {newspaper.__version__}"
        return out
    raise SystemExit(f"unknown kind {kind!r}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="One per-page cost measurement (JSON on stdout).")
    parser.add_argument("kind")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--real", type=Path, default=None,
                        help="measure on ../shared/data/vn-pages (or fundus-pages) instead")
    args = parser.parse_args(argv)
    if args.kind == "journal":  # no pages: rows into a journal under FOLDER
        result = journal(args.folder, args.pages)
        result["kind"] = args.kind
        json.dump(result, sys.stdout)
        return
    if args.real:
        pages = real_pages(args.real)
        pages = [dict(p) for _ in range(max(1, args.pages // len(pages))) for p in pages]
    else:
        pages = sample_pages(args.folder, args.pages)
    result = run(args.kind, pages)
    result["kind"] = args.kind
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
