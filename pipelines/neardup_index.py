"""The near-duplicate index, persisted with the archive and shared by every run.

Layout: ``<archive>/_state/neardup/v1-<params tag>/`` holds immutable *segments*, each one
``.npz`` file published create-only (atomic on every backend):

- ``seg-<run_id>-<k>.npz``: the articles one run archived between two publishes;
- ``cmp-<time>-<run_id>.npz``: a compaction of older segments, listing them in ``covers``
  (covered segments are deleted after it is published; readers ignore them either way).

A segment holds, for ``n`` articles: ``ids`` (uint64, the 16-hex-digit article ids; any other
id goes to ``ids_str``), ``shingles`` (uint32), ``sketches`` (``n x num_perm`` b-bit MinHash
values, uint8) and the LSH entries ``keys`` / ``rows`` (uint32, ``bands x n``, each band sorted
by key), kept as they are in memory: a lookup is a binary search per band and segment
(O(bands log n)), then one vectorised verification of the candidates. This run's articles not yet published sit in a datasketch
``MinHashLSH`` (dict storage) with the same band keys.

Concurrent runs (several processes, several sources): each run publishes its own segments. A
publish takes the archive lock, reads the segments others published since this run last looked,
checks this run's unpublished articles against them (the earlier-published copy is the first
archived), and only then publishes. What it returns as *late copies* were archived by this run
while a concurrent run archived the same story first; the pipeline records them in
``duplicates``. Between publishes, :meth:`NearDupIndex.refresh` (every few seconds of crawling)
picks up what others published, so that window stays short.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from dataclasses import dataclass

import numpy as np
from datasketch import MinHashLSH

from pipelines.neardup import DEFAULT, Params, Signature, as_minhash, band_hash, band_keys, sketch, similarity

logger = logging.getLogger(__name__)

FORMAT = 1
ROOT = "_state/neardup"
_HEX16 = re.compile(r"[0-9a-f]{16}")


def index_prefix(p: Params = DEFAULT) -> str:
    return f"{ROOT}/v{FORMAT}-{p.tag}/"


@dataclass
class Match:
    article_id: str  # the kept (first-archived) copy
    similarity: float


# ---------------------------------------------------------------------- segments
class Segment:
    """One immutable segment, searchable in O(bands log n)."""

    def __init__(self, name: str, ids: list[str], shingles: np.ndarray, sketches: np.ndarray,
                 keys: np.ndarray, rows: np.ndarray, covers: tuple[str, ...] = ()):
        self.name = name
        self.ids = _Ids(ids)
        self.shingles = shingles
        self.sketches = sketches
        self.keys = np.ascontiguousarray(keys, dtype=np.uint32)  # bands x n, each band sorted
        self.rows = np.ascontiguousarray(rows, dtype=np.uint32)  # bands x n: article row of each key
        self.covers = tuple(covers)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.rows.nbytes + self.sketches.nbytes + self.shingles.nbytes + self.ids.nbytes

    def candidates(self, qkeys: np.ndarray) -> np.ndarray:
        """Rows of the articles sharing at least one band key with ``qkeys`` (one key per band)."""
        hits = []
        for b, key in enumerate(qkeys):
            band = self.keys[b]
            lo = band.searchsorted(key, "left")
            if lo < len(band) and band[lo] == key:
                hi = band.searchsorted(key, "right")
                hits.append(self.rows[b, lo:hi])
        return np.unique(np.concatenate(hits)) if hits else np.empty(0, np.uint32)

    # -------------------------------------------------------------- bytes
    @staticmethod
    def build(name: str, ids: list[str], shingles, sketches, keys_by_article, covers=()) -> "Segment":
        """From per-article arrays (``keys_by_article``: ``n x bands``), sorting each band."""
        n = len(ids)
        keys_t = np.asarray(keys_by_article, dtype=np.uint32).reshape(n, -1).T  # bands x n
        order = np.argsort(keys_t, axis=1, kind="stable")
        keys = np.take_along_axis(keys_t, order, axis=1)
        return Segment(name, ids, np.asarray(shingles, np.uint32), np.asarray(sketches), keys,
                       order.astype(np.uint32), covers)

    def to_bytes(self, params: Params) -> bytes:
        arrays = {"shingles": self.shingles, "sketches": self.sketches, "keys": self.keys,
                  "rows": self.rows, "covers": np.array(self.covers, dtype=str),
                  "params": np.array(params.tag)}
        if self.ids.numbers is not None:
            arrays["ids"] = self.ids.numbers
        else:
            arrays["ids_str"] = np.array(list(self.ids), dtype=str)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @staticmethod
    def from_bytes(name: str, data: bytes, params: Params) -> "Segment":
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if str(z["params"]) != params.tag:
                raise ValueError(f"{name}: built with {z['params']}, expected {params.tag}")
            ids = z["ids"] if "ids" in z else [str(i) for i in z["ids_str"]]
            return Segment(name, ids, z["shingles"], z["sketches"], z["keys"], z["rows"],
                           tuple(str(c) for c in z["covers"]))

    @staticmethod
    def merge(name: str, parts: list["Segment"]) -> "Segment":
        ids = [i for s in parts for i in s.ids]
        if all(s.ids.numbers is not None for s in parts):
            ids = np.concatenate([s.ids.numbers for s in parts])
        keys = np.concatenate([_keys_by_article(s) for s in parts]) if parts else np.empty((0, 1), np.uint32)
        covers = sorted({c for s in parts for c in (s.name, *s.covers)})
        return Segment.build(name, ids, np.concatenate([s.shingles for s in parts]),
                             np.concatenate([s.sketches for s in parts]), keys, covers)


class _Ids:
    """A segment's article ids: the project's 16-hex-digit ids as uint64 numbers (8 B each),
    any other id as a list of strings."""

    def __init__(self, ids):
        if isinstance(ids, np.ndarray) and ids.dtype == np.uint64:
            self.numbers, self.strings = ids, None
        else:
            ids = [str(i) for i in ids]
            if all(_HEX16.fullmatch(i) for i in ids):
                self.numbers, self.strings = np.array([int(i, 16) for i in ids], dtype=np.uint64), None
            else:
                self.numbers, self.strings = None, ids

    def __len__(self) -> int:
        return len(self.numbers) if self.numbers is not None else len(self.strings)

    def __getitem__(self, row) -> str:
        return format(int(self.numbers[row]), "016x") if self.numbers is not None else self.strings[int(row)]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    @property
    def nbytes(self) -> int:
        return self.numbers.nbytes if self.numbers is not None else sum(49 + len(i) for i in self.strings)


def _keys_by_article(s: Segment) -> np.ndarray:
    """``n x bands`` keys of a segment, undoing the per-band sort."""
    bands, n = s.keys.shape
    out = np.empty((n, bands), np.uint32)
    for b in range(bands):
        out[s.rows[b], b] = s.keys[b]
    return out


# ---------------------------------------------------------------------- the index
class NearDupIndex:
    """Segments published in the archive + this run's articles not yet published.

    ``backend`` is the archive's storage backend (``archive.backend``: ``list``, ``get_bytes``,
    create-only ``put_bytes``, ``delete``, ``lock``); None keeps everything in memory.
    """

    def __init__(self, backend=None, params: Params = DEFAULT, *, max_segments: int = 16,
                 lock_timeout: float = 600.0, owner: str = "neardup"):
        self.backend = backend
        self.p = params
        self.prefix = index_prefix(params)
        self.max_segments = max_segments
        self.lock_timeout = lock_timeout
        self.owner = owner
        self.segments: dict[str, Segment] = {}
        self._gone: set[str] = set()  # covered by a compaction we loaded: never load them
        self._mutex = threading.RLock()
        self._seq = 0
        self._new_delta()
        self.last_refresh = 0.0

    def _new_delta(self) -> None:
        self.delta = MinHashLSH(num_perm=self.p.num_perm, params=(self.p.bands, self.p.rows), hashfunc=band_hash)
        self.pending: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}  # id -> (shingles, sketch, keys)

    # ------------------------------------------------------------------ reading
    def refresh(self) -> list[str]:
        """Load the segments published since the last look (compactions first); their names."""
        if self.backend is None:
            return []
        with self._mutex:
            listed = sorted(o.key for o in self.backend.list(self.prefix) if o.key.endswith(".npz"))
            new = [k for k in listed if k not in self.segments and k not in self._gone]
            loaded = []
            for key in sorted(new, key=lambda k: (not k.rsplit("/", 1)[-1].startswith("cmp-"), k)):
                if key in self._gone:
                    continue
                try:
                    seg = Segment.from_bytes(key, self.backend.get_bytes(key), self.p)
                except KeyError:  # deleted by a compaction since we listed: its rows are in that one
                    continue
                for covered in seg.covers:
                    self._gone.add(covered)
                    self.segments.pop(covered, None)
                self.segments[key] = seg
                loaded.append(key)
            self.last_refresh = time.monotonic()
            return loaded

    def _candidates(self, qkeys: np.ndarray, names) -> tuple[list[str], list[np.ndarray]]:
        ids, sketches = [], []
        for name in names:
            seg = self.segments.get(name)
            rows = seg.candidates(qkeys) if seg is not None else ()
            if len(rows):
                ids += [seg.ids[r] for r in rows]
                sketches.append(seg.sketches[rows])
        return ids, sketches

    def _best(self, q: np.ndarray, ids: list[str], sketches: list[np.ndarray], exclude: str | None) -> Match | None:
        if not ids:
            return None
        cands = np.concatenate(sketches)
        if exclude is not None and exclude in ids:
            keep = np.array([x != exclude for x in ids])
            ids, cands = [x for x in ids if x != exclude], cands[keep]
            if not ids:
                return None
        sims = similarity(q, cands, self.p)
        best = int(np.argmax(sims))
        return Match(ids[best], float(sims[best])) if sims[best] >= self.p.threshold else None

    def lookup(self, sig: Signature, exclude: str | None = None) -> Match | None:
        """The most similar indexed article at or above the threshold (never ``exclude``)."""
        with self._mutex:
            ids, sketches = self._candidates(band_keys(sig, self.p), list(self.segments))
            if self.pending:
                for key in self.delta.query(as_minhash(sig, self.p)):
                    ids.append(key)
                    sketches.append(self.pending[key][1][None, :])
            return self._best(sketch(sig, self.p), ids, sketches, exclude)

    # ------------------------------------------------------------------ writing
    def add(self, article_id: str, sig: Signature) -> None:
        with self._mutex:
            if article_id in self.pending:
                return
            self.delta.insert(article_id, as_minhash(sig, self.p), check_duplication=False)
            self.pending[article_id] = (sig.shingles, sketch(sig, self.p), band_keys(sig, self.p))

    def publish(self, run_id: str) -> list[tuple[str, Match]]:
        """Publish this run's pending articles as one segment, under the archive lock.

        Returns the *late copies*: pending articles that a segment published meanwhile by a
        concurrent run already holds (they are left out of the published segment)."""
        with self._mutex:
            if not self.pending:
                return []
            if self.backend is None:
                late, entries = [], self.pending
                seg = self._segment_of(f"mem-{run_id}-{self._seq}", entries)
            else:
                with self.backend.lock(f"{self.owner} run={run_id}", timeout=self.lock_timeout):
                    new = self.refresh()
                    late = self._late_copies(new) if new else []
                    gone = {a for a, _ in late}
                    entries = {a: e for a, e in self.pending.items() if a not in gone}
                    seg = None
                    if entries:
                        name = f"{self.prefix}seg-{run_id}-{self._seq:05d}.npz"
                        seg = self._segment_of(name, entries)
                        self.backend.put_bytes(name, seg.to_bytes(self.p))
                    if len(self.segments) + 1 > self.max_segments:
                        self._compact(run_id, seg)
                        seg = None if seg is None or seg.name in self._gone else seg
            if seg is not None:
                self.segments[seg.name] = seg
            self._seq += 1
            self._new_delta()
            return late

    def _segment_of(self, name: str, entries: dict) -> Segment:
        ids = list(entries)
        return Segment.build(name, ids, [entries[i][0] for i in ids], np.stack([entries[i][1] for i in ids]),
                             np.stack([entries[i][2] for i in ids]))

    def _late_copies(self, new_segments: list[str]) -> list[tuple[str, Match]]:
        late = []
        for article_id, (_, sk, keys) in self.pending.items():
            match = self._best(sk, *self._candidates(keys, new_segments), exclude=article_id)
            if match is not None:
                late.append((article_id, match))
        return late

    def _compact(self, run_id: str, just_published: Segment | None) -> None:
        """Merge the smaller half of the live segments into one (under the lock)."""
        live = dict(self.segments)
        if just_published is not None:
            live[just_published.name] = just_published
        parts = sorted(live.values(), key=len)[: max(2, len(live) - self.max_segments // 2)]
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{self.prefix}cmp-{stamp}-{run_id}-{self._seq:05d}.npz"
        merged = Segment.merge(name, parts)
        self.backend.put_bytes(name, merged.to_bytes(self.p))
        for s in parts:
            self.segments.pop(s.name, None)
            self._gone.add(s.name)
        self.segments[name] = merged
        for s in parts:  # after the compaction is published: a crash in between leaves both, harmless
            self.backend.delete(s.name)
        logger.info("neardup index: compacted %d segments (%d articles) into %s", len(parts), len(merged), name)

    # ------------------------------------------------------------------ figures
    def __len__(self) -> int:
        return sum(len(s) for s in self.segments.values()) + len(self.pending)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.segments.values())


def reindex(archive, params: Params = DEFAULT, label: str | None = None) -> dict:
    """Add to the index every archived article it lacks (an archive crawled before this stage, a
    run whose index segment could not be published, new parameters). Reads ``articles`` once,
    in batches; indexes the newest version of each article, in crawl order."""
    from pipelines.neardup import signature

    index = NearDupIndex(archive.backend, params, owner="neardup-reindex")
    index.refresh()
    known = {i for seg in index.segments.values() for i in seg.ids}
    latest: dict[str, tuple[int, object]] = {}
    dataset = archive.arrow_dataset("articles")
    for batch in dataset.to_batches(columns=["article_id", "version", "crawled_at"]):
        for aid, version, crawled in zip(*(batch.column(c).to_pylist() for c in ("article_id", "version", "crawled_at"))):
            if aid not in known and (aid not in latest or version > latest[aid][0]):
                latest[aid] = (version, crawled)
    added = short = 0
    if latest:
        for batch in dataset.to_batches(columns=["article_id", "version", "body"]):
            for aid, version, body in zip(*(batch.column(c).to_pylist() for c in ("article_id", "version", "body"))):
                if aid in latest and latest[aid][0] == version:
                    sig = signature(body, params)
                    if sig.shingles < params.min_shingles:
                        short += 1
                        continue
                    index.add(aid, sig)
                    added += 1
        label = label or "reindex-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        index.publish(label)
    return {"indexed_before": len(known), "added": added, "too_short": short, "segments": len(index.segments)}
