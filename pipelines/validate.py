"""Step 4: drop what is not an article, with a counted reason.

``drop_reason(item)`` is the pure check (None = keep); ``ValidatePipeline``
raises :class:`pipelines.dropped.Dropped` (a ``DropItem``), increments the stats key
``pipeline/dropped/<reason>`` and logs the URL at INFO.
"""

from __future__ import annotations

import logging
import re

from pipelines.dropped import Dropped

logger = logging.getLogger(__name__)

MIN_BODY_WORDS = 40
_OG_TYPE = re.compile(r"""<meta[^>]+property=["']og:type["'][^>]+content=["']([^"']+)""", re.I)
NON_ARTICLE_OG_TYPES = {"website", "profile", "video.other", "video.movie", "music.song", "book"}


def drop_reason(item: dict, min_body_words: int = MIN_BODY_WORDS) -> str | None:
    """Why this page is not archived as an article, or None."""
    status = item.get("http_status")
    if status is not None and not (200 <= int(status) < 300):
        return "http_status"
    if not item.get("title"):
        return "no_title"
    body = item.get("body") or ""
    words = len(re.findall(r"\w+", body))
    if words < min_body_words:
        html = item.get("html") or ""
        m = _OG_TYPE.search(html[:20000])
        if m and m.group(1).strip().lower() in NON_ARTICLE_OG_TYPES:
            return "not_article"
        return "body_too_short"
    return None


class ValidatePipeline:
    def __init__(self, stats=None, min_body_words: int = MIN_BODY_WORDS):
        self.stats = stats
        self.min_body_words = min_body_words

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler.settings.getint("VALIDATE_MIN_BODY_WORDS", MIN_BODY_WORDS))

    def process_item(self, item):
        reason = drop_reason(item, self.min_body_words)
        if reason is None:
            return item
        if self.stats is not None:
            self.stats.inc_value(f"pipeline/dropped/{reason}")
        logger.info("dropped %s: %s", reason, item.get("url"))
        raise Dropped(reason, f"{reason}: {item.get('url')}")
