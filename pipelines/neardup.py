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
articles sharing a sentence unit). A copy of an article already archived (an earlier
run, or a segment of this run already published) is dropped at once and recorded in
the ``duplicates`` dataset with ``method = "near"``. Copies among this run's own
articles are not decided in crawl order: when a segment of the run is published,
:class:`Resolver` takes its articles in storage's fixed order
(:func:`storage.publish.keep_order`: the first published is kept) and the others go
to ``duplicates``, so the same pages give the same archive however they were fetched.
"""

from __future__ import annotations

import logging
import secrets
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
class Resolver:
    """The near-duplicate decisions of a run's segments (``storage.run.Run.set_resolver``).

    ``begin()`` gives one segment's ``match(row)`` / ``keep(row)``: a row is a copy of the most
    similar article of the index (archived) or of the segment's rows kept before it. ``kept(rows)``
    adds a published segment's articles to the index (published with the run's next index segment).
    """

    def __init__(self, index, params: Params = DEFAULT, meta: dict | None = None):
        self.index = index
        self.p = params
        self.meta = meta  # article id -> what a late copy's duplicates row needs (the stage's)
        # (signature, index generation of its lookup) computed in the crawl, until decided
        self.signatures: dict[tuple[str, str], tuple] = {}
        self._deciding: _Segment | None = None  # the segment being decided (begin() .. kept())
        self._mutex = threading.Lock()

    def remember(self, article_id: str, content_hash: str, sig, generation: int | None = None) -> None:
        """The crawl's signature of an article, and the index generation at which its lookup
        found no copy (None: not looked up)."""
        with self._mutex:
            self.signatures[(article_id, content_hash)] = (sig, generation)

    def signature_of(self, row: dict):
        return self._take(row)[0]

    def _take(self, row: dict) -> tuple:
        """``(signature, generation)`` of ``row``: the crawl's, else computed (generation None)."""
        with self._mutex:
            got = self.signatures.pop((row["article_id"], row["content_hash"]), None)
        return got if got is not None else (signature(row.get("body"), self.p), None)

    def begin(self) -> "_Segment":
        self.index.refresh()  # what other runs published: decided against too
        self._deciding = _Segment(self)
        return self._deciding

    def kept(self, rows: list[dict], copies=()) -> None:
        """A segment is published: its kept ``rows`` join the index; ``copies`` are done with."""
        with self._mutex:
            for row in copies:
                self.signatures.pop((row["article_id"], row["content_hash"]), None)
        # the signatures the segment's decision computed or took over (begin()): not computed twice
        deciding, self._deciding = self._deciding, None
        for row in rows:
            if (row.get("version") or 1) > 1:
                continue
            sig = (deciding.signature_known(row) if deciding is not None else None) or self.signature_of(row)
            if sig.shingles >= self.p.min_shingles:
                self.index.add(row["article_id"], sig)
                if self.meta is not None:
                    self.meta[row["article_id"]] = _meta(row)

    def publish(self, run_id: str, accept=None) -> int:
        """Publish the index entries of the run's published articles. An article a concurrent run
        archived first (a late copy) is recorded with ``accept("duplicates", row)`` when given."""
        late = self.index.publish(run_id)
        for article_id, match in late:
            meta = (self.meta or {}).get(article_id)
            if accept is not None and meta is not None:
                accept("duplicates", _duplicate_row(match.article_id, match.similarity, meta))
            logger.warning("near-duplicate found at publish (concurrent run): %s copies %s", article_id,
                           match.article_id)
        if self.meta is not None:
            self.meta.clear()
        return len(late)


class _Segment:
    def __init__(self, resolver: Resolver):
        self.r = resolver
        self.local = NearDupIndex(None, resolver.p)  # this segment's kept rows
        self.sigs: dict[int, tuple] = {}  # id(row) -> (article id, content hash, signature, generation)

    def _sig(self, row):
        got = self.sigs.get(id(row))
        if got is None or got[0] != row["article_id"] or got[1] != row["content_hash"]:
            got = self.sigs[id(row)] = (row["article_id"], row["content_hash"], *self.r._take(row))
        return got[2], got[3]

    def signature_known(self, row):
        """The signature of ``row`` this segment's decision used, or None (a row it did not see)."""
        got = self.sigs.get(id(row))
        if got is None or got[0] != row["article_id"] or got[1] != row["content_hash"]:
            return None
        return got[2]

    def match(self, row):
        sig, generation = self._sig(row)
        if sig.shingles < self.r.p.min_shingles:
            return None
        aid, index = row["article_id"], self.r.index
        # the crawl's lookup found no copy among the articles indexed then: only newer ones can be
        archived = index.lookup(sig, aid) if generation is None else index.lookup_since(sig, aid, generation)
        found = [m for m in (archived, self.local.lookup(sig, exclude=aid)) if m is not None]
        if not found:
            return None
        best = max(found, key=lambda m: m.similarity)
        return best.article_id, best.similarity

    def keep(self, row) -> None:
        sig, _ = self._sig(row)
        if sig.shingles >= self.r.p.min_shingles:
            self.local.add(row["article_id"], sig)


def recovery_resolver(params: Params = DEFAULT):
    """``Archive.resolver_factory`` for the runs a crawl recovers: their copies decided as their
    crawl would have, their articles indexed."""
    def make(archive):
        index = NearDupIndex(archive.backend, params, owner="neardup")
        index.refresh()
        index.catch_up(archive)
        return Resolver(index, params)
    return make


def params_from_settings(s) -> Params:
    """``NEARDUP_THRESHOLD`` / ``NEARDUP_SHARE`` / ``NEARDUP_MIN_SHINGLES``, checked."""
    threshold = s.getfloat("NEARDUP_THRESHOLD", DEFAULT.threshold)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"NEARDUP_THRESHOLD must be in (0, 1], got {threshold!r}")
    share_at = s.getfloat("NEARDUP_SHARE", DEFAULT.share)
    if not 0.0 < share_at <= 1.0:
        raise ValueError(f"NEARDUP_SHARE must be in (0, 1], got {share_at!r}")
    return replace(DEFAULT, threshold=threshold, share=share_at,
                   min_shingles=s.getint("NEARDUP_MIN_SHINGLES", DEFAULT.min_shingles))


class _Shared:
    """One index per archive session: every crawler of a ``scrapy crawlall`` process shares it."""

    def __init__(self, index, dry_run: bool):
        self.index = index
        self.dry_run = dry_run
        self.users = 0
        self.meta: dict[str, dict] = {}  # pending article id -> what a duplicates row needs
        self.resolver: Resolver | None = None
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
        params = params_from_settings(s)
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
                run = session.run
                if run is not None:  # the run's own copies are decided when a segment is published
                    if run.resumed:  # continuing a killed run: what its process published, indexed
                        index.part = secrets.token_hex(3) + "-"
                        index.catch_up_run(session.archive, run.run_id, run.published_files())
                    shared.resolver = Resolver(index, self.params, shared.meta)
                    run.set_resolver(shared.resolver)
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
        generation = index.generation  # read first: what joins during the lookup is looked at again
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
        if shared.resolver is not None:  # decided with the run's other articles when published
            shared.resolver.remember(item["article_id"], item.get("content_hash", ""), sig, generation)
        else:  # a dry run: first come, first kept
            index.add(item["article_id"], sig)
        stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
        now = time.monotonic()
        if now >= shared.retry_at and (len(index.pending) >= self.publish_items
                                       or now - shared.last_publish >= self.publish_seconds):
            self._publish()
        return item

    def _publish(self) -> None:
        shared, stats, session = self.shared, self.stats, self.session
        if shared.dry_run or shared.resolver is None:
            return
        try:
            # an article archived here while a concurrent run archived the same story first is
            # recorded in duplicates too, so analysts see the pair (Resolver.publish)
            late = shared.resolver.publish(session.run_id, session.accept)
        except Exception as exc:  # noqa: BLE001 - the articles are safe in the run's journal
            stats.inc_value("neardup/publish_failed")
            shared.retry_at = time.monotonic() + self.publish_seconds  # not again at every item
            logger.error("could not publish the near-duplicate index (%d articles kept for the next try; "
                         "`scrapy archive duplicates --reindex` adds any that are lost): %s",
                         len(shared.index.pending), exc)
            return
        if late:
            stats.inc_value("neardup/late", late)
        shared.last_publish = time.monotonic()


def _meta(item: dict) -> dict:
    """What a duplicates row needs of an article (an item of the crawl, or its archived row)."""
    return {"url": item["url"], "source": item["source"], "title": item.get("title"),
            "run_id": item["run_id"], "crawled_at": item.get("fetched_at") or item.get("crawled_at")}
