"""The near-duplicate index, persisted with the archive and shared by every run.

Layout: ``<archive>/_state/neardup/v2-<params tag>/`` holds immutable *segments*, each one
``.npz`` file published create-only (atomic on every backend):

- ``seg-<run_id>-<k>.npz``: the articles one run archived between two publishes;
- ``cmp-<time>-<run_id>-<k>.npz``: a compaction of older segments, listing them in ``covers``
  (covered segments are deleted after it is published; readers ignore them either way).

A segment holds, for ``n`` articles: ``ids`` (uint64, the 16-hex-digit article ids; any other
id goes to ``ids_str``), ``words`` (uint32: words of the units the share counts), ``sketches``
(``n x num_perm * sig_bits / 8`` bytes: packed b-bit MinHash values) and the inverted index of
sentence units: ``keys`` (uint32: unit hashes, and for a body of few units its fallback LSH
band keys: :func:`pipelines.neardup_signature.index_keys`) and ``rows`` (uint32: the article's row, its
top bit set when the key does not count for the share: the article's lead, a band key), sorted
by (key, row). Kept as they are in memory. A lookup is one binary search per query key and
segment (O(keys log N)), then one vectorised verification of the articles found
(:func:`pipelines.neardup_signature.scores`); a unit found in more than ``COMMON_UNIT`` articles of a
segment (site boilerplate) makes nobody a candidate but still counts for the candidates other
units found. This run's articles not yet published are folded into in-memory segments every
``FOLD`` articles (searched the same way); the last few sit in a dict from key to their positions.

Format 1 (``v1-...``, MinHash LSH bands + 8-bit sketches) is not read: ``scrapy archive
duplicates --reindex`` builds this one from the ``articles`` dataset.

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

from pipelines.neardup_signature import (
    DEFAULT,
    Params,
    Signature,
    decide,
    index_keys,
    pack,
    scores,
    sketch,
)
from storage import clock
from storage.statefiles import StateFiles

logger = logging.getLogger(__name__)

FORMAT = 2
ROOT = "_state/neardup"
UNCOUNTED = np.uint32(1 << 31)  # top bit of a ``rows`` entry: the key names a candidate, no share
ROW = np.uint32((1 << 31) - 1)
_SHIFT = np.uint64(32)  # Segment.pairs: key << 32 | row
_LOW = np.uint64((1 << 32) - 1)
COMMON_UNIT = 256  # a unit in more articles of one segment is boilerplate: it names no candidates
_HEX16 = re.compile(r"[0-9a-f]{16}")


def index_prefix(p: Params = DEFAULT) -> str:
    return f"{ROOT}/v{FORMAT}-{p.tag}/"


@dataclass
class Match:
    article_id: str  # the kept (first-archived) copy
    similarity: float  # the larger of the sentence share and the estimated Jaccard similarity


@dataclass
class Entry:
    """What a lookup needs of one body (and what the index keeps of a pending article)."""

    keys: np.ndarray  # uint32: unit hashes (lead first), then any fallback band keys
    counted: tuple[int, int]  # keys[lo:hi] count for the share: the units but the lead
    unit_words: np.ndarray  # uint32, per unit
    words: int  # words of the units the share counts
    sketch: np.ndarray  # packed b-bit MinHash values

    @staticmethod
    def of(sig: Signature, p: Params) -> "Entry":
        units = len(sig.unit_hashes)
        return Entry(index_keys(sig, p), (min(p.lead, units), units), sig.unit_words.astype(np.uint32), sig.words,
                     pack(sketch(sig, p), p))

    @property
    def uncounted(self) -> np.ndarray:
        lo, hi = self.counted
        mask = np.ones(len(self.keys), bool)
        mask[lo:hi] = False
        return mask


# ---------------------------------------------------------------------- segments
class Segment:
    """One immutable segment, searchable in O(keys log N).

    In memory its inverted index is one sorted uint64 array, ``pairs = key << 32 | row`` (the
    file's ``keys`` and ``rows`` side by side, same 8 bytes a key): a lookup is one binary search
    for every query key's range, and whether a candidate has a boilerplate unit is one more."""

    def __init__(self, name: str, ids, words: np.ndarray, sketches: np.ndarray, keys: np.ndarray,
                 rows: np.ndarray, covers: tuple[str, ...] = ()):
        self.name = name
        self.ids = ids if isinstance(ids, _Ids) else _Ids(ids)
        self.words = np.ascontiguousarray(words, dtype=np.uint32)
        self.sketches = np.ascontiguousarray(sketches, dtype=np.uint8)
        # keys sorted, rows (row | UNCOUNTED) sorted within a key: the pairs are sorted
        self.pairs = (np.asarray(keys, np.uint64) << _SHIFT) | np.asarray(rows, np.uint32)
        self.covers = tuple(covers)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def keys(self) -> np.ndarray:
        return (self.pairs >> _SHIFT).astype(np.uint32)

    @property
    def rows(self) -> np.ndarray:
        return (self.pairs & _LOW).astype(np.uint32)

    @property
    def nbytes(self) -> int:
        return self.pairs.nbytes + self.sketches.nbytes + self.words.nbytes + self.ids.nbytes

    def matches(self, qkeys: np.ndarray, counted: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(candidates, match_unit, match_cand)``: the rows sharing a key with the query (sorted),
        and one entry per (query unit, candidate) sharing a unit that the share counts on both
        sides (the query's ``qkeys[counted[0]:counted[1]]``, the candidate's unflagged keys)."""
        q = np.asarray(qkeys, np.uint64) << _SHIFT
        n = len(q)
        bounds = self.pairs.searchsorted(np.concatenate((q, q | _LOW)), "left")
        lo, hi = bounds[:n], bounds[n:]
        count = hi - lo
        named = np.flatnonzero((count > 0) & (count <= COMMON_UNIT))
        if not len(named):
            return _NONE
        reps = count[named]
        starts = np.repeat(lo[named] - np.concatenate(([0], np.cumsum(reps)[:-1])), reps)
        pos = starts + np.arange(int(reps.sum()))
        unit, raw = np.repeat(named, reps), (self.pairs[pos] & _LOW).astype(np.uint32)
        cands = np.unique(raw & ROW)
        keep = ((raw & UNCOUNTED) == 0) & (unit >= counted[0]) & (unit < counted[1])
        unit, cand = unit[keep], np.searchsorted(cands, raw[keep])
        common = np.flatnonzero(count > COMMON_UNIT)
        common = common[(common >= counted[0]) & (common < counted[1])]
        if len(common):  # boilerplate: counted for the candidates found, if they have it (unflagged)
            wanted = (q[common][:, None] | cands.astype(np.uint64)[None, :]).ravel()
            at = np.minimum(self.pairs.searchsorted(wanted), len(self.pairs) - 1)
            hit = np.flatnonzero(self.pairs[at] == wanted)
            unit = np.concatenate([unit, common[hit // len(cands)]])
            cand = np.concatenate([cand, hit % len(cands)])
        return cands, unit, cand

    # -------------------------------------------------------------- bytes
    @staticmethod
    def build(name: str, ids, words, sketches, entries: list[Entry], covers=()) -> "Segment":
        """From the articles' entries (their keys, and which count for the share)."""
        lengths = np.array([len(e.keys) for e in entries], dtype=np.int64)
        if not len(entries):
            return Segment.from_flat(name, ids, words, sketches, np.empty(0, np.uint32), lengths, np.empty(0, bool))
        return Segment.from_flat(name, ids, words, sketches, np.concatenate([e.keys for e in entries]), lengths,
                                 np.concatenate([e.uncounted for e in entries]), covers)

    @staticmethod
    def from_flat(name: str, ids, words, sketches, keys, lengths, uncounted, covers=()) -> "Segment":
        """From all articles' keys end to end (``keys``; ``uncounted``: which count for no share)
        and each article's number of keys."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if len(lengths) >= int(ROW):
            raise ValueError(f"a segment holds at most {int(ROW)} articles")
        rows = np.repeat(np.arange(len(lengths), dtype=np.uint32), lengths)
        rows[np.asarray(uncounted, bool)] |= UNCOUNTED
        return Segment._sorted(name, ids, words, sketches, np.asarray(keys, np.uint32), rows, covers)

    @staticmethod
    def _sorted(name, ids, words, sketches, keys, rows, covers) -> "Segment":
        seg = Segment(name, ids, words, sketches, np.empty(0, np.uint32), np.empty(0, np.uint32), covers)
        seg.pairs = np.sort((np.asarray(keys, np.uint64) << _SHIFT) | np.asarray(rows, np.uint32))
        return seg

    def to_bytes(self, params: Params) -> bytes:
        arrays = {"words": self.words, "sketches": self.sketches, "keys": self.keys, "rows": self.rows,
                  "covers": np.array(self.covers, dtype=str), "params": np.array(params.tag),
                  "format": np.array(FORMAT)}
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
            fmt = int(z["format"]) if "format" in z else 1
            if str(z["params"]) != params.tag or fmt != FORMAT:
                raise ValueError(f"{name}: built with {z['params']} (format {fmt}), expected {params.tag} (format {FORMAT})")
            ids = z["ids"] if "ids" in z else [str(i) for i in z["ids_str"]]
            return Segment(name, ids, z["words"], z["sketches"], z["keys"], z["rows"],
                           tuple(str(c) for c in z["covers"]))

    @staticmethod
    def merge(name: str, parts: list["Segment"]) -> "Segment":
        if all(s.ids.numbers is not None for s in parts):
            ids = np.concatenate([s.ids.numbers for s in parts])
        else:
            ids = [i for s in parts for i in s.ids]
        offsets = np.concatenate(([0], np.cumsum([len(s) for s in parts])[:-1])).astype(np.uint32)
        rows = np.concatenate([s.rows + off for s, off in zip(parts, offsets)])  # the flag bit rides along
        covers = sorted({c for s in parts for c in (s.name, *s.covers)})
        return Segment._sorted(name, ids, np.concatenate([s.words for s in parts]),
                               np.concatenate([s.sketches for s in parts]),
                               np.concatenate([s.keys for s in parts]), rows, covers)


_NONE = (np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.int64))


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

    def equal(self, article_id: str | None, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` hold ``article_id``."""
        if article_id is None:
            return np.zeros(len(rows), bool)
        if self.numbers is not None:
            if not _HEX16.fullmatch(article_id):
                return np.zeros(len(rows), bool)
            return self.numbers[rows] == np.uint64(int(article_id, 16))
        return np.array([self.strings[int(r)] == article_id for r in rows], bool)

    @property
    def nbytes(self) -> int:
        return self.numbers.nbytes if self.numbers is not None else sum(49 + len(i) for i in self.strings)


# ---------------------------------------------------------------------- the index
class NearDupIndex:
    """Segments published in the archive + this run's articles not yet published.

    ``backend`` is the archive's storage backend (``archive.backend``: ``list``, ``get_bytes``,
    create-only ``put_bytes``, ``delete``, ``lock``); None keeps everything in memory.
    ``max_segments``: a publish that would leave more compacts the smaller ones. Every lookup
    searches every segment (about 0.1 ms each on a 2-core machine, whatever its size): with 16,
    a crawl's CPU per page grew with its archive; 4 keeps it flat at the cost of rewriting the
    run's newer articles every few publishes.
    """

    def __init__(self, backend=None, params: Params = DEFAULT, *, max_segments: int = 4,
                 lock_timeout: float = 600.0, owner: str = "neardup"):
        self.backend = backend
        # the segments' bytes live in the archive through storage's one store of state files
        self.store = StateFiles(backend, index_prefix(params), ".npz") if backend is not None else None
        self.p = params
        self.prefix = index_prefix(params)
        self.max_segments = max_segments
        self.lock_timeout = lock_timeout
        self.owner = owner
        self.segments: dict[str, Segment] = {}
        # Generations: a counter moved on whenever articles join the index (added, loaded, caught
        # up). Each segment is stamped with the generation its newest article joined at, and the
        # pending articles with their last one, so lookup_since(sig, g) searches only what joined
        # after a lookup at generation g (publish and compaction move articles, they add none).
        self.generation = 0
        self._born: dict[str, int] = {}
        self._gone: set[str] = set()  # covered by a compaction we loaded: never load them
        self._mutex = threading.RLock()
        self._seq = 0
        self.part = ""  # a rerun continuing a killed run names its segments apart from the killed process's
        self._new_delta()
        self.last_refresh = 0.0

    def _new_delta(self) -> None:
        self.pending = _Pending()  # this run's articles not yet published, in arrival order
        self._pending_born = -1

    # ------------------------------------------------------------------ reading
    def refresh(self) -> list[str]:
        """Load the segments published since the last look (compactions first); their names."""
        if self.backend is None:
            return []
        with self._mutex:
            listed = self.store.listing()
            new = [k for k in listed if k not in self.segments and k not in self._gone]
            loaded = []
            for key in sorted(new, key=lambda k: (not k.rsplit("/", 1)[-1].startswith("cmp-"), k)):
                if key in self._gone:
                    continue
                data = self.store.get(key)
                if data is None:  # deleted by a compaction since we listed: its rows are in that one
                    continue
                seg = Segment.from_bytes(key, data, self.p)
                for covered in seg.covers:
                    self._gone.add(covered)
                    self.segments.pop(covered, None)
                    self._born.pop(covered, None)
                if not loaded:
                    self.generation += 1
                self.segments[key] = seg
                self._born[key] = self.generation
                loaded.append(key)
            self.last_refresh = time.monotonic()
            return loaded

    def _best(self, q: Entry, names, exclude: str | None, with_pending: bool) -> Match | None:
        """The best copy among the articles of segments ``names`` (and pending ones) sharing a unit.
        The candidates of every segment are scored together (one vectorised verification per
        lookup, not one per segment); on equal scores the first segment's is kept."""
        if not len(q.keys):
            return None
        found: list[tuple] = []  # (id of candidate i, excluded mask, words, sketches, unit, cand)
        segments = [self.segments.get(name) for name in names]
        if with_pending and len(self.pending):
            segments += self.pending.folded  # vectorised, like published segments (COMMON_UNIT cap)
        for seg in segments:
            if seg is None:
                continue
            cands, unit, cand = seg.matches(q.keys, q.counted)
            if len(cands):
                found.append((lambda i, c=cands, ids=seg.ids: ids[c[i]], seg.ids.equal(exclude, cands),
                              seg.words[cands], seg.sketches[cands], unit, cand))
        if with_pending and len(self.pending):
            tail_found = self.pending.tail_matches(q.keys, q.counted)
            if tail_found is not None:
                cands, unit, cand = tail_found
                tail = self.pending.tail
                ids = [tail[r][0] for r in cands.tolist()]
                entries = [tail[r][1] for r in cands.tolist()]
                found.append((ids.__getitem__, np.array([i == exclude for i in ids]),
                              np.array([e.words for e in entries], np.uint32),
                              np.stack([e.sketch for e in entries]), unit, cand))
        if not found:
            return None
        if len(found) == 1:
            id_of, excluded, words, sketches, unit, cand = found[0]
        else:
            sizes = np.array([len(f[2]) for f in found])
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            excluded = np.concatenate([f[1] for f in found])
            words = np.concatenate([f[2] for f in found])
            sketches = np.concatenate([f[3] for f in found])
            unit = np.concatenate([f[4] for f in found])
            cand = np.concatenate([f[5] + start for f, start in zip(found, starts)])

            def id_of(i, found=found, starts=starts):
                at = int(np.searchsorted(starts, i, "right")) - 1
                return found[at][0](i - int(starts[at]))
        s, k, j = scores(q.words, q.unit_words, unit, cand, words, q.sketch, sketches, self.p)
        if excluded.any():  # a new version of an article is never a copy of itself
            s, k, j = np.where(excluded, 0.0, s), np.where(excluded, 0, k), np.where(excluded, -1.0, j)
        got = decide(s, k, j, self.p)
        return Match(id_of(got[0]), got[1]) if got is not None else None

    def lookup(self, sig: Signature, exclude: str | None = None) -> Match | None:
        """The most similar indexed article that is a copy of ``sig`` (never ``exclude``)."""
        with self._mutex:
            return self._best(Entry.of(sig, self.p), list(self.segments), exclude, with_pending=True)

    def lookup_since(self, sig: Signature, exclude: str | None, generation: int) -> Match | None:
        """As :meth:`lookup`, among the articles that joined after ``generation`` only: for a
        ``sig`` whose lookup found no copy when :attr:`generation` was that, the answer
        :meth:`lookup` gives now (each candidate is judged on its own, so no copy among the older
        articles stays no copy)."""
        with self._mutex:
            names = [n for n in self.segments if self._born.get(n, generation + 1) > generation]
            with_pending = self._pending_born > generation
            if not names and not with_pending:
                return None
            return self._best(Entry.of(sig, self.p), names, exclude, with_pending=with_pending)

    # ------------------------------------------------------------------ writing
    def add(self, article_id: str, sig: Signature) -> None:
        with self._mutex:
            if article_id in self.pending:
                return
            self.pending.add(article_id, Entry.of(sig, self.p))
            self.generation += 1
            self._pending_born = self.generation

    def publish(self, run_id: str) -> list[tuple[str, Match]]:
        """Publish this run's pending articles as one segment, under the archive lock.

        Returns the *late copies*: pending articles that a segment published meanwhile by a
        concurrent run already holds (they are left out of the published segment)."""
        with self._mutex:
            if not self.pending:
                return []
            if self.backend is None:
                late, entries = [], dict(self.pending.items())
                seg = self._segment_of(f"mem-{run_id}-{self._seq}", entries)
            else:
                with self.store.lock(f"{self.owner} run={run_id}", timeout=self.lock_timeout):
                    new = self.refresh()
                    late = self._late_copies(new) if new else []
                    gone = {a for a, _ in late}
                    entries = {a: e for a, e in self.pending.items() if a not in gone}
                    seg = None
                    if entries:
                        name = f"{self.prefix}seg-{run_id}-{self.part}{self._seq:05d}.npz"
                        seg = self._segment_of(name, entries)
                        self.store.put(name, seg.to_bytes(self.p))
                    if len(self.segments) + 1 > self.max_segments:
                        self._compact(run_id, seg)
                        seg = None if seg is None or seg.name in self._gone else seg
            if seg is not None:
                self.segments[seg.name] = seg
                self._born[seg.name] = self._pending_born
            self._seq += 1
            self._new_delta()
            return late

    def _segment_of(self, name: str, entries: dict[str, Entry]) -> Segment:
        ids = list(entries)
        return Segment.build(name, ids, [entries[i].words for i in ids], np.stack([entries[i].sketch for i in ids]),
                             [entries[i] for i in ids])

    def _late_copies(self, new_segments: list[str]) -> list[tuple[str, Match]]:
        late = []
        for article_id, entry in self.pending.items():
            match = self._best(entry, new_segments, exclude=article_id, with_pending=False)
            if match is not None:
                late.append((article_id, match))
        return late

    def _compact(self, run_id: str, just_published: Segment | None) -> None:
        """Merge the smaller half of the live segments into one (under the lock)."""
        live = dict(self.segments)
        if just_published is not None:
            live[just_published.name] = just_published
        parts = sorted(live.values(), key=len)[: max(2, len(live) - self.max_segments // 2)]
        stamp = clock.now().strftime("%Y%m%dT%H%M%S")
        name = f"{self.prefix}cmp-{stamp}-{run_id}-{self._seq:05d}.npz"
        merged = Segment.merge(name, parts)
        # published, then the covered segments deleted (a crash in between leaves both: readers skip
        # what a compaction covers); a name taken already leaves everything as it is
        if not self.store.merge([s.name for s in parts], name, merged.to_bytes(self.p),
                                what=f"neardup segments ({len(merged)} articles)"):
            return
        born = max(self._born.get(s.name, self.generation) for s in parts)
        for s in parts:
            self.segments.pop(s.name, None)
            self._born.pop(s.name, None)
            self._gone.add(s.name)
        self.segments[name] = merged
        self._born[name] = born

    def catch_up(self, archive, write: bool = True) -> int:
        """Index the articles of runs that recovery published: a run killed before it published
        its segments left them archived but not here, and a copy crawled next would be archived
        again. Call before deciding on any copy; returns how many articles were added. Each run
        is caught up once (its ``seg-<run_id>-recovered.npz``, then the run marked done:
        storage/recovered.py); ``write=False`` (a dry run) adds them in memory only."""
        consumer = f"neardup-v{FORMAT}-{self.p.tag}"
        added = 0
        with self._mutex:
            for record in archive.recovered_runs(consumer):
                added += self._add_archived(archive, record, "recovered", write)
                if write:
                    archive.recovered_done(record["run_id"], consumer)
        return added

    def catch_up_run(self, archive, run_id: str, files: list[dict], write: bool = True) -> int:
        """Index the articles that a killed process of run ``run_id`` published (``files``, its
        journal's) without publishing their index entries; a rerun continuing it calls this first."""
        with self._mutex:
            return self._add_archived(archive, {"run_id": run_id, "files": files}, f"{self.part}resumed", write)

    def _add_archived(self, archive, record: dict, label: str, write: bool) -> int:
        from pipelines.neardup_signature import signature

        run_id = record["run_id"]
        rows = archive.recovered_rows("articles", record, ["article_id", "version", "crawled_at", "body"])
        newest: dict[str, tuple] = {}
        for aid, version, crawled, body in zip(*(rows[c].to_pylist() for c in rows.column_names)):
            if aid not in newest or version > newest[aid][0]:
                newest[aid] = (version, crawled, body)
        indexed = self._indexed(list(newest))
        entries = {}
        for aid, (_, _, body) in sorted(newest.items(), key=lambda kv: (kv[1][1], kv[0])):
            sig = signature(body, self.p)
            if aid not in indexed and sig.shingles >= self.p.min_shingles:
                entries[aid] = Entry.of(sig, self.p)
        if entries:
            name = f"{self.prefix}seg-{run_id}-{label}.npz"
            seg = self._segment_of(name, entries)
            if write:  # create-only: a catch-up redone after a crash publishes nothing twice
                self.store.put(name, seg.to_bytes(self.p))
            self.generation += 1
            self.segments[name] = seg
            self._born[name] = self.generation
            logger.warning("near-duplicate index: %d articles of %s run %s added", len(entries), label, run_id)
        return len(entries)

    def _indexed(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` a loaded segment or this run's pending articles hold."""
        found = {i for i in ids if i in self.pending}
        hexes = [i for i in ids if _HEX16.fullmatch(i)]
        numbers = np.array([int(i, 16) for i in hexes], dtype=np.uint64)
        for seg in self.segments.values():
            if seg.ids.numbers is not None:
                found.update(h for h, hit in zip(hexes, np.isin(numbers, seg.ids.numbers)) if hit)
            else:
                found.update(set(ids) & set(seg.ids))
        return found

    def other_indexes(self) -> list[str]:
        """Index folders of other formats or parameters in the archive (never read: ``--reindex``
        builds this one from the ``articles`` dataset)."""
        if self.backend is None:
            return []
        folders = {o.key[len(ROOT) + 1 :].split("/", 1)[0] for o in self.backend.list(ROOT + "/")}
        return sorted(f for f in folders if f"{ROOT}/{f}/" != self.prefix)

    # ------------------------------------------------------------------ figures
    def __len__(self) -> int:
        return sum(len(s) for s in self.segments.values()) + len(self.pending)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.segments.values())


# ---------------------------------------------------------------------- pending articles
FOLD = 2048  # pending articles folded into one in-memory segment (searched vectorised, compact)


class _Pending:
    """This run's articles not yet published, in arrival order: every ``FOLD`` of them folded
    into an in-memory :class:`Segment` (plus the columns that rebuild their :class:`Entry`:
    keys in order, counted range, unit words), the last few in a dict from key to positions.
    Both sides name candidates as a segment does (a key in more than ``COMMON_UNIT`` articles of
    a fold names nobody, but still counts for the candidates other keys found)."""

    def __init__(self):
        self.folded: list[Segment] = []
        self._cols: list[tuple] = []  # per fold: (keys, key offsets, counted (n x 2), unit words, offsets)
        self._where: dict[str, int] = {}  # id -> position in arrival order
        self.tail: list[tuple[str, Entry]] = []
        self._tail_keys: dict[int, list[int]] = {}  # key -> positions in tail (| UNCOUNTED)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, article_id) -> bool:
        return article_id in self._where

    def add(self, article_id: str, entry: Entry) -> None:
        self._where[article_id] = len(self._where)
        at = len(self.tail)
        self.tail.append((article_id, entry))
        for h, flag in zip(entry.keys.tolist(), entry.uncounted.tolist()):
            self._tail_keys.setdefault(h, []).append(at | int(UNCOUNTED) if flag else at)
        if len(self.tail) >= FOLD:
            self._fold()

    def _fold(self) -> None:
        ids = [a for a, _ in self.tail]
        entries = [e for _, e in self.tail]
        self.folded.append(Segment.build(f"pending-{len(self.folded)}", ids, [e.words for e in entries],
                                         np.stack([e.sketch for e in entries]), entries))
        self._cols.append((np.concatenate([e.keys for e in entries]).astype(np.uint32),
                           np.cumsum([0] + [len(e.keys) for e in entries]).astype(np.int64),
                           np.array([e.counted for e in entries], np.int32).reshape(-1, 2),
                           np.concatenate([e.unit_words for e in entries]).astype(np.uint32),
                           np.cumsum([0] + [len(e.unit_words) for e in entries]).astype(np.int64)))
        self.tail, self._tail_keys = [], {}

    def tail_matches(self, qkeys: np.ndarray, counted: tuple[int, int]):
        """As :meth:`Segment.matches` over the tail, or None when it names no candidate."""
        if not self._tail_keys:
            return None
        unit, raw, common = [], [], []
        for j, h in enumerate(qkeys.tolist()):
            codes = self._tail_keys.get(h)
            if not codes:
                continue
            if len(codes) > COMMON_UNIT:
                common.append(j)
                continue
            unit.extend([j] * len(codes))
            raw.extend(codes)
        if not raw:
            return None
        raw, unit = np.array(raw, np.uint32), np.array(unit, np.int64)
        cands = np.unique(raw & ROW)
        keep = ((raw & UNCOUNTED) == 0) & (unit >= counted[0]) & (unit < counted[1])
        unit, cand = unit[keep], np.searchsorted(cands, raw[keep])
        for j in common:  # boilerplate: counted for the candidates found
            if not counted[0] <= j < counted[1]:
                continue
            block = np.array([c for c in self._tail_keys[int(qkeys[j])] if not c & int(UNCOUNTED)], np.uint32)
            found = np.flatnonzero(np.isin(cands, block))
            unit = np.concatenate([unit, np.full(len(found), j)])
            cand = np.concatenate([cand, found])
        return cands, unit, cand

    def items(self):
        """``(article id, Entry)`` of every pending article, in arrival order."""
        for seg, (keys, ko, counted, uw, uo) in zip(self.folded, self._cols):
            for r in range(len(seg)):
                yield seg.ids[r], Entry(keys[ko[r] : ko[r + 1]], (int(counted[r, 0]), int(counted[r, 1])),
                                        uw[uo[r] : uo[r + 1]], int(seg.words[r]), seg.sketches[r])
        yield from self.tail


def reindex(archive, params: Params = DEFAULT, label: str | None = None) -> dict:
    """Add to the index every archived article it lacks (an archive crawled before this stage, a
    run whose index segment could not be published, new parameters or index format). Reads
    ``articles`` once, in batches; indexes the newest version of each article, in crawl order."""
    from pipelines.neardup_signature import signature

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
        label = label or "reindex-" + clock.now().strftime("%Y%m%dT%H%M%SZ")
        index.publish(label)
    return {"indexed_before": len(known), "added": added, "too_short": short, "segments": len(index.segments)}
