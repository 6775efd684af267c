"""Step 6: near-duplicate (syndicated) copies.

Provincial portals and newspapers republish one wire or press-office story with
their own headline, lead, captions, credit line and page furniture. The exact
dedupe of step 5 misses these copies; this step catches them and leaves alone
two outlets' own stories about the same event.

Pure functions (used by the crawl, the benchmark and the tests alike):

- :func:`tokens` - normalisation: NFC, casefold, ``\\w+`` words; paragraphs of
  fewer than ``MIN_PARAGRAPH_WORDS`` words (credit lines, bylines, "Ảnh: ..."
  captions, furniture) are left out when the body has longer ones.
- :func:`shingles` - word ``SHINGLE``-grams as bytes.
- :func:`signature` - a datasketch ``MinHash`` of the shingles (``NUM_PERM``
  permutations, scheme ``affine32``) and the shingle count.
- :func:`band_keys` - the LSH band keys of a signature (``BANDS`` x ``ROWS``).
- :func:`similarity` - verification: the b-bit MinHash estimate of the Jaccard
  similarity (datasketch :class:`~datasketch.bBitMinHash` estimator, vectorised).
- :func:`is_copy` - the decision: similarity >= ``THRESHOLD``.

Thresholds and their evidence: ``docs/NEARDUP.md`` and
``benchmarks/neardup_eval.py``.

:class:`NearDupPipeline` (after ``pipelines.dedupe.DedupePipeline``) queries the
archive's persistent index (:mod:`pipelines.neardup_index`); the first-archived
copy stays in ``articles``, every later copy is dropped and recorded in the
``duplicates`` dataset with ``method = "near"``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash
from scrapy.exceptions import DropItem, NotConfigured

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ parameters
# Chosen on evidence (benchmarks/neardup_eval.py, docs/NEARDUP.md). Changing
# SHINGLE, NUM_PERM, SEED, BANDS, ROWS or SIG_BITS changes the signatures: the
# index format version (pipelines/neardup_index.py) must change with them.
SHINGLE = 5  # words per shingle (Vietnamese words are syllables)
NUM_PERM = 128  # MinHash permutations
SEED = 20131023  # MinHash permutation seed (fixed: signatures are persisted)
BANDS, ROWS = 32, 4  # LSH: 32 bands of 4 rows (uses all 128 values)
SIG_BITS = 16  # bits of each MinHash value kept for verification (b-bit MinHash)
THRESHOLD = 0.60  # estimated Jaccard similarity at and above which a body is a copy
MIN_SHINGLES = 20  # shorter bodies are not compared (too little text to tell)
MIN_PARAGRAPH_WORDS = 6  # shorter paragraphs are furniture / credits / captions

_WORD = re.compile(r"\w+")
_PARAGRAPHS = re.compile(r"\n\s*\n|\r?\n")


# ------------------------------------------------------------------ normalisation
def tokens(body: str | None, min_paragraph_words: int = MIN_PARAGRAPH_WORDS) -> list[str]:
    """The words of a body that carry the story, normalised (NFC, casefold, no punctuation)."""
    text = unicodedata.normalize("NFC", body or "").casefold()
    paragraphs = [_WORD.findall(p) for p in _PARAGRAPHS.split(text)]
    kept = [p for p in paragraphs if len(p) >= min_paragraph_words]
    if not kept:  # a body of short lines only: keep them all
        kept = paragraphs
    return [w for p in kept for w in p]


def shingles(words: list[str], k: int = SHINGLE) -> list[bytes]:
    """Distinct word k-grams, UTF-8 encoded (one shingle for a text shorter than k)."""
    if not words:
        return []
    if len(words) <= k:
        return [" ".join(words).encode("utf-8")]
    return list({" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)})


# ------------------------------------------------------------------ signature
@dataclass(frozen=True)
class Signature:
    """A body's MinHash values (uint32, ``NUM_PERM``) and its number of distinct shingles."""

    hashvalues: np.ndarray
    shingles: int

    def minhash(self) -> MinHash:
        return MinHash(num_perm=len(self.hashvalues), seed=SEED, hashvalues=self.hashvalues,
                       permutations=_template().permutations, scheme="affine32")

    @property
    def bbits(self) -> np.ndarray:
        """The verification sketch: the low ``SIG_BITS`` bits of each value (b-bit MinHash)."""
        return (self.hashvalues & ((1 << SIG_BITS) - 1)).astype(np.uint16)


_TEMPLATE: MinHash | None = None


def _template() -> MinHash:
    """One MinHash with the permutations built once (building them costs more than hashing)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")
    return _TEMPLATE


def signature(body: str | None, k: int = SHINGLE) -> Signature:
    grams = shingles(tokens(body), k)
    m = _template().copy()
    if grams:
        m.update_batch(grams)
    return Signature(m.hashvalues.astype(np.uint32), len(grams))


# ------------------------------------------------------------------ LSH band keys
def band_hash(band: bytes) -> bytes:
    """Compress one band (``ROWS`` hash values) to a 4-byte key (``MinHashLSH(hashfunc=...)``)."""
    return hashlib.blake2b(band, digest_size=4).digest()


def band_keys(hashvalues: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """The ``bands`` keys (uint32) of a signature, as ``MinHashLSH`` with :func:`band_hash` makes them."""
    hv = np.asarray(hashvalues, dtype=np.uint32)
    return np.array(
        [int.from_bytes(band_hash(bytes(hv[i * rows : (i + 1) * rows].byteswap().data)), "big")
         for i in range(bands)],
        dtype=np.uint32,
    )


def candidate_probability(j: float, bands: int = BANDS, rows: int = ROWS) -> float:
    """Chance that two bodies of Jaccard similarity ``j`` share at least one band."""
    return 1.0 - (1.0 - j**rows) ** bands


# ------------------------------------------------------------------ verification
_B_BIT_A = 1.0 / (1 << SIG_BITS)  # bBitMinHash._calc_a(r=0, b): chance two b-bit values agree by accident


def similarity(query_bbits: np.ndarray, candidates_bbits: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of one sketch against each row of ``candidates_bbits``.

    The estimator of ``datasketch.bBitMinHash.jaccard`` (r -> 0), for many candidates at once.
    """
    cand = np.atleast_2d(candidates_bbits)
    raw = (cand == query_bbits[None, :]).mean(axis=1)
    return np.clip((raw - _B_BIT_A) / (1.0 - _B_BIT_A), 0.0, 1.0)


def is_copy(sim: float, threshold: float = THRESHOLD) -> bool:
    return sim >= threshold
