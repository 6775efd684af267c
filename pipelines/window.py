"""Keep only articles inside a rerun's ``-a since/until`` window.

Discovery already skips entries whose feed or sitemap date falls outside the
window; this step decides on the article's own parsed ``published_at`` (in the
source's time zone), which discovery does not know for listing pages.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pipelines.dropped import Dropped


def outside_window(published_at, tz: str, since: date | None, until: date | None) -> bool:
    if published_at is None or not (since or until):
        return False
    day = published_at.astimezone(ZoneInfo(tz)).date()
    return bool((since and day < since) or (until and day > until))


class WindowPipeline:
    def __init__(self, timezone: str, since: date | None = None, until: date | None = None, stats=None):
        self.timezone = timezone
        self.since = since
        self.until = until
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        run = crawler.crawl_run
        return cls(run.source.timezone, run.since, run.until, crawler.stats)

    def process_item(self, item):
        if outside_window(item.get("published_at"), self.timezone, self.since, self.until):
            if self.stats is not None:
                self.stats.inc_value("pipeline/dropped/outside_window")
            raise Dropped("outside_window", f"outside_window: published {item['published_at']:%Y-%m-%d}: {item['url']}")
        return item
