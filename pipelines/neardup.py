"""Step 6: near-duplicate (syndicated) copies.

Provincial portals and newspapers republish one wire or press-office story with
their own headline, lead, captions, credit line and page furniture. The exact
dedupe of step 5 misses these copies; this step catches them and leaves alone
two outlets' own stories about the same event.

Pure functions (used by the crawl, the benchmark and the tests alike), shaped by
:class:`Params` (``DEFAULT``: 5-word shingles, 256 permutations, 32 bands of 3, 8-bit
verification sketch, threshold 0.62):

- :func:`tokens` - normalisation: NFC, casefold, ``\\w+`` words, leaving out the
  paragraphs syndication changes around a story (:func:`is_story_paragraph`: credit
  lines, bylines, furniture, photo captions, headline and "Xem thêm" lines);
- :func:`shingles` - distinct word k-grams as bytes;
- :func:`signature` - a datasketch ``MinHash`` (scheme ``affine32``) of the shingles;
- :func:`band_keys` - the LSH band keys, as ``MinHashLSH(hashfunc=band_hash)`` makes them;
- :func:`sketch` / :func:`similarity` - verification: the b-bit MinHash estimate of the
  Jaccard similarity (the estimator of datasketch's ``bBitMinHash``, vectorised);
- :func:`best_match` - the decision: the most similar candidate at or above the threshold.

Thresholds and their evidence: ``docs/NEARDUP.md`` and ``benchmarks/neardup_eval.py``.

:class:`NearDupPipeline` (after ``pipelines.dedupe.DedupePipeline``) queries the
archive's persistent index (:mod:`pipelines.neardup_index`); the first-archived
copy stays in ``articles``, every later copy is dropped and recorded in the
``duplicates`` dataset with ``method = "near"``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, replace

import numpy as np
from datasketch import MinHash
from scrapy.exceptions import DropItem, NotConfigured

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Params:
    """Everything that shapes a signature, its index entries and the decision.

    Chosen on evidence (``benchmarks/neardup_eval.py``, ``docs/NEARDUP.md``). All but
    ``threshold`` and ``min_shingles`` are baked into the persisted index: :attr:`tag`
    names its folder, so an index built with other parameters is never mixed in.
    """

    shingle: int = 5  # words per shingle (Vietnamese words are syllables)
    num_perm: int = 256  # MinHash permutations (all of them verify; the first bands*rows index)
    seed: int = 20131023  # MinHash permutation seed: fixed, signatures are persisted
    bands: int = 32  # LSH bands ...
    rows: int = 3  # ... of this many MinHash values each
    sig_bits: int = 8  # bits of each MinHash value kept for verification (b-bit MinHash)
    threshold: float = 0.62  # estimated Jaccard similarity at and above which a body is a copy
    min_shingles: int = 20  # bodies with fewer distinct shingles are not compared

    @property
    def tag(self) -> str:
        return (f"k{self.shingle}-p{self.num_perm}-s{self.seed}-b{self.bands}x{self.rows}"
                f"-v{self.sig_bits}")

    def __post_init__(self):
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} > num_perm = {self.num_perm}")
        if not 1 <= self.sig_bits <= 16:
            raise ValueError("sig_bits must be in 1..16")


DEFAULT = Params()
MIN_PARAGRAPH_WORDS = 6  # shorter paragraphs are furniture / credits / bylines
MAX_CAPTION_WORDS = 60  # a paragraph up to this long ending in "Ảnh: ..." is a photo caption
MAX_HEADING_WORDS = 30  # a paragraph up to this long without a sentence end is a heading / link

_WORD = re.compile(r"\w+")
_PARAGRAPHS = re.compile(r"\n\s*\n|\r?\n")
# A photo credit closing a paragraph: "... - Ảnh: TTXVN", "(Ảnh: Đức Tám/TTXVN)", "Ảnh minh họa".
_CAPTION = re.compile(r"(?:^|[\s(\[-])ảnh\s*(?::[^.:]{1,40}|minh họa|minh hoạ)[.)\]]*\s*$", re.I)
_SENTENCE_END = re.compile(r"[.!?…;:][\"'”’)\]]*\s*$")


# ------------------------------------------------------------------ normalisation
def is_story_paragraph(paragraph: str, words: int, min_words: int = MIN_PARAGRAPH_WORDS) -> bool:
    """False for what syndication changes around a story: credit lines, bylines, furniture
    (shorter than ``min_words``), photo captions ("... Ảnh: TTXVN"), headlines and
    "Xem thêm: ..." lines (short, without a sentence end)."""
    if words < min_words:
        return False
    if words <= MAX_CAPTION_WORDS and _CAPTION.search(paragraph):
        return False
    if words <= MAX_HEADING_WORDS and not _SENTENCE_END.search(paragraph):
        return False
    return True


def tokens(body: str | None) -> list[str]:
    """The words of a body that carry the story, normalised (NFC, casefold, no punctuation)."""
    text = unicodedata.normalize("NFC", body or "").casefold()
    paragraphs = [(p, _WORD.findall(p)) for p in _PARAGRAPHS.split(text)]
    kept = [w for p, w in paragraphs if is_story_paragraph(p, len(w))]
    if not kept:  # nothing but short lines: keep them all
        kept = [w for _, w in paragraphs]
    return [w for p in kept for w in p]


def shingles(words: list[str], k: int = DEFAULT.shingle) -> list[bytes]:
    """Distinct word k-grams, UTF-8 encoded (one shingle for a text shorter than k)."""
    if not words:
        return []
    if len(words) <= k:
        return [" ".join(words).encode("utf-8")]
    return list({" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)})


# ------------------------------------------------------------------ signature
@dataclass(frozen=True)
class Signature:
    """A body's MinHash values (uint32, ``num_perm`` of them) and its number of distinct shingles."""

    hashvalues: np.ndarray
    shingles: int


_TEMPLATES: dict[tuple[int, int], MinHash] = {}


def _template(p: Params) -> MinHash:
    """A MinHash with its permutations built once (building them costs more than hashing a body)."""
    key = (p.num_perm, p.seed)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = MinHash(num_perm=p.num_perm, seed=p.seed, scheme="affine32")
    return _TEMPLATES[key]


def signature(body: str | None, p: Params = DEFAULT) -> Signature:
    grams = shingles(tokens(body), p.shingle)
    m = _template(p).copy()
    if grams:
        m.update_batch(grams)
    return Signature(m.hashvalues.astype(np.uint32), len(grams))


def as_minhash(sig: Signature, p: Params = DEFAULT) -> MinHash:
    """The datasketch ``MinHash`` of a signature (for ``MinHashLSH``)."""
    t = _template(p)
    return MinHash(seed=p.seed, hashvalues=sig.hashvalues, permutations=t.permutations, scheme="affine32")


def sketch(sig: Signature, p: Params = DEFAULT) -> np.ndarray:
    """The verification sketch: the low ``sig_bits`` bits of every value (b-bit MinHash, Li & König)."""
    dtype = np.uint8 if p.sig_bits <= 8 else np.uint16
    return (sig.hashvalues & np.uint32((1 << p.sig_bits) - 1)).astype(dtype)


# ------------------------------------------------------------------ LSH band keys
def band_hash(band: bytes) -> bytes:
    """Compress one band to a 4-byte key: the ``hashfunc`` of ``MinHashLSH`` (a stable hash,
    so keys written by one process are found by another)."""
    return hashlib.blake2b(band, digest_size=4).digest()


def band_keys(sig: Signature, p: Params = DEFAULT) -> np.ndarray:
    """The ``bands`` keys (uint32) of a signature, exactly as ``MinHashLSH(hashfunc=band_hash)``
    computes them (big-endian values of each band, hashed)."""
    hv, r = sig.hashvalues, p.rows
    return np.array(
        [int.from_bytes(band_hash(bytes(hv[i * r : (i + 1) * r].byteswap().data)), "big") for i in range(p.bands)],
        dtype=np.uint32,
    )


def candidate_probability(j: float, p: Params = DEFAULT) -> float:
    """Chance that two bodies of Jaccard similarity ``j`` share at least one band (the LSH S-curve)."""
    return 1.0 - (1.0 - j**p.rows) ** p.bands


# ------------------------------------------------------------------ verification
def similarity(query: np.ndarray, candidates: np.ndarray, p: Params = DEFAULT) -> np.ndarray:
    """Estimated Jaccard similarity of one sketch against each row of ``candidates``.

    The estimator of ``datasketch.bBitMinHash.jaccard`` (r -> 0: two b-bit values also agree by
    chance with probability 2^-b), for many candidates at once.
    """
    a = 1.0 / (1 << p.sig_bits)
    raw = (np.atleast_2d(candidates) == query[None, :]).mean(axis=1)
    return np.clip((raw - a) / (1.0 - a), 0.0, 1.0)


def best_match(query: np.ndarray, ids: list, candidates: np.ndarray, p: Params = DEFAULT):
    """``(id, similarity)`` of the most similar candidate at or above the threshold, or None."""
    if not len(ids):
        return None
    sims = similarity(query, candidates, p)
    i = int(np.argmax(sims))
    return (ids[i], float(sims[i])) if sims[i] >= p.threshold else None


# ====================================================================== the Scrapy stage
class _Shared:
    """One index per archive session: every crawler of a ``scrapy crawlall`` process shares it."""

    def __init__(self, index, dry_run: bool):
        self.index = index
        self.dry_run = dry_run
        self.users = 0
        self.meta: dict[str, dict] = {}  # pending article id -> what a duplicates row needs
        self.last_publish = time.monotonic()


_shared_lock = threading.Lock()
_shared: dict[tuple, _Shared] = {}


def _duplicate_row(kept: str, sim: float, meta: dict) -> dict:
    return {
        "article_id": kept,
        "duplicate_url": meta["url"],
        "source": meta["source"],
        "title": meta.get("title"),
        "similarity": round(sim, 4),
        "method": "near",
        "run_id": meta["run_id"],
        "crawled_at": meta["crawled_at"],
    }


class NearDupPipeline:
    """Drops near-duplicate copies of an already archived story, recording them in ``duplicates``.

    Settings: ``NEARDUP_ENABLED`` (default True), ``NEARDUP_THRESHOLD`` (default
    ``DEFAULT.threshold``), ``NEARDUP_MIN_SHINGLES``, ``NEARDUP_PUBLISH_ITEMS`` /
    ``NEARDUP_PUBLISH_SECONDS`` (publish this run's index segment after so many new articles or
    seconds, and at the end), ``NEARDUP_REFRESH_SECONDS`` (read segments other runs published).
    """

    def __init__(self, crawler, params: Params = DEFAULT, publish_items: int = 2000,
                 publish_seconds: float = 300.0, refresh_seconds: float = 30.0):
        self.crawler = crawler
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
        params = replace(DEFAULT, threshold=threshold,
                         min_shingles=s.getint("NEARDUP_MIN_SHINGLES", DEFAULT.min_shingles))
        return cls(crawler, params, publish_items=s.getint("NEARDUP_PUBLISH_ITEMS", 2000),
                   publish_seconds=s.getfloat("NEARDUP_PUBLISH_SECONDS", 300.0),
                   refresh_seconds=s.getfloat("NEARDUP_REFRESH_SECONDS", 30.0))

    # ------------------------------------------------------------------ lifecycle
    def open_spider(self):
        from pipelines.neardup_index import NearDupIndex

        session = self.crawler.spider.session
        self._key = (session.uri, session.run_id, bool(session.dry_run), self.params)
        with _shared_lock:
            shared = _shared.get(self._key)
            if shared is None:
                index = NearDupIndex(session.archive.backend, self.params, owner="neardup")
                index.refresh()
                shared = _shared[self._key] = _Shared(index, bool(session.dry_run))
                logger.info("near-duplicate index: %d articles in %d segments", len(index), len(index.segments))
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
    def process_item(self, item):
        started = time.perf_counter()
        stats = self.crawler.stats
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
            meta = _meta(item)
            self.crawler.spider.session.accept("duplicates", _duplicate_row(match.article_id, match.similarity, meta))
            stats.inc_value("neardup/near")
            stats.inc_value("pipeline/dropped/duplicate_near")
            stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
            raise DropItem(f"duplicate (near, {match.similarity:.2f}) of {match.article_id}: {item['url']}")
        index.add(item["article_id"], sig)
        shared.meta[item["article_id"]] = _meta(item)
        stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
        if (len(index.pending) >= self.publish_items
                or time.monotonic() - shared.last_publish >= self.publish_seconds):
            self._publish()
        return item

    def _publish(self) -> None:
        shared, stats = self.shared, self.crawler.stats
        if shared.dry_run:
            return
        session = self.crawler.spider.session
        try:
            late = shared.index.publish(session.run_id)
        except Exception as exc:  # noqa: BLE001 - the articles are safe in the run's journal
            stats.inc_value("neardup/publish_failed")
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
