"""Group commit: many accepted rows, one write and one fsync of the journal.

A caller :meth:`~GroupCommit.submit`\\ s records and gets a :class:`concurrent.futures.Future`
that completes only once they are durable: the commit function (``Run._write_rows``: one
``Journal.append``, so one ``write`` and one ``fsync``) returned for the batch that held them.
A batch closes when ``rows`` records are waiting or ``ms`` milliseconds have passed since its
first one, whichever comes first; a committer thread (started on the first submit) writes it,
so the thread that accepts (Scrapy's reactor) never waits on the disk. Batches are written and
acknowledged one at a time, in the order their records were submitted: the journal's order is
the order of ``submit`` calls, and so is the order of acknowledgements.

:meth:`~GroupCommit.commit_now` writes every waiting record, then the caller's, in one batch
in the caller's thread and returns once they are durable (the synchronous ``Run.accept``);
:meth:`~GroupCommit.flush` is ``commit_now`` of nothing. If the commit function fails (a
failed ``write`` or ``fsync``, a full journal, a closed run), every future of the batch fails
with :class:`~storage.errors.NotDurable` (its ``cause`` is the error) and is counted: a record
is never acknowledged unless its batch was fsynced.

Thread-safe. Lock order: the commit lock, then whatever the commit function takes (the run's
mutex); so a caller holding the run's mutex must not call :meth:`commit_now` or :meth:`flush`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Callable

from .errors import ArchiveConfigError, ArchiveError, NotDurable

DEFAULT_ROWS = 100
DEFAULT_MS = 5.0
MAX_ROWS = 100_000
MAX_MS = 10_000.0


def check(rows, ms) -> tuple[int, float]:
    """``(rows, ms)`` as validated numbers, or :class:`ArchiveConfigError` saying what is wrong."""
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        raise ArchiveConfigError(f"journal group rows must be a whole number from 1 to {MAX_ROWS}, got {rows!r}")
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms <= MAX_MS or ms != ms:
        raise ArchiveConfigError(f"journal group ms must be a number of milliseconds from 0 to {MAX_MS:g}, "
                                 f"got {ms!r}")
    return rows, float(ms)


class GroupCommit:
    def __init__(self, commit: Callable[[list], None], rows: int = DEFAULT_ROWS, ms: float = DEFAULT_MS,
                 name: str = "journal"):
        self._commit = commit
        self.max_rows, self.max_ms = check(rows, ms)
        self.name = name
        self._cond = threading.Condition()
        self._pending: list[tuple[list, Future]] = []  # guarded by _cond
        self._pending_rows = 0
        self._first_at: float | None = None  # time.monotonic() of the batch's first record
        # one batch written and acknowledged at a time, so acknowledgements come in journal order
        # (reentrant: a future's callback may accept again)
        self._commit_lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._closed = False
        # what happened, for the run's stats and the benchmarks
        self.batches = 0
        self.rows = 0
        self.failed_batches = 0
        self.failed_rows = 0
        self.last_error: str | None = None

    @property
    def waiting(self) -> int:
        """Records submitted and not yet written."""
        with self._cond:
            return self._pending_rows

    # ------------------------------------------------------------------ the callers' side
    def submit(self, records: list) -> Future:
        """Queue ``records`` for the next batch; the future completes (None) once they are durable."""
        future: Future = Future()
        if not records:
            future.set_result(None)
            return future
        with self._cond:
            if self._closed:
                raise ArchiveError(f"{self.name}: group commit is closed")
            self._pending.append((records, future))
            self._pending_rows += len(records)
            if self._first_at is None:
                self._first_at = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"group-commit {self.name}", daemon=True)
                self._thread.start()
            self._cond.notify()
        return future

    def commit_now(self, records: list) -> None:
        """Write every waiting record and then ``records`` as one batch; return once durable.
        On failure the waiting records' futures fail and the error is raised here as it came."""
        self._write_batch(records)

    def flush(self) -> None:
        """Write whatever is waiting; return once it is durable (or its futures have failed)."""
        try:
            self._write_batch([])
        except Exception:  # noqa: BLE001 - the waiting futures carry it
            pass

    def close(self) -> None:
        """Refuse new records, write the waiting ones, stop the committer. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.flush()

    # ------------------------------------------------------------------ the committer
    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return  # close() writes what is left
                    if self._pending:
                        if self._pending_rows >= self.max_rows:
                            break
                        wait = self._first_at + self.max_ms / 1000.0 - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
            self.flush()

    def _write_batch(self, own: list) -> None:
        with self._commit_lock:
            with self._cond:
                batch, self._pending = self._pending, []
                self._pending_rows, self._first_at = 0, None
            records = [r for rs, _ in batch for r in rs] + list(own)
            if not records:
                return
            try:
                self._commit(records)
            except BaseException as exc:
                self.failed_batches += 1
                self.failed_rows += len(records)
                self.last_error = f"{type(exc).__name__}: {exc}"
                for _, future in batch:
                    future.set_exception(NotDurable(self.name, len(records), exc))
                raise
            self.batches += 1
            self.rows += len(records)
            for _, future in batch:
                future.set_result(None)
