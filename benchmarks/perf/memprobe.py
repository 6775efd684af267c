"""Where a full crawl's memory goes: the bench crawl run in-process under ``tracemalloc``.

    python -m benchmarks.perf.memprobe SITE_FOLDER WORKDIR        # a diagnostic, not part of make bench

Runs the demo sources like ``scrapy crawlall`` does (one process, one crawler per source, the
bench settings of :mod:`.crawl`), samples every 5 s the resident memory and the sizes of the
structures that grow with the crawl (scheduler queue, spider bookkeeping, rows waiting for the
next Parquet flush, live Requests/Responses), and at the highest RSS keeps a ``tracemalloc``
snapshot whose top allocation sites it prints at the end. Slower than a real crawl (tracemalloc).
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path


def main(folder: Path, workdir: Path) -> None:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils import trackref
    from scrapy.utils.project import get_project_settings
    from twisted.internet import task

    from benchmarks.perf.crawl import BENCH_SETTINGS, _rss_kb
    from benchmarks.perf.sitegen import load
    from crawler.sources import source_names

    site = load(folder)
    os.environ["ARCHIVE_URI"] = str(workdir / "archive-memprobe")
    os.environ["ARCHIVE_JOURNAL_DIR"] = str(workdir / "journal-memprobe")
    settings = get_project_settings()
    settings.setdict(dict(BENCH_SETTINGS, DEMO_BASE_URL=site.base_url, PROGRESS="off", LOG_LEVEL="WARNING"),
                     priority="cmdline")
    tracemalloc.start(3)
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(n) for n in source_names() if n.startswith("demo_")]
    for c in crawlers:
        process.crawl(c)
    best = {"rss": 0, "snap": None}
    t0 = time.monotonic()

    def sample():
        rss = _rss_kb(os.getpid()) // 1024
        parts = []
        for c in crawlers:
            spider, engine = c.spider, c.engine
            if spider is None or engine is None or getattr(engine, "_slot", None) is None:
                continue
            sched = engine._slot.scheduler
            run = getattr(getattr(spider, "session", None), "run", None)
            parts.append(f"{spider.name[:12]}: queue {len(sched)} found {len(spider.found)} "
                         f"outcomes {len(spider.outcome)} rows-unflushed {len(getattr(run, '_rows', []) or [])}")
        live = {cls.__name__: len(refs) for cls, refs in trackref.live_refs.items() if refs}
        print(f"{time.monotonic() - t0:6.0f}s RSS {rss} MB | {' | '.join(parts)} | live {live}", flush=True)
        if rss > best["rss"]:
            best["rss"], best["snap"] = rss, tracemalloc.take_snapshot()

    loop = task.LoopingCall(sample)
    loop.start(5.0, now=False)
    process.start()
    if best["snap"] is not None:
        print(f"\ntop allocation sites at the highest RSS ({best['rss']} MB):")
        for stat in best["snap"].statistics("traceback")[:25]:
            frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback)
            print(f"  {stat.size / 1048576:7.1f} MB {stat.count:9,d} blocks  {frames}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
