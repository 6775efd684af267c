"""The archive run's life for one crawler: opened when the crawler is made, committed when it closes.

Every crawler of a process shares one run (:func:`crawler.session.acquire`, keyed by archive
and run id): ``scrapy crawlall`` makes one run with one manifest. When the crawler is made
(after its spider, before its engine and item pipelines) this extension acquires the session,
loads the seen-URL state (after completing what recovery left, see
:meth:`~crawler.session.ArchiveSession.load_seen`) and the earlier runs, and puts the session
on the crawler's :class:`~pipelines.context.CrawlRun`. When the spider has closed (its
``closed`` has added the run report row and set ``CrawlRun.summary``) it releases the session:
the last crawler to release it commits the run.
"""

from __future__ import annotations

from scrapy import signals

from crawler.memory import freeze_startup, tune_allocator, tune_gc
from crawler.session import acquire, release


class ArchiveRun:
    def __init__(self, crawler, run):
        self.crawler = crawler
        self.run = run

    @classmethod
    def from_crawler(cls, crawler):
        run = crawler.crawl_run  # made by the spider (crawler/spiders/news.py)
        tune_allocator(crawler.settings)  # once per process (crawler/memory.py)
        tune_gc(crawler.settings)
        session = acquire(crawler.settings, dry_run=run.dry_run)
        session.sources.append(run.name)
        if run.wrap_claims is not None:
            session.wrap_claims(run.wrap_claims)
        session.load_seen()
        session.last_full_run(run.name)  # read the runs dataset now, not in a callback
        run.session = session
        ext = cls(crawler, run)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self):
        freeze_startup()  # the crawler's components are built: they live as long as the crawl

    def spider_closed(self, spider, reason):
        manifest = release(self.run.session, self.run.summary)
        if manifest is not None:
            self.crawler.stats.set_value("archive/manifest", manifest.get("run_id", ""))
