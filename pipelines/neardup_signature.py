"""Near-duplicate signatures and the copy decision: pure functions, no state.

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

The archive's persistent index of them is :mod:`pipelines.neardup_index`; the crawl's stage,
:mod:`pipelines.neardup`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash


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
_LOADING = threading.Lock()


def minhash_class() -> type[MinHash]:
    """datasketch's ``MinHash``, loaded without the rest of the package on first use.

    The package's ``__init__`` imports every class it offers, and with ``MinHashLSH`` scipy: about
    60 MB and 0.9 s a process, for classes this stage never uses. Its ``minhash`` module (with the
    ``hashfunc`` module it imports) is loaded under its own name below a package module whose
    ``__init__`` is not run; that shell leaves ``sys.modules`` at once, so an ``import datasketch``
    later in the process runs the package as usual and finds the same ``MinHash`` class. A process
    that imported the package (or is importing it) gets the class through it.
    """
    with _LOADING:
        if "datasketch.minhash" not in sys.modules and "datasketch" not in sys.modules:
            shell = importlib.util.module_from_spec(importlib.util.find_spec("datasketch"))
            sys.modules["datasketch"] = shell
            try:
                importlib.import_module("datasketch.minhash")
            finally:
                if sys.modules.get("datasketch") is shell:
                    del sys.modules["datasketch"]
        return importlib.import_module("datasketch.minhash").MinHash


def _template(p: Params) -> MinHash:
    """A MinHash with its permutations built once (building them costs more than hashing a body)."""
    key = (p.num_perm, p.seed)
    if key not in _TEMPLATES:
        # loaded on first use, without scipy (minhash_class): a process that never hashes a body
        # (the parent of `crawlall --processes`, a fetch-only crawl) loads none of datasketch
        _TEMPLATES[key] = minhash_class()(num_perm=p.num_perm, seed=p.seed, scheme="affine32")
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
    return minhash_class()(seed=p.seed, hashvalues=sig.hashvalues, permutations=t.permutations, scheme="affine32")


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
