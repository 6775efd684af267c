"""Size and time of ``scrapy archive report`` (crawler/archivereport.py + crawler/reporthtml.py).

    python -m benchmarks.perf.archive_report --archive PATH          # an existing archive (e.g. make demo's)
    python -m benchmarks.perf.archive_report --synthetic DIR [--articles 1000000]

``--synthetic`` writes (once; reused when DIR already holds it) the 1M-article archive of
``benchmarks/perf/queries.py`` and adds what a year of nightly crawls would have left beside it: one
``runs`` row per source and day (articles archived = that day's articles) and ~1 % of articles as
syndicated copies in ``duplicates``, all through the project's own Parquet writer. Prints JSON: bytes
of the page, seconds to collect (DuckDB) and in all, the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def add_runs_and_duplicates(root: Path) -> dict:
    import duckdb
    import numpy as np
    import pyarrow as pa

    from benchmarks.perf.queries import SOURCES
    from storage.parquet import sort_table, write_file
    from storage.schema import DUPLICATE_SCHEMA, RUN_SCHEMA

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    glob = f"read_parquet('{root}/articles/**/*.parquet')"
    per_day = con.execute(f"SELECT source, run_id, count(*), min(crawled_at) FROM {glob} GROUP BY ALL ORDER BY 2, 1"
                          ).fetchall()
    by_month: dict[str, list[dict]] = {}
    for source, run_id, n, crawled in per_day:
        started = datetime.strptime(run_id[:15], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        by_month.setdefault(f"{started:%Y-%m}", []).append({
            "run_id": run_id, "source": source, "started_at": started, "finished_at": started + timedelta(minutes=20),
            "status": "ok", "requests": n * 2, "article_pages_fetched": n, "articles_found": n + 3,
            "articles_archived": n, "duplicates_skipped": 2, "dropped": {"already_archived": 1},
            "http_errors": {"404": 1}, "completeness_title": 1.0, "completeness_body": 1.0,
            "completeness_date": 1.0, "bytes_downloaded": n * 90_000, "duration_s": 1200.0,
            "publish_delay_s": None, "crawler_version": "bench", "notes": ""})
    files = 0
    for month, rows in by_month.items():
        folder = root / "runs" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        table = sort_table("runs", pa.Table.from_pylist(rows, schema=RUN_SCHEMA))
        write_file(table, str(folder / "part-bench-runs.parquet"), "runs")
        files += 1
    kept = con.execute(f"SELECT article_id, source, title, crawled_at FROM {glob} USING SAMPLE 1 PERCENT (bernoulli, 7)"
                       ).fetchall()
    rng = np.random.default_rng(7)
    dups: dict[tuple[str, str], list[dict]] = {}
    for article_id, source, title, crawled in kept:
        copier = SOURCES[int(rng.integers(0, len(SOURCES)))]
        if copier == source:
            continue
        dups.setdefault((copier, f"{crawled:%Y-%m}"), []).append({
            "article_id": article_id, "duplicate_url": f"https://{copier}.vn/copy/{article_id}.html", "source": copier,
            "title": title, "similarity": 1.0, "method": "exact" if rng.random() < 0.7 else "near",
            "run_id": "bench", "crawled_at": crawled + timedelta(hours=3)})
    for (copier, month), rows in dups.items():
        folder = root / "duplicates" / f"site={copier}" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        table = sort_table("duplicates", pa.Table.from_pylist(rows, schema=DUPLICATE_SCHEMA))
        write_file(table, str(folder / "part-bench-0.parquet"), "duplicates")
    return {"runs_rows": len(per_day), "runs_files": files, "duplicates": sum(len(r) for r in dups.values())}


def measure(archive_path: Path, days: int, repeats: int) -> dict:
    from crawler.archivereport import write
    from storage import open_archive

    archive = open_archive(str(archive_path))
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            runs.append(write(archive, str(Path(tmp) / "report.html"), days=days))
    return {"archive": str(archive_path), "days": days, "repeats": repeats, "bytes": runs[-1]["bytes"],
            "sources": runs[-1]["sources"],
            "collect_s": round(statistics.median(r["collect_s"] for r in runs), 3),
            "total_s": round(statistics.median(r["total_s"] for r in runs), 3),
            "first_total_s": round(runs[0]["total_s"], 3)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Size and time of scrapy archive report.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--archive", type=Path, help="an existing archive")
    where.add_argument("--synthetic", type=Path, help="folder of the synthetic archive (written if missing)")
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    out = {}
    if args.synthetic:
        root = args.synthetic
        if not (root / "articles").is_dir():
            from benchmarks.perf.queries import generate

            t0 = time.monotonic()
            out["generated"] = generate(root, args.articles)
            out["generated"].update(add_runs_and_duplicates(root))
            out["generated"]["total_s"] = round(time.monotonic() - t0, 1)
        archive_path = root
    else:
        archive_path = args.archive
    out["report"] = measure(archive_path, args.days, args.repeats)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
