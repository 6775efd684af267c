"""Steps 0-4 and the window, and dedupe's identify, as one item pipeline entry: one task per item.

Scrapy runs each item pipeline entry as its own step of the item's chain (its own Deferred and,
for a coroutine, its own task), so the nine entries cost more around our steps than in some of
them. The steps that need nothing but the page and the crawl's arguments (decode, extract, clean,
dates, validate, window, and the ids and hashes of dedupe's :func:`~pipelines.dedupe.identify`)
run here one after the other: the same stage objects, in the same order, as when each is an entry
of its own, so both ways give the same fields and the same drops. The steps that consult the run's
state (exact dedupe, near-duplicates, the archive) stay entries of their own.

Each step's time is counted in ``pipeline/ms/<step>`` (for the benchmarks' profile).
"""

from __future__ import annotations

import time

from pipelines.clean import CleanPipeline
from pipelines.dates import DatesPipeline
from pipelines.decode import DecodePipeline
from pipelines.dedupe import identify
from pipelines.extract import ExtractPipeline
from pipelines.validate import ValidatePipeline
from pipelines.window import WindowPipeline


class _Identify:
    def __init__(self, source):
        self.source = source

    def process_item(self, item):
        return identify(item, self.source)


class PagePipeline:
    """Runs ``steps`` (``(name, stage)`` pairs with a synchronous ``process_item``) in order.

    A stage's ``Dropped`` ends the item there, as it would between separate entries."""

    def __init__(self, steps, stats=None):
        self.steps = list(steps)
        self.stats = stats
        self._ms = {name: 0.0 for name, _ in self.steps}
        self._items = 0

    @classmethod
    def from_crawler(cls, crawler):
        run = crawler.crawl_run
        steps = [
            ("decode", DecodePipeline.from_crawler(crawler)),
            ("extract", ExtractPipeline.from_crawler(crawler)),
            ("clean", CleanPipeline.from_crawler(crawler)),
            ("dates", DatesPipeline.from_crawler(crawler)),
            ("validate", ValidatePipeline.from_crawler(crawler)),
            ("window", WindowPipeline.from_crawler(crawler)),
            ("identify", _Identify(run.source)),
        ]
        return cls(steps, crawler.stats)

    def process_item(self, item):
        ms = self._ms
        clock = time.perf_counter
        try:
            for name, stage in self.steps:
                started = clock()
                try:
                    item = stage.process_item(item)
                finally:
                    ms[name] += (clock() - started) * 1000
        finally:
            self._items += 1
        return item

    def close_spider(self):
        if self.stats is None:
            return
        for name, total in self._ms.items():
            self.stats.set_value(f"pipeline/ms/{name}", round(total, 1))
        self.stats.set_value("pipeline/items", self._items)
