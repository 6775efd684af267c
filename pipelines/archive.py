"""Hand each accepted article to the archive (``storage/``) as one row.

``process_item`` finishes only once the row is durable in the run's journal, so an
article the crawl accepted survives a kill: the row joins the journal's next group
commit (one fsync per ``JOURNAL_GROUP_ROWS`` rows or ``JOURNAL_GROUP_MS``, in
storage's own thread) and the item waits for it without blocking the reactor. A
batch that cannot be fsynced fails its items (``NotDurable``, counted in
``archive/journal_failed``). Publishing to Parquet and the run's manifest happen in
the storage layer (every ``ARCHIVE_FLUSH_ITEMS`` rows and when the run ends).
"""

from __future__ import annotations

import json
import logging

from pipelines.durable import durable
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
    def __init__(self, source, session, stats, flush_items: int = 5000, dry_run: bool = False):
        self.source = source
        self.session = session
        self.stats = stats
        self.flush_items = flush_items
        self.dry_run = dry_run

    @classmethod
    def from_crawler(cls, crawler):
        run = crawler.crawl_run
        return cls(run.source, run.session, crawler.stats, crawler.settings.getint("ARCHIVE_FLUSH_ITEMS", 5000),
                   dry_run=run.dry_run)

    async def process_item(self, item):
        row = to_row(item, self.source)
        stats = self.stats
        if self.dry_run:
            preview = {k: row[k] for k in ("article_id", "url", "title", "published_at", "word_count")}
            print(json.dumps(preview, ensure_ascii=False, default=str), flush=True)
            stats.inc_value("archive/would_archive")
            return {"article_id": row["article_id"], "url": row["url"]}
        await durable(self.session.accept_grouped("articles", row), stats)
        stats.inc_value("archive/articles_accepted")
        run = self.session.run
        # the run's buffer is shared by every crawler of the process (crawlall): count it, not ours
        if run is not None and run.pending_rows >= self.flush_items:
            run.flush()
        # What continues to Scrapy's item signals and exporters: the row, without page bytes.
        return row
