"""Log lines that name the page, not its bytes.

Scrapy's default formatter prints the whole item when one is scraped, dropped
or fails in a pipeline. Our page items carry the raw HTML, so a single drop
would put hundreds of kilobytes into the log: these lines carry the URL and
the reason instead. Drops are INFO (they are counted in the stats and the run
report); pipeline errors stay ERROR.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


def _label(item) -> str:
    if isinstance(item, dict):
        return item.get("url") or item.get("article_id") or "?"
    return type(item).__name__


class PageLogFormatter(LogFormatter):
    def scraped(self, item, response, spider):
        return {"level": logging.DEBUG, "msg": "Archived %(label)s",
                "args": {"label": _label(item)}}

    def dropped(self, item, exception, response, spider):
        level = getattr(exception, "log_level", None) or logging.INFO
        if isinstance(level, str):
            level = getattr(logging, level)
        return {"level": level, "msg": "Dropped %(label)s: %(exception)s",
                "args": {"label": _label(item), "exception": exception}}

    def item_error(self, item, exception, response, spider):
        return {"level": logging.ERROR, "msg": "Error processing %(label)s",
                "args": {"label": _label(item)}}
