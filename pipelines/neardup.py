"""Step 6: near-duplicate (syndicated) copies.

Provincial portals and newspapers republish one wire or press-office story with
their own headline, lead, captions, credit line and page furniture. The exact
dedupe of step 5 misses these copies; this step catches them and leaves alone
two outlets' own stories about the same event.

How a copy is told from two outlets' own stories (sentence units, with a MinHash estimate beside
them) and the functions that decide it are :mod:`pipelines.neardup_signature` (pure, used by the
crawl, the benchmark and the tests alike); thresholds and their evidence: ``docs/NEARDUP.md``
and ``benchmarks/neardup_eval.py``.

:class:`NearDupPipeline` (after ``pipelines.dedupe.DedupePipeline``) queries the
archive's persistent index (:mod:`pipelines.neardup_index`: candidates are the
articles sharing a sentence unit); the first-archived copy stays in ``articles``,
every later copy is dropped and recorded in the ``duplicates`` dataset with
``method = "near"``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from scrapy.exceptions import NotConfigured

from pipelines.dropped import Dropped
from pipelines.durable import durable
from pipelines.neardup_index import NearDupIndex
from pipelines.neardup_signature import DEFAULT, Params, signature
from storage.rows import duplicate_row

logger = logging.getLogger(__name__)


# ====================================================================== the Scrapy stage
class _Shared:
    """One index per archive session: every crawler of a ``scrapy crawlall`` process shares it."""

    def __init__(self, index, dry_run: bool):
        self.index = index
        self.dry_run = dry_run
        self.users = 0
        self.meta: dict[str, dict] = {}  # pending article id -> what a duplicates row needs
        self.last_publish = time.monotonic()
        self.retry_at = 0.0  # after a failed publish, not before this (time.monotonic())


_shared_lock = threading.Lock()
_shared: dict[tuple, _Shared] = {}


def _duplicate_row(kept: str, sim: float, meta: dict) -> dict:
    return duplicate_row(kept, meta["url"], meta["source"], meta.get("title"), round(sim, 4), "near",
                         meta["run_id"], meta["crawled_at"])


class NearDupPipeline:
    """Drops near-duplicate copies of an already archived story, recording them in ``duplicates``.

    Settings: ``NEARDUP_ENABLED`` (default True), ``NEARDUP_SHARE`` (default ``DEFAULT.share``),
    ``NEARDUP_THRESHOLD`` (default ``DEFAULT.threshold``), ``NEARDUP_MIN_SHINGLES``,
    ``NEARDUP_PUBLISH_ITEMS`` /
    ``NEARDUP_PUBLISH_SECONDS`` (publish this run's index segment after so many new articles or
    seconds, and at the end), ``NEARDUP_REFRESH_SECONDS`` (read segments other runs published).
    """

    def __init__(self, session, stats, params: Params = DEFAULT, publish_items: int = 2000,
                 publish_seconds: float = 300.0, refresh_seconds: float = 30.0):
        self.session = session
        self.stats = stats
        self.params = params
        self.publish_items = publish_items
        self.publish_seconds = publish_seconds
        self.refresh_seconds = refresh_seconds
        self.shared: _Shared | None = None
        self._key = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("NEARDUP_ENABLED", True):
            raise NotConfigured("NEARDUP_ENABLED is off")
        threshold = s.getfloat("NEARDUP_THRESHOLD", DEFAULT.threshold)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"NEARDUP_THRESHOLD must be in (0, 1], got {threshold!r}")
        share_at = s.getfloat("NEARDUP_SHARE", DEFAULT.share)
        if not 0.0 < share_at <= 1.0:
            raise ValueError(f"NEARDUP_SHARE must be in (0, 1], got {share_at!r}")
        params = replace(DEFAULT, threshold=threshold, share=share_at,
                         min_shingles=s.getint("NEARDUP_MIN_SHINGLES", DEFAULT.min_shingles))
        return cls(crawler.crawl_run.session, crawler.stats, params,
                   publish_items=s.getint("NEARDUP_PUBLISH_ITEMS", 2000),
                   publish_seconds=s.getfloat("NEARDUP_PUBLISH_SECONDS", 300.0),
                   refresh_seconds=s.getfloat("NEARDUP_REFRESH_SECONDS", 30.0))

    # ------------------------------------------------------------------ lifecycle
    def open_spider(self):
        session = self.session
        self._key = (session.uri, session.run_id, bool(session.dry_run), self.params)
        with _shared_lock:
            shared = _shared.get(self._key)
            if shared is None:
                index = NearDupIndex(session.archive.backend, self.params, owner="neardup")
                index.refresh()
                # rows a killed run left, published by recovery without their index entries
                index.catch_up(session.archive, write=not session.dry_run)
                shared = _shared[self._key] = _Shared(index, bool(session.dry_run))
                logger.info("near-duplicate index: %d articles in %d segments", len(index), len(index.segments))
                if not len(index) and (others := index.other_indexes()):
                    logger.warning("the near-duplicate index %s is empty but the archive holds %s (another format or "
                                   "parameters, not read): run `scrapy archive duplicates --reindex` so that copies "
                                   "of stories archived before are found", index.prefix, ", ".join(others))
            shared.users += 1
        self.shared = shared

    def close_spider(self):
        with _shared_lock:
            self.shared.users -= 1
            last = self.shared.users <= 0
            if last:
                _shared.pop(self._key, None)
        if last:
            self._publish()

    # ------------------------------------------------------------------ items
    async def process_item(self, item):
        started = time.perf_counter()
        stats = self.stats
        shared = self.shared
        sig = signature(item.get("body"), self.params)
        if sig.shingles < self.params.min_shingles:
            stats.inc_value("neardup/skipped_short")
            return item
        index = shared.index
        if time.monotonic() - index.last_refresh >= self.refresh_seconds:
            new = index.refresh()
            if new:
                stats.inc_value("neardup/segments_read", len(new))
        match = index.lookup(sig, exclude=item["article_id"])
        stats.inc_value("neardup/checked")
        if match is not None:
            ticket = self.session.accept_grouped("duplicates", _duplicate_row(match.article_id, match.similarity,
                                                                              _meta(item)))
            stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
            await durable(ticket, stats)  # the drop only once its duplicates row is durable
            stats.inc_value("neardup/near")
            stats.inc_value("pipeline/dropped/duplicate_near")
            raise Dropped("duplicate_near", f"duplicate (near, {match.similarity:.2f}) of {match.article_id}: "
                          f"{item['url']}", kept=match.article_id, similarity=match.similarity)
        index.add(item["article_id"], sig)
        shared.meta[item["article_id"]] = _meta(item)
        stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
        now = time.monotonic()
        if now >= shared.retry_at and (len(index.pending) >= self.publish_items
                                       or now - shared.last_publish >= self.publish_seconds):
            self._publish()
        return item

    def _publish(self) -> None:
        shared, stats, session = self.shared, self.stats, self.session
        if shared.dry_run:
            return
        try:
            late = shared.index.publish(session.run_id)
        except Exception as exc:  # noqa: BLE001 - the articles are safe in the run's journal
            stats.inc_value("neardup/publish_failed")
            shared.retry_at = time.monotonic() + self.publish_seconds  # not again at every item
            logger.error("could not publish the near-duplicate index (%d articles kept for the next try; "
                         "`scrapy archive duplicates --reindex` adds any that are lost): %s",
                         len(shared.index.pending), exc)
            return
        for article_id, match in late:
            # Archived here while a concurrent run archived the same story first: its row is
            # already journaled in ``articles``; the pair is recorded so analysts see it.
            meta = shared.meta.get(article_id)
            if meta is not None:
                session.accept("duplicates", _duplicate_row(match.article_id, match.similarity, meta))
            stats.inc_value("neardup/late")
            logger.warning("near-duplicate found at publish (concurrent run): %s copies %s", article_id,
                           match.article_id)
        shared.meta.clear()
        shared.last_publish = time.monotonic()


def _meta(item: dict) -> dict:
    return {"url": item["url"], "source": item["source"], "title": item.get("title"),
            "run_id": item["run_id"], "crawled_at": item["fetched_at"]}
