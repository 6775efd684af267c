"""The cross-run dedupe state: which articles (by ``article_id``) and texts (by ``content_hash``)
the archive already holds. It lives in the archive (``_state/claims/*.parquet``), so any machine
that opens the archive sees it.

Each published segment adds one claims file ``_state/claims/<run_id>-<k>.parquet`` with columns
``url_key`` (uint64, 64-bit hash of article_id), ``hash_key`` (uint64, of content_hash) and
``article_id`` (the kept copy). A claims file is published under the archive lock *before* the
segment's data files, so no other writer can archive the same text after it.

In memory, three uint64 arrays and no Python object per article: ``url_keys`` (sorted, 8 B),
``hash_keys`` (sorted, 8 B) and, aligned with them, the kept copy's article id (8 B): the
project's ids are 16 hex digits (64 bits), stored as the number; any other id is kept in a small
side dict. 24 B per article: ~24 MB per million articles (measured: docs/STORAGE.md).
"""

from __future__ import annotations

import io
import re
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import CorruptFile, NotFound
from .rows import hash64

_HEX = re.compile(r"[0-9a-f]{16}")
CLAIMS_PREFIX = "_state/claims/"
CLAIMS_SCHEMA = pa.schema(
    [
        pa.field("url_key", pa.uint64(), nullable=False),
        pa.field("hash_key", pa.uint64(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
    ]
)


def claims_key(run_id: str, segment: int) -> str:
    return f"{CLAIMS_PREFIX}{run_id}-{segment:05d}.parquet"


def claims_bytes(url_keys: list[int], hash_keys: list[int], ids: list[str]) -> bytes:
    table = pa.table(
        [pa.array(url_keys, pa.uint64()), pa.array(hash_keys, pa.uint64()), pa.array(ids, pa.string())],
        schema=CLAIMS_SCHEMA,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


_NIBBLE = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i


def _hex16_to_uint64(ids: pa.Array) -> np.ndarray | None:
    """Vectorised: an array of 16-hex-digit ids -> their uint64 values, or None if any is not one."""
    ids = ids.cast(pa.string())
    if ids.null_count or len(ids) == 0:
        return None if len(ids) else np.empty(0, np.uint64)
    offsets = np.frombuffer(ids.buffers()[1], np.int32, len(ids) + 1, ids.offset * 4)
    if not (np.diff(offsets) == 16).all():
        return None
    data = np.frombuffer(ids.buffers()[2], np.uint8, 16 * len(ids), int(offsets[0])).reshape(-1, 16)
    out = np.empty(len(ids), np.uint64)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    step = 1 << 16  # bounded temporaries: 128 B per id of a chunk, not of the whole array
    for start in range(0, len(ids), step):
        nibbles = _NIBBLE[data[start:start + step]]
        if (nibbles == 255).any():
            return None
        out[start:start + step] = (nibbles.astype(np.uint64) << shifts).sum(axis=1, dtype=np.uint64)
    return out


class DedupeState:
    """Lookups against what the archive has published. Thread-safe; ``refresh`` reads only new files."""

    def __init__(self, backend):
        self._backend = backend
        self._lock = threading.Lock()
        self._files: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self.url_keys = np.empty(0, np.uint64)
        # (sorted hash keys, owner ids aligned with them): one attribute, swapped in one step
        self._hashes = (np.empty(0, np.uint64), np.empty(0, np.uint64))
        self._odd_ids: dict[int, str] = {}  # owner number -> id, for ids that are not 16 hex digits

    @property
    def hash_keys(self):
        return self._hashes[0]

    # ------------------------------------------------------------------ lookups
    def lookup_url(self, article_id: str) -> bool:
        return self.has_url_key(hash64(article_id))

    def lookup_hash(self, content_hash: str) -> str | None:
        return self.owner_of_hash_key(hash64(content_hash))

    def has_url_key(self, key: int) -> bool:
        keys = self.url_keys
        i = int(np.searchsorted(keys, np.uint64(key)))
        return i < len(keys) and int(keys[i]) == key

    def owner_of_hash_key(self, key: int) -> str | None:
        keys, owners = self._hashes
        i = int(np.searchsorted(keys, np.uint64(key)))
        if i < len(keys) and int(keys[i]) == key:
            number = int(owners[i])
            return self._odd_ids.get(number) or format(number, "016x")
        return None

    def __len__(self) -> int:
        return len(self.url_keys)

    def nbytes(self) -> int:
        return self.url_keys.nbytes + self._hashes[0].nbytes + self._hashes[1].nbytes + 120 * len(self._odd_ids)

    # ------------------------------------------------------------------ loading
    def refresh(self) -> int:
        """Read claims files published since the last call; returns how many were read."""
        listed = {o.key for o in self._backend.list(CLAIMS_PREFIX)}
        with self._lock:
            if self._files - listed:  # files merged away by compaction: start over
                self._files = set()
                self._reset()
            new = sorted(listed - self._files)
        tables = []
        for key in new:
            try:
                tables.append(pq.read_table(io.BytesIO(self._backend.get_bytes(key))))
            except NotFound:
                continue
            except pa.ArrowException as exc:
                raise CorruptFile(key, exc) from exc
        if tables:
            table = pa.concat_tables(tables)
            self.add(table.column("url_key").to_numpy(), table.column("hash_key").to_numpy(),
                     table.column("article_id").combine_chunks(), new)
        return len(new)

    def _owner_numbers(self, ids) -> np.ndarray:
        ids = ids if isinstance(ids, pa.Array) else pa.array(ids, pa.string())
        fast = _hex16_to_uint64(ids)
        if fast is not None:
            return fast
        ids = ids.to_pylist()
        out = np.empty(len(ids), np.uint64)
        for i, article_id in enumerate(ids):
            if len(article_id) == 16 and _HEX.fullmatch(article_id):
                out[i] = int(article_id, 16)
            else:
                number = hash64(article_id)
                self._odd_ids[number] = article_id
                out[i] = number
        return out

    def add(self, url_keys, hash_keys, ids, files=()) -> None:
        """Merge keys (e.g. of a segment this process just published) into the sorted arrays."""
        url_keys = np.asarray(url_keys, dtype=np.uint64)
        hash_keys = np.asarray(hash_keys, dtype=np.uint64)
        with self._lock:
            if files and set(files) <= self._files:
                return
            self._files.update(files)
            owners = self._owner_numbers(ids)
            urls = np.concatenate([self.url_keys, url_keys])
            urls.sort(kind="stable")
            old_hashes, old_owners = self._hashes
            hashes = np.concatenate([old_hashes, hash_keys])
            order = np.argsort(hashes, kind="stable")
            all_owners = np.concatenate([old_owners, owners])
            # Swap in whole new arrays: a concurrent lookup sees the old or the new, both sorted.
            self.url_keys = urls
            self._hashes = (hashes[order], all_owners[order])
