"""Keep only articles inside a rerun's ``-a since/until`` window.

Discovery already skips entries whose feed or sitemap date falls outside the
window; this step decides on the article's own parsed ``published_at`` (in the
source's time zone), which discovery does not know for listing pages.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from scrapy.exceptions import DropItem


def outside_window(published_at, tz: str, since: date | None, until: date | None) -> bool:
    if published_at is None or not (since or until):
        return False
    day = published_at.astimezone(ZoneInfo(tz)).date()
    return bool((since and day < since) or (until and day > until))


class WindowPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        spider = self.crawler.spider
        if outside_window(item.get("published_at"), spider.source.timezone,
                          getattr(spider, "since", None), getattr(spider, "until", None)):
            self.crawler.stats.inc_value("pipeline/dropped/outside_window")
            raise DropItem(f"outside_window: published {item['published_at']:%Y-%m-%d}: {item['url']}")
        return item
