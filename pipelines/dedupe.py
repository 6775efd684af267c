"""Exact dedupe: one row per canonical URL and per normalised text.

Adds ``canonical_url`` (the page's own canonical link when it stays on the
source's domains, else the requested URL), ``article_id``, ``content_hash`` and
``word_count``, then claims both keys in the archive's dedupe state. A page
whose URL or text is already archived (this run, an earlier one, or a
concurrent one) is dropped and recorded in the ``duplicates`` dataset with the
id of the copy that was kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

from scrapy.exceptions import DropItem

from crawler.urls import canonical, on_domains

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")


def normalised_text(text: str) -> str:
    """Case-, accent-composition- and punctuation-insensitive form of a body."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", text or "").casefold()))


def content_hash(body: str) -> str:
    return hashlib.sha256(normalised_text(body).encode("utf-8")).hexdigest()[:32]


def identify(item: dict, source) -> dict:
    """Fill ``canonical_url``, ``article_id``, ``content_hash``, ``word_count`` (pure)."""
    requested = canonical(item["url"], source.strip_params, source.host_aliases)
    page_canonical = (item.get("canonical_url") or "").strip()
    if page_canonical:
        page_canonical = canonical(page_canonical, source.strip_params, source.host_aliases)
    item["canonical_url"] = page_canonical if page_canonical and on_domains(page_canonical, source.domains) else requested
    item["article_id"] = source.article_id(item["canonical_url"])
    item["content_hash"] = content_hash(item.get("body") or "")
    item["word_count"] = len(_WORD.findall(item.get("body") or ""))
    return item


class DedupePipeline:
    """Exact dedupe; for pages fetched with ``-a urls=`` (``force``), versioning instead.

    A forced page whose article is already archived is compared with its newest
    archived version: the same cleaned text is dropped as ``unchanged``; a changed
    text is archived as ``version`` = previous + 1 with the same ``article_id``.
    Nothing archived is ever overwritten.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        spider = self.crawler.spider
        identify(item, spider.source)
        stats = self.crawler.stats
        if item.get("force"):
            previous = spider.session.latest_version(spider.name, item["article_id"])
            if previous is not None:
                version, old_hash = previous
                if old_hash == item["content_hash"]:
                    stats.inc_value("pipeline/dropped/unchanged")
                    raise DropItem(f"unchanged: version {version} of {item['article_id']} has the same text: "
                                   f"{item['url']}")
                owner = spider.session.state.lookup_hash(item["content_hash"])
                if owner is None or owner == item["article_id"]:
                    item["version"] = version + 1
                    spider.session.note_version(item["article_id"], version + 1, item["content_hash"])
                    stats.inc_value("dedupe/new_version")
                    self._note_fields(spider, item)
                    return item
        status, kept = spider.session.claim(item["article_id"], item["content_hash"])
        if status == "new":
            if item.get("force"):
                spider.session.note_version(item["article_id"], 1, item["content_hash"])
            self._note_fields(spider, item)
            return item
        stats.inc_value(f"dedupe/{status}")
        stats.inc_value(f"pipeline/dropped/duplicate_{status}")
        spider.session.accept("duplicates", {
            "article_id": kept,
            "duplicate_url": item["url"],
            "source": item["source"],
            "title": item.get("title"),
            "similarity": 1.0,
            "method": status,
            "run_id": item["run_id"],
            "crawled_at": item["fetched_at"],
        })
        raise DropItem(f"duplicate_{status}: copy of {kept}: {item['url']}")

    @staticmethod
    def _note_fields(spider, item) -> None:
        note = getattr(spider, "note_fields", None)
        if note is not None:
            note(item["url"], bool((item.get("title") or "").strip()), bool((item.get("body") or "").strip()),
                 item.get("published_at") is not None)
