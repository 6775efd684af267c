"""The local write-ahead journal of one run: accepted rows and the publish protocol's records.

One folder per run, ``<journal root>/<run_id>/``:

- ``journal.log``: one record per line, ``<crc32 hex> <json>\\n``, appended with ``O_APPEND``
  and fsynced before ``append`` returns. Records: ``row`` (seq = number of rows before it),
  ``intent`` (segment k will publish rows [a, b) with these demotions), ``done`` (segment k is
  published: its files), ``committed`` (the manifest is in the archive).
- ``meta.json``: run id, archive, pid, host, start time.
- ``alive.lock``: ``flock``-ed while the run's process lives; recovery skips journals whose
  lock is taken (a crawl still running), and takes over the others.

A torn last line (a kill inside ``write``) fails its checksum and is cut off: its ``append``
never returned, so nobody was told that row was accepted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import zlib
from pathlib import Path

from . import clock, faults
from .errors import ArchiveError, JournalFull
from .faults import fault
from .rows import dumps, loads

LOG = "journal.log"
META = "meta.json"
ALIVE = "alive.lock"
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _line(record: dict) -> bytes:
    body = dumps(record).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(body), body)


class Journal:
    def __init__(self, folder: str | os.PathLike, max_bytes: int | None = None):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._fd: int | None = None
        self._alive: int | None = None
        self.size = 0

    # ------------------------------------------------------------------ lifecycle
    def open(self, meta: dict | None = None) -> "Journal":
        """Create or reopen the journal, take its liveness lock, cut a torn tail."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self.take_alive():
                raise ArchiveError(f"journal {self.folder} is in use by a running process")
            log = self.folder / LOG
            self._fd = os.open(log, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)  # read: read_record
            good = self._valid_length()
            if good != os.fstat(self._fd).st_size:
                os.ftruncate(self._fd, good)
                os.fsync(self._fd)
            self.size = good
            if meta is not None and not (self.folder / META).exists():
                meta = {**meta, "pid": os.getpid(), "host": socket.gethostname(), "created": clock.time()}
                tmp = self.folder / (META + ".tmp")
                tmp.write_text(json.dumps(meta))
                os.replace(tmp, self.folder / META)
            dfd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(dfd)
            os.close(dfd)
        except OSError as exc:
            self.close()
            if exc.errno in _FULL_ERRNOS:
                raise JournalFull(str(self.folder), exc) from exc
            raise
        return self

    def take_alive(self) -> bool:
        if self._alive is not None:
            return True
        fd = os.open(self.folder / ALIVE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._alive = fd
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._alive is not None:
            os.close(self._alive)
            self._alive = None

    def remove(self) -> None:
        """Delete the journal folder (after the run's manifest is in the archive)."""
        for name in (LOG, META, META + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()
        shutil.rmtree(self.folder / "tmp", ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.folder / ALIVE).unlink()
        self.close()
        with contextlib.suppress(OSError):
            self.folder.rmdir()

    def meta(self) -> dict:
        try:
            return json.loads((self.folder / META).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    # ------------------------------------------------------------------ writing
    def append(self, records: list[dict]) -> list[tuple[int, int]]:
        """Append records and fsync once; on return they survive a crash. Returns where each
        record's line is, ``(offset, length)``, for :meth:`read_record`."""
        lines = [_line(r) for r in records]
        data = b"".join(lines)
        if self.max_bytes is not None and self.size + len(data) > self.max_bytes:
            raise JournalFull(str(self.folder), f"size cap of {self.max_bytes} bytes reached")
        fault("journal.before_write")
        try:
            if faults.hit("journal.torn_write"):  # test hook: die inside a write
                os.write(self._fd, data[: len(data) // 2])
                faults.kill()
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            fault("journal.after_write")
            os.fsync(self._fd)
        except OSError as exc:
            # Never leave half a record behind: cut back to what was there.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
            if exc.errno in _FULL_ERRNOS:
                raise JournalFull(str(self.folder), exc) from exc
            raise
        spans, pos = [], self.size
        for line in lines:
            spans.append((pos, len(line)))
            pos += len(line)
        self.size += len(data)
        fault("journal.after_fsync")
        return spans

    def read_record(self, span: tuple[int, int]) -> dict:
        """The record :meth:`append` wrote at ``span``, read back from the file (checksum checked)."""
        offset, length = span
        line = os.pread(self._fd, length, offset)
        body = line[9:-1]
        try:
            ok = len(line) == length and line[-1:] == b"\n" and int(line[:8], 16) == zlib.crc32(body)
        except ValueError:
            ok = False
        if not ok:
            raise ArchiveError(f"journal {self.folder / LOG}: the record at byte {offset} does not read back")
        return loads(body)

    # ------------------------------------------------------------------ reading
    def _valid_length(self) -> int:
        good = 0
        for end, _ in self._scan():
            good = end
        return good

    def _scan(self):
        path = self.folder / LOG
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                return  # torn tail
            line = data[pos:nl]
            ok = len(line) > 9 and line[8:9] == b" "
            if ok:
                try:
                    ok = int(line[:8], 16) == zlib.crc32(line[9:])
                except ValueError:
                    ok = False
            if not ok:
                if data.find(b"\n", nl + 1) >= 0:
                    raise ArchiveError(f"journal {path} is corrupt at byte {pos} (not at its end)")
                return  # torn last record
            pos = nl + 1
            yield pos, line[9:]

    def records(self):
        """Every whole record, in order; rows get their ``seq``."""
        seq = 0
        for _, body in self._scan():
            record = loads(body)
            if record.get("t") == "row":
                record["seq"] = seq
                seq += 1
            yield record
