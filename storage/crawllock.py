"""The crawl lock: one writing crawl per archive at a time, on a local disk or S3.

The lock is one object, ``<archive>/_state/crawl.lock``, created with the
storage backend's create-only publish (``put_bytes``: ``link()`` locally, a
conditional put on S3), so of two crawls starting together exactly one creates
it. It holds JSON: owner (the command), run id, host, boot id, pid, the pid's
start time, when it was taken and when it expires. The holder renews the expiry
every ``ttl / 10`` seconds from a background thread.

A lock is *stale*, and taken over, when

- it expired (not renewed for ``ttl`` seconds: its holder hung, died on another
  machine, or lost its network), or
- it was taken on this machine (same host name and boot id) by a process that no
  longer exists (pid gone, or reused by a process that started later).

Taking over happens under the archive's publish lock (``backend.lock``), after
reading the lock again to check nobody else took it over meanwhile; the stale
object is deleted and a new one created create-only, so two crawls that both
found it stale cannot both win.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta

from storage import clock
from storage.procs import boot_id, pid_alive, pid_start

logger = logging.getLogger(__name__)

LOCK_KEY = "_state/crawl.lock"


class CrawlLocked(Exception):
    """Another crawl holds the archive; ``holder`` is its lock record."""

    def __init__(self, display_uri: str, holder: dict):
        self.holder = holder
        since = holder.get("acquired_at", "?")
        expires = holder.get("expires_at", "?")
        super().__init__(
            f"another crawl is writing to {display_uri}: {holder.get('owner', '?')} "
            f"(run {holder.get('run_id', '?')}, pid {holder.get('pid', '?')} on {holder.get('host', '?')}) "
            f"since {since}; its lock expires at {expires} unless renewed. Exiting without crawling. "
            f"If that process is gone, the next run takes its lock over by itself."
        )


def _now() -> datetime:
    return clock.now()


class CrawlLock:
    def __init__(self, backend, owner: str, run_id: str, ttl: float = 900.0):
        self.backend = backend
        self.owner = owner
        self.run_id = run_id
        self.ttl = max(30.0, float(ttl))
        self.token = secrets.token_hex(8)
        self.held = False
        self.lost = False
        self.took_over: str | None = None  # what the stale lock we replaced said, for the run log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the record
    def _record(self) -> dict:
        now = _now()
        return {
            "owner": self.owner,
            "run_id": self.run_id,
            "token": self.token,
            "host": socket.gethostname(),
            "boot_id": boot_id(),
            "pid": os.getpid(),
            "pid_start": pid_start(os.getpid()),
            "acquired_at": getattr(self, "_acquired_at", now.isoformat(timespec="seconds")),
            "expires_at": (now + timedelta(seconds=self.ttl)).isoformat(timespec="seconds"),
        }

    def read(self) -> dict | None:
        """The current lock record; ``{}`` if unreadable, None if there is none."""
        from storage import NotFound

        try:
            data = self.backend.get_bytes(LOCK_KEY)
        except NotFound:
            return None
        try:
            record = json.loads(data)
            return record if isinstance(record, dict) else {}
        except ValueError:
            return {}

    @staticmethod
    def stale_reason(record: dict, now: datetime | None = None) -> str | None:
        if not record:
            return "unreadable lock record"
        now = now or _now()
        try:
            expires = datetime.fromisoformat(record["expires_at"])
        except (KeyError, TypeError, ValueError):
            return "lock record without a valid expiry"
        if expires < now:
            return f"expired at {record['expires_at']}"
        same_machine = record.get("host") == socket.gethostname() and record.get("boot_id", "") == boot_id()
        if same_machine and isinstance(record.get("pid"), int):
            if not pid_alive(record["pid"], record.get("pid_start", "")):
                return f"process {record['pid']} on this machine is gone"
        return None

    # ------------------------------------------------------------------ taking and giving
    def acquire(self) -> "CrawlLock":
        self._acquired_at = _now().isoformat(timespec="seconds")
        body = json.dumps(self._record(), indent=1).encode()
        if not self.backend.put_bytes(LOCK_KEY, body):
            current = self.read()
            if current is None:  # released between our attempt and the read: try once more
                if not self.backend.put_bytes(LOCK_KEY, body):
                    raise CrawlLocked(self.backend.display_uri, self.read() or {})
            else:
                why = self.stale_reason(current)
                if why is None:
                    raise CrawlLocked(self.backend.display_uri, current)
                self._take_over(current, why, body)
        self.held = True
        self._thread = threading.Thread(target=self._renew_loop, name="crawl-lock", daemon=True)
        self._thread.start()
        return self

    def _take_over(self, stale: dict, why: str, body: bytes) -> None:
        with self.backend.lock(f"crawl-lock takeover by {self.owner} run={self.run_id}", timeout=60):
            current = self.read()
            if current is not None and current.get("token") != stale.get("token"):
                # someone else replaced it meanwhile: judge the new record
                if self.stale_reason(current) is None:
                    raise CrawlLocked(self.backend.display_uri, current)
            if current is not None:
                self.backend.delete(LOCK_KEY)
            if not self.backend.put_bytes(LOCK_KEY, body):
                raise CrawlLocked(self.backend.display_uri, self.read() or {})
        self.took_over = (f"took over the crawl lock of {stale.get('owner', '?')} (run {stale.get('run_id', '?')}, "
                          f"pid {stale.get('pid', '?')} on {stale.get('host', '?')}): {why}")
        logger.info("%s", self.took_over)  # the caller warns, with what it means for the run

    def _renew_loop(self) -> None:
        interval = max(5.0, self.ttl / 10)
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception as exc:  # noqa: BLE001 - keep trying; the ttl leaves room
                logger.warning("could not renew the crawl lock: %s", exc)

    def renew(self) -> None:
        current = self.read()
        if not current or current.get("token") != self.token:
            if not self.lost:
                self.lost = True
                logger.error("the crawl lock was taken over by %s; this crawl no longer holds it",
                             (current or {}).get("owner", "?"))
            return
        self.backend.put_bytes_overwrite(LOCK_KEY, json.dumps(self._record(), indent=1).encode())

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.held:
            return
        self.held = False
        try:
            current = self.read()
            if current is not None and current.get("token") == self.token:
                self.backend.delete(LOCK_KEY)
        except Exception as exc:  # noqa: BLE001 - a leftover lock is taken over as stale later
            logger.warning("could not release the crawl lock: %s", exc)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
