"""Hand each accepted article to the archive (``storage/``) as one row.

The row is journaled before ``process_item`` returns, so an article the crawl
accepted survives a kill; publishing to Parquet and the run's manifest happen in
the storage layer (every ``ARCHIVE_FLUSH_ITEMS`` rows and when the run ends).
"""

from __future__ import annotations

import json
import logging

from storage.schema import ARTICLE_SCHEMA

logger = logging.getLogger(__name__)

ROW_FIELDS = tuple(ARTICLE_SCHEMA.names)


def to_row(item: dict, source) -> dict:
    row = {name: item.get(name) for name in ROW_FIELDS}
    row["version"] = item.get("version") or 1
    row["region"] = source.region
    row["country"] = source.country
    row["language"] = item.get("language") or source.language
    row["crawled_at"] = item["fetched_at"]
    for name in ("authors", "tags", "image_captions"):
        row[name] = list(row.get(name) or [])
    row["field_sources"] = dict(item.get("field_sources") or {})
    return row


class ArchivePipeline:
    def __init__(self, crawler, flush_items: int):
        self.crawler = crawler
        self.flush_items = flush_items

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getint("ARCHIVE_FLUSH_ITEMS", 5000))

    def process_item(self, item):
        spider = self.crawler.spider
        row = to_row(item, spider.source)
        stats = self.crawler.stats
        if spider.dry_run:
            preview = {k: row[k] for k in ("article_id", "url", "title", "published_at", "word_count")}
            print(json.dumps(preview, ensure_ascii=False, default=str), flush=True)
            stats.inc_value("archive/would_archive")
            return {"article_id": row["article_id"], "url": row["url"]}
        spider.session.accept("articles", row)
        stats.inc_value("archive/articles_accepted")
        run = spider.session.run
        # the run's buffer is shared by every crawler of the process (crawlall): count it, not ours
        if run is not None and run.pending_rows >= self.flush_items:
            run.flush()
        # What continues to Scrapy's item signals and exporters: the row, without page bytes.
        return row
