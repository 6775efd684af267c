"""Step 6: near-duplicate (syndicated) copies.

Provincial portals and newspapers republish one wire or press-office story with
their own headline, lead, captions, credit line and page furniture. The exact
dedupe of step 5 misses these copies; this step catches them and leaves alone
two outlets' own stories about the same event.

A copy keeps most of its story's sentences word for word; two outlets' rewrites of one
event (even both built on one press release) share few sentences verbatim, and an
outlet's excerpt of a wire story keeps well under two thirds of it. So the decision
rests on *sentence units*, with a MinHash estimate of shingle similarity beside it for
what sentences cannot show (a body of two or three sentences with one reworded, a copy
whose punctuation splits sentences differently).

Pure functions (used by the crawl, the benchmark and the tests alike), shaped by
:class:`Params` (``DEFAULT``, chosen in ``benchmarks/neardup_eval.py``):

- :func:`tokens` - normalisation: NFC, casefold, ``\\w+`` words, leaving out the
  paragraphs syndication changes around a story (:func:`is_story_paragraph`: credit
  lines, bylines, furniture, photo captions, headline and "Xem thêm" lines);
- :func:`units` - the story's sentence units (distinct normalised sentences of at least
  ``unit_words`` words, in story order: the first is the *lead*), each as a 32-bit
  ``blake2b`` hash with its word count; :func:`index_keys` - what the index posts a body under
  (its units; a body of fewer than ``fallback_units`` also under MinHash LSH band keys);
- :func:`shingles` / :func:`signature` - distinct word k-grams and their datasketch
  ``MinHash`` (scheme ``affine32``), plus the units;
- :func:`sketch` / :func:`pack` / :func:`packed_similarity` - the b-bit MinHash
  estimate of the Jaccard similarity (the estimator of datasketch's ``bBitMinHash``,
  vectorised, on packed ``sig_bits``-bit values);
- :func:`share` / :func:`scores` / :func:`decide` - the decision: the *sentence share*
  (words of the units both bodies have verbatim, leads left out, over the larger body's
  words) at or above ``share`` with at least ``min_shared_units`` such units, or the
  estimated Jaccard similarity at or above ``threshold``.

Thresholds and their evidence: ``docs/NEARDUP.md`` and ``benchmarks/neardup_eval.py``.

:class:`NearDupPipeline` (after ``pipelines.dedupe.DedupePipeline``) queries the
archive's persistent index (:mod:`pipelines.neardup_index`: candidates are the
articles sharing a sentence unit); the first-archived copy stays in ``articles``,
every later copy is dropped and recorded in the ``duplicates`` dataset with
``method = "near"``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace

import numpy as np
from datasketch import MinHash
from scrapy.exceptions import NotConfigured

from pipelines.dropped import Dropped
from storage.rows import duplicate_row

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Params:
    """Everything that shapes what is indexed of a body, and the decision.

    Chosen on evidence (``benchmarks/neardup_eval.py``, ``docs/NEARDUP.md``). ``shingle``,
    ``num_perm``, ``seed``, ``sig_bits``, ``unit_words`` and ``lead`` are baked into the
    persisted index: :attr:`tag` names its folder, so an index built with others is never mixed
    in. ``share``, ``min_shared_units``, ``threshold`` and ``min_shingles`` only decide.
    """

    shingle: int = 5  # words per shingle (Vietnamese words are syllables)
    num_perm: int = 256  # MinHash permutations
    seed: int = 20131023  # MinHash permutation seed: fixed, sketches are persisted
    sig_bits: int = 1  # bits of each MinHash value kept for verification (b-bit MinHash)
    unit_words: int = 3  # sentence units shorter than this are left out
    lead: int = 1  # leading units (the lead, which syndication rewrites) left out of the share
    share: float = 0.57  # sentence share at and above which a body is a copy ...
    min_shared_units: int = 2  # ... when it rests on at least this many shared units
    threshold: float = 0.67  # or: estimated Jaccard similarity at and above which a body is a copy
    min_shingles: int = 20  # bodies with fewer distinct shingles are not compared
    # A body of fewer units (one or two long sentences, a list without full stops) is also posted
    # under MinHash LSH band keys (``fallback_bands`` bands of ``fallback_rows`` values), so the
    # Jaccard path finds its copies when a reworded sentence leaves no unit in common.
    fallback_units: int = 3
    fallback_bands: int = 16
    fallback_rows: int = 2
    # LSH band keys for crawler/distributed/neardup.py, which keys its per-run Redis index with
    # them (``band_keys(sig, p)``); not used by this stage's index.
    bands: int = 32
    rows: int = 3

    @property
    def tag(self) -> str:
        return (f"k{self.shingle}-p{self.num_perm}-s{self.seed}-bb{self.sig_bits}-u{self.unit_words}-l{self.lead}"
                f"-f{self.fallback_units}x{self.fallback_bands}x{self.fallback_rows}")

    @property
    def sketch_bytes(self) -> int:
        return self.num_perm * self.sig_bits // 8

    def __post_init__(self):
        for bands, rows in ((self.bands, self.rows), (self.fallback_bands, self.fallback_rows)):
            if bands * rows > self.num_perm:
                raise ValueError(f"bands*rows = {bands * rows} > num_perm = {self.num_perm}")
        if self.sig_bits not in (1, 2, 4, 8) or self.num_perm * self.sig_bits % 8:
            raise ValueError("sig_bits must be 1, 2, 4 or 8 (packed into whole bytes)")


DEFAULT = Params()
MIN_PARAGRAPH_WORDS = 6  # shorter paragraphs are furniture / credits / bylines
MAX_CAPTION_WORDS = 60  # a paragraph up to this long ending in "Ảnh: ..." is a photo caption
MAX_HEADING_WORDS = 30  # a paragraph up to this long without a sentence end is a heading / link
MAX_UNITS = 512  # units kept per body (the first ones): bounds the index for pathological pages

_WORD = re.compile(r"\w+")
_PARAGRAPHS = re.compile(r"\n\s*\n|\r?\n")
# A photo credit closing a paragraph: "... - Ảnh: TTXVN", "(Ảnh: Đức Tám/TTXVN)", "Ảnh minh họa".
_CAPTION = re.compile(r"(?:^|[\s(\[-])ảnh\s*(?::[^.:]{1,40}|minh họa|minh hoạ)[.)\]]*\s*$", re.I)
_SENTENCE_END = re.compile(r"[.!?…;:][\"'”’)\]]*\s*$")
# Where a paragraph splits into sentence units: after . ! ? … ; (and closing quotes) and a space.
# "52.000", "8,2%" and "TP.HCM" have no space after the mark and stay whole.
_UNIT_SPLIT = re.compile(r"(?<=[.!?…;])[\"'”’)\]]*\s+")


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


def story_sentences(body: str | None) -> list[list[str]]:
    """The words of each sentence of the paragraphs that carry the story (NFC, casefolded), in
    order; of every paragraph when none does (a body of short lines only)."""
    text = unicodedata.normalize("NFC", body or "").casefold()
    kept, every = [], []
    for paragraph in _PARAGRAPHS.split(text):
        sentences = [_WORD.findall(s) for s in _UNIT_SPLIT.split(paragraph)]
        words = sum(len(w) for w in sentences)
        if words:
            every.extend(sentences)
            if is_story_paragraph(paragraph, words):
                kept.extend(sentences)
    return kept or every


def tokens(body: str | None) -> list[str]:
    """The words of a body that carry the story, normalised (NFC, casefold, no punctuation)."""
    return [w for sentence in story_sentences(body) for w in sentence]


def shingles(words: list[str], k: int = DEFAULT.shingle) -> list[bytes]:
    """Distinct word k-grams, UTF-8 encoded (one shingle for a text shorter than k)."""
    if not words:
        return []
    if len(words) <= k:
        return [" ".join(words).encode("utf-8")]
    return list({" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)})


def unit_hash(text: str) -> int:
    """A unit's 32-bit key: ``blake2b`` (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "big")


def units(body: str | None, p: Params = DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, words)`` (uint32) of the story's distinct sentence units, in story order.

    A unit is a sentence of a story paragraph, normalised like :func:`tokens` (so punctuation,
    case and Unicode composition do not matter), of at least ``unit_words`` words."""
    return _units(story_sentences(body), p)


def _units(sentences: list[list[str]], p: Params) -> tuple[np.ndarray, np.ndarray]:
    hashes, words, seen = [], [], set()
    for w in sentences:
        if len(w) < p.unit_words:
            continue
        h = unit_hash(" ".join(w))
        if h not in seen:
            seen.add(h)
            hashes.append(h)
            words.append(len(w))
            if len(hashes) >= MAX_UNITS:
                break
    return np.array(hashes, np.uint32), np.array(words, np.uint32)


# ------------------------------------------------------------------ signature
@dataclass(frozen=True)
class Signature:
    """What the stage keeps of a body: its MinHash values (uint32, ``num_perm`` of them), its
    number of distinct shingles, and its sentence units (hashes and word counts, lead first)."""

    hashvalues: np.ndarray
    shingles: int
    unit_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))
    unit_words: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))
    lead: int = DEFAULT.lead

    @property
    def words(self) -> int:
        """Words of the units the share counts (the lead left out)."""
        return int(self.unit_words[self.lead :].sum())


_TEMPLATES: dict[tuple[int, int], MinHash] = {}


def _template(p: Params) -> MinHash:
    """A MinHash with its permutations built once (building them costs more than hashing a body)."""
    key = (p.num_perm, p.seed)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = MinHash(num_perm=p.num_perm, seed=p.seed, scheme="affine32")
    return _TEMPLATES[key]


def signature(body: str | None, p: Params = DEFAULT) -> Signature:
    sentences = story_sentences(body)
    grams = shingles([w for sentence in sentences for w in sentence], p.shingle)
    m = _template(p).copy()
    if grams:
        m.update_batch(grams)
    hashes, words = _units(sentences, p)
    return Signature(m.hashvalues.astype(np.uint32), len(grams), hashes, words, p.lead)


def as_minhash(sig: Signature, p: Params = DEFAULT) -> MinHash:
    """The datasketch ``MinHash`` of a signature."""
    t = _template(p)
    return MinHash(seed=p.seed, hashvalues=sig.hashvalues, permutations=t.permutations, scheme="affine32")


# ------------------------------------------------------------------ b-bit MinHash
def sketch(sig: Signature, p: Params = DEFAULT) -> np.ndarray:
    """The low ``sig_bits`` bits of every MinHash value, one per byte (b-bit MinHash, Li & König)."""
    return (sig.hashvalues & np.uint32((1 << p.sig_bits) - 1)).astype(np.uint8)


def pack(values: np.ndarray, p: Params = DEFAULT) -> np.ndarray:
    """b-bit values (``... x num_perm``, from :func:`sketch`) packed ``8 / sig_bits`` to a byte,
    value ``i`` in bits ``(i % per) * b ...`` of byte ``i // per``."""
    b, per = p.sig_bits, 8 // p.sig_bits
    v = np.asarray(values, np.uint8).reshape(*np.shape(values)[:-1], -1, per)
    shifts = (np.arange(per, dtype=np.uint8) * b).astype(np.uint8)
    return np.bitwise_or.reduce(v << shifts, axis=-1).astype(np.uint8)


_LOW_BIT_OF_EACH_VALUE = {1: 0xFF, 2: 0x55, 4: 0x11, 8: 0x01}


def packed_similarity(query: np.ndarray, candidates: np.ndarray, p: Params = DEFAULT) -> np.ndarray:
    """Estimated Jaccard similarity of one packed sketch against each row of ``candidates``.

    The estimator of ``datasketch.bBitMinHash.jaccard`` (r -> 0: two b-bit values also agree
    by chance with probability 2^-b), clipped to [0, 1], on packed values: a value disagrees
    when any of its b bits does (the bits of each value OR-ed into its lowest, then counted)."""
    x = np.atleast_2d(candidates) ^ query[None, :]
    s = 1
    while s < p.sig_bits:
        x = x | (x >> s)
        s *= 2
    differ = np.bitwise_count(x & np.uint8(_LOW_BIT_OF_EACH_VALUE[p.sig_bits])).sum(axis=1, dtype=np.int64)
    a = 1.0 / (1 << p.sig_bits)
    raw = 1.0 - differ / p.num_perm
    return np.clip((raw - a) / (1.0 - a), 0.0, 1.0)


def similarity(query: np.ndarray, candidates: np.ndarray, p: Params = DEFAULT) -> np.ndarray:
    """:func:`packed_similarity` on unpacked values (from :func:`sketch`)."""
    a = 1.0 / (1 << p.sig_bits)
    raw = (np.atleast_2d(candidates) == query[None, :]).mean(axis=1)
    return np.clip((raw - a) / (1.0 - a), 0.0, 1.0)


# ------------------------------------------------------------------ LSH band keys (crawler/distributed)
def band_hash(band: bytes) -> bytes:
    """Compress one band to a 4-byte key: the ``hashfunc`` of datasketch's ``MinHashLSH``."""
    return hashlib.blake2b(band, digest_size=4).digest()


def band_keys(sig: Signature, p: Params = DEFAULT, bands: int | None = None, rows: int | None = None) -> np.ndarray:
    """The LSH keys (uint32) of ``bands`` bands of ``rows`` values (default ``p.bands`` x
    ``p.rows``), exactly as ``MinHashLSH(hashfunc=band_hash)`` computes them (big-endian values of
    each band, hashed)."""
    hv, r = sig.hashvalues, rows or p.rows
    return np.array(
        [int.from_bytes(band_hash(bytes(hv[i * r : (i + 1) * r].byteswap().data)), "big")
         for i in range(bands or p.bands)],
        dtype=np.uint32,
    )


def index_keys(sig: Signature, p: Params = DEFAULT) -> np.ndarray:
    """The keys a body is posted and looked up under: its units, then - for a body of fewer than
    ``fallback_units`` units - its fallback LSH band keys. Only the units (the lead left out)
    count for the share; the others name candidates."""
    if len(sig.unit_hashes) >= p.fallback_units:
        return sig.unit_hashes
    return np.concatenate([sig.unit_hashes, band_keys(sig, p, p.fallback_bands, p.fallback_rows)]).astype(np.uint32)


def candidate_probability(j: float, p: Params = DEFAULT) -> float:
    """Chance that two bodies of Jaccard similarity ``j`` share at least one band (the LSH S-curve)."""
    return 1.0 - (1.0 - j**p.rows) ** p.bands


# ------------------------------------------------------------------ the decision
def share(a: Signature, b: Signature) -> tuple[float, int]:
    """``(sentence share, shared units)`` of two bodies, exactly: the words of the units both have
    (each body's lead left out) over the words of the larger body (lead left out)."""
    ua = dict(zip(a.unit_hashes[a.lead :].tolist(), a.unit_words[a.lead :].tolist()))
    shared = [h for h in b.unit_hashes[b.lead :].tolist() if h in ua]
    words = sum(ua[h] for h in shared)
    return (min(1.0, words / max(a.words, b.words, 1)), len(shared))


def scores(q_words: int, q_unit_words: np.ndarray, match_unit: np.ndarray, match_cand: np.ndarray,
           cand_words: np.ndarray, q_sketch: np.ndarray, cand_sketches: np.ndarray,
           p: Params = DEFAULT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(share, shared units, estimated Jaccard)`` of one body against ``len(cand_words)``
    candidates, vectorised: ``match_unit[i]`` (an index into the query's units) is one of the
    query's units that candidate ``match_cand[i]`` also has, leads of either side left out
    (a shared unit has the same words on both sides: its words are the query's)."""
    n = len(cand_words)
    m = np.bincount(match_cand, weights=q_unit_words[match_unit], minlength=n)
    k = np.bincount(match_cand, minlength=n)
    s = np.minimum(1.0, m / np.maximum(np.maximum(cand_words, q_words), 1))
    return s, k, packed_similarity(q_sketch, cand_sketches, p)


def is_copy(s, k, j, p: Params = DEFAULT):
    """The rule (element-wise): enough of the story's sentences verbatim, or a high estimated Jaccard."""
    return ((np.asarray(s) >= p.share) & (np.asarray(k) >= p.min_shared_units)) | (np.asarray(j) >= p.threshold)


def decide(s: np.ndarray, k: np.ndarray, j: np.ndarray, p: Params = DEFAULT) -> tuple[int, float] | None:
    """``(candidate index, similarity)`` of the best candidate that is a copy, or None; its
    similarity is the larger of its two scores."""
    ok = is_copy(s, k, j, p)
    if not ok.any():
        return None
    score = np.where(ok, np.maximum(np.where(k >= p.min_shared_units, s, 0.0), j), -1.0)
    i = int(np.argmax(score))
    return i, float(score[i])
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
        from pipelines.neardup_index import NearDupIndex

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
    def process_item(self, item):
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
            meta = _meta(item)
            self.session.accept("duplicates", _duplicate_row(match.article_id, match.similarity, meta))
            stats.inc_value("neardup/near")
            stats.inc_value("pipeline/dropped/duplicate_near")
            stats.inc_value("neardup/ms", (time.perf_counter() - started) * 1000)
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
