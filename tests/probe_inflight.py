"""A Scrapy extension for tests/test_streaming.py: it watches, from the engine's signals, how many
article requests are out at once (scheduled and not yet through the downloader) and writes the
highest count to the file named by the PROBE_FILE setting when the spider closes."""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals


class InFlightProbe:
    def __init__(self, crawler):
        self.path = Path(crawler.settings.get("PROBE_FILE"))
        self.out = 0
        self.most = 0
        self.scheduled = 0
        crawler.signals.connect(self.scheduled_one, signal=signals.request_scheduled)
        crawler.signals.connect(self.left, signal=signals.request_left_downloader)
        crawler.signals.connect(self.left, signal=signals.request_dropped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def scheduled_one(self, request, spider):
        if request.meta.get("kind") == "article":
            self.out += 1
            self.scheduled += 1
            self.most = max(self.most, self.out)

    def left(self, request, spider):
        if request.meta.get("kind") == "article":
            self.out -= 1

    def closed(self, spider, reason):
        self.path.write_text(json.dumps({"most_out": self.most, "scheduled": self.scheduled}))
