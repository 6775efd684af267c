"""The contract every backend keeps. Keys are relative POSIX paths inside the archive."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ArchiveError

_BAD_KEY = re.compile(r"(^/)|(^|/)\.\.?(/|$)|//|\\")
TMP_PREFIX = ".tmp-"  # local temporaries; never end in .parquet so no reader's glob matches them


def names_run(name: str, run_id: str) -> bool:
    """Whether a (temporary) file name was made for run ``run_id``."""
    rest = name[len(TMP_PREFIX):] if name.startswith(TMP_PREFIX) else name
    return re.search(rf"(^|-){re.escape(run_id)}[-.]", rest) is not None


def check_key(key: str) -> str:
    if not key or _BAD_KEY.search(key):
        raise ArchiveError(f"invalid archive key {key!r}")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime: float  # seconds since the epoch, store clock


class Backend:
    """Bytes in, bytes out; create-only publishes; a lock for the commit protocol.

    Subclasses implement: ``put_file``, ``put_bytes``, ``get_bytes``, ``list``, ``delete``,
    ``lock``, ``arrow_filesystem``, ``temporaries``; and set ``display_uri``.
    """

    scheme = ""
    display_uri = ""

    @classmethod
    def from_uri(cls, uri: str, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def put_file(self, local_path: str, key: str) -> bool:
        """Publish a whole local file at ``key`` only if ``key`` does not exist. True if created."""
        raise NotImplementedError

    def put_bytes(self, key: str, data: bytes) -> bool:
        raise NotImplementedError

    def put_bytes_overwrite(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def get_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return bool(self.list(key, exact=True))

    def list(self, prefix: str, exact: bool = False) -> list[ObjectInfo]:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def download(self, key: str, local_path: str) -> None:
        with open(local_path, "wb") as fh:
            fh.write(self.get_bytes(key))

    def lock(self, owner: str, timeout: float):
        """A context manager holding the archive-wide publish lock."""
        raise NotImplementedError

    def arrow_filesystem(self):
        """``(pyarrow.fs.FileSystem, root)``; the file of key ``k`` is ``f"{root}/{k}"``."""
        raise NotImplementedError

    def temporaries(self) -> list[str]:
        """Leftovers of interrupted publishes (temp files, unfinished multipart uploads)."""
        return []

    def remove_temporaries(self, older_than: float = 0.0, run_id: str | None = None) -> int:
        return 0
