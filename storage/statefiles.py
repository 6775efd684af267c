"""The files a crawl keeps beside the data, under ``<archive>/_state/<area>/``, and their compaction.

Three areas hold many small immutable files, one or a few per run, that readers load whole:

- ``_state/seen/``: the URLs each run fetched and what came of them (:mod:`storage.seen`);
- ``_state/claims/``: the article ids and text hashes each run archived (:mod:`storage.state`);
- ``_state/neardup/<format>/``: the near-duplicate index's segments (the algorithm and the bytes'
  layout are :mod:`pipelines.neardup_index`'s; storing them is this module's).

Every file is published create-only (``put_bytes``: atomic on every backend), so a file is either
whole or absent, and a name is never written twice. :meth:`StateFiles.merge` is the one compaction
routine for all three: the merged file is published first, the merged ones deleted after. A crash
in between leaves both, which every reader tolerates (seen: the latest row per URL wins; claims: a
key twice is one key; neardup: a compaction lists the segments it covers, and readers skip those).
A reader that listed a file a merge has deleted since gets None from :meth:`StateFiles.get` and
reloads or skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .faults import fault

logger = logging.getLogger(__name__)


class StateFiles:
    """The files of one area: ``prefix`` (ends with ``/``) and ``suffix`` (``.parquet``, ``.npz``)."""

    def __init__(self, backend, prefix: str, suffix: str):
        if not prefix.endswith("/"):
            raise ValueError(f"a state area's prefix ends with '/': {prefix!r}")
        self.backend = backend
        self.prefix = prefix
        self.suffix = suffix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}{self.suffix}"

    def listing(self) -> list[str]:
        """The area's files, sorted by key."""
        return sorted(o.key for o in self.backend.list(self.prefix) if o.key.endswith(self.suffix))

    def get(self, key: str) -> bytes | None:
        """A file's bytes, or None when it is gone (a merge deleted it after it was listed)."""
        try:
            return self.backend.get_bytes(key)
        except KeyError:
            return None

    def put(self, key: str, data: bytes) -> bool:
        """Publish create-only; False when the key exists already (it is left as it is)."""
        return bool(self.backend.put_bytes(key, data))

    def lock(self, owner: str, timeout: float):
        """The archive's publish lock (what a read-then-publish of this area must hold)."""
        return self.backend.lock(owner, timeout=timeout)

    def merge(self, keys: Iterable[str], key: str, data: bytes, *, what: str = "state files",
              fault_point: str = "state.after_merge") -> bool:
        """Replace the files ``keys`` by one file ``key`` holding ``data`` (their merge).

        ``data`` is published first (create-only), the merged files deleted after; when ``key``
        exists already nothing is deleted (a file this merge did not write may hold rows the
        merged files hold no more) and False is returned. Callers hold the archive's lock or the
        crawl lock, so two merges of one area never race."""
        keys = [k for k in keys if k != key]
        if not self.put(key, data):
            logger.warning("%s not merged: %s exists already", what, key)
            return False
        fault(fault_point)  # tests kill here: between the publish and the deletes
        for k in keys:
            self.backend.delete(k)
        logger.info("merged %d %s into %s", len(keys), what, key)
        return True
