"""The archive on a local (or mounted) file system.

Publish = write a hidden temporary in the destination folder, fsync it, ``link()`` it to
the final name (fails if the name exists: create-only, atomic), unlink the temporary and
fsync the folder. A reader sees either no file or the whole file.
The archive lock is ``flock`` on ``_state/lock``: the kernel releases it when its holder
dies, even by SIGKILL, so a crashed writer never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import ArchiveConfigError, LockTimeout, NotFound
from ..faults import fault
from .base import TMP_PREFIX, Backend, ObjectInfo, check_key, names_run


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBackend(Backend):
    scheme = "file"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().absolute()
        self.display_uri = str(self.root)

    @classmethod
    def from_uri(cls, uri: str, **options):
        options.pop("lock_lease", None)  # the flock needs no lease
        if options:
            raise ArchiveConfigError(f"options {sorted(options)} do not apply to a local archive")
        if uri.lower().startswith("file:"):
            parts = urlsplit(uri)
            if parts.netloc not in ("", "localhost"):
                raise ArchiveConfigError(f"file URI with a host ({parts.netloc!r}) is not local")
            uri = unquote(parts.path)
        return cls(uri)

    # ------------------------------------------------------------------ helpers
    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _mkdirs(self, folder: Path) -> None:
        """Create ``folder`` and fsync each new entry's parent so the folder survives a crash."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            with contextlib.suppress(FileExistsError):
                new.mkdir()
            _fsync_dir(new.parent)

    def _publish(self, dest: Path, write) -> bool:
        self._mkdirs(dest.parent)
        tmp = dest.parent / f"{TMP_PREFIX}{dest.name}-{uuid.uuid4().hex[:8]}"
        try:
            with open(tmp, "xb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            fault("local.after_tmp")
            try:
                os.link(tmp, dest)
                created = True
            except FileExistsError:
                created = False
            fault("local.after_link")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _fsync_dir(dest.parent)
        return created

    # ------------------------------------------------------------------ contract
    def put_file(self, local_path: str, key: str) -> bool:
        def copy(fh):
            with open(local_path, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 20)

        return self._publish(self.path(key), copy)

    def put_bytes(self, key: str, data: bytes) -> bool:
        return self._publish(self.path(key), lambda fh: fh.write(data))

    def put_bytes_overwrite(self, key: str, data: bytes) -> None:
        dest = self.path(key)
        self._mkdirs(dest.parent)
        tmp = dest.parent / f"{TMP_PREFIX}{dest.name}-{uuid.uuid4().hex[:8]}"
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(key) from None

    def download(self, key: str, local_path: str) -> None:
        try:
            shutil.copyfile(self.path(key), local_path)
        except FileNotFoundError:
            raise NotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list(self, prefix: str, exact: bool = False) -> list[ObjectInfo]:
        base = self.path(prefix.rstrip("/")) if prefix else self.root
        if base.is_file():
            st = base.stat()
            return [ObjectInfo(prefix.rstrip("/"), st.st_size, st.st_mtime)]
        if exact or not base.is_dir():
            return []
        out = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(TMP_PREFIX):
                    continue
                full = Path(dirpath) / name
                try:
                    st = full.stat()
                except FileNotFoundError:  # removed while we walked (compaction)
                    continue
                out.append(ObjectInfo(full.relative_to(self.root).as_posix(), st.st_size, st.st_mtime))
        return out

    def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)

    @contextlib.contextmanager
    def lock(self, owner: str, timeout: float = 600.0):
        path = self.root / "_state" / "lock"
        self._mkdirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() - start > timeout:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                        raise LockTimeout(self.display_uri, holder, time.monotonic() - start) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{owner} pid={os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the flock

    def arrow_filesystem(self):
        from pyarrow.fs import LocalFileSystem

        return LocalFileSystem(), self.root.as_posix()

    def temporaries(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = []
        for dirpath, _, filenames in os.walk(self.root):
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    found.append((Path(dirpath) / name).relative_to(self.root).as_posix())
        return sorted(found)

    def remove_temporaries(self, older_than: float = 0.0, run_id: str | None = None) -> int:
        now, removed = time.time(), 0
        for key in self.temporaries():
            path = self.root / key
            mine = run_id is not None and names_run(path.name, run_id)
            try:
                old = now - path.stat().st_mtime >= older_than
            except FileNotFoundError:
                continue
            if mine or (run_id is None and old):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed
