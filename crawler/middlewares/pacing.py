"""One pace per site for every crawler of the process: politeness by site, not by source.

Scrapy keeps its download delay, AutoThrottle's delay and concurrency in each crawler's own
downloader slots. ``scrapy crawlall`` runs one crawler per source, so two sources on one host
(two sections of one newspaper declared apart, or the demo sites) would each fetch at the full
rate. This downloader middleware reserves each request's start time on its site's pace before
the request reaches the downloader:

- the wait is until the later of now and the site's next free time, which then moves one delay
  further; the delay is the crawler's slot delay for the site (the download delay, or
  AutoThrottle's current one), so a site gets at most one request per delay on average, whichever
  sources ask;
- a request whose wait ended more than half a delay late (the process stalled, so the requests
  reserved after it may be waking with it) takes a new turn, at most twice (``pacing/late_reserved``);
- a 429 or 503 with ``Retry-After`` (at most ``RETRY_AFTER_MAX``) pushes the site's next free time
  that far, so every crawler waits, not only the one that was told.

Here the paces live in this process (:class:`LocalPace`); the parts of a ``crawlall --processes``
run share them through small locked files in the run's part folder (:class:`FilePace`), so that a
run in N processes paces a site as one process does; in distributed mode they live in Redis,
shared by every worker (``crawler/distributed/pacing.py``). ``SHARED_PACING = False`` leaves each
crawler to its own slots, as plain Scrapy does. It sits after the retry middleware's wait (550),
so a request waiting for its retry time does not hold a reservation.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import struct
import threading
import time
from pathlib import Path

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

from crawler.middlewares.retry import retry_after_seconds

PAUSE_STATUSES = (429, 503)
LATE_RESERVES = 2  # new turns a request takes when its wait ended over half a delay late


class LocalPace:
    """The next free time of each site, for the crawlers of one process."""

    def __init__(self):
        self._free: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, site: str, delay: float) -> float | None:
        """Seconds to wait before this request may start."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._free.get(site, 0.0))
            self._free[site] = at + delay
            return at - now

    def pause(self, site: str, seconds: float) -> bool:
        with self._lock:
            self._free[site] = max(self._free.get(site, 0.0), time.monotonic() + seconds)
            return True


PROCESS_PACE = LocalPace()


class FilePace:
    """The next free time of each site, shared by the processes of one machine: one 8-byte file per
    site in ``folder``, read and moved under an exclusive ``flock``. The times are
    ``time.monotonic()``, one clock for every process of the machine (CLOCK_MONOTONIC on Linux).
    If the folder goes (the run's parent is gone), the pace falls back to this process's."""

    _STAMP = struct.Struct("<d")

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()  # flock excludes other processes, not this one's threads

    def _fd(self, site: str) -> int:
        fd = self._fds.get(site)
        if fd is None:
            name = hashlib.blake2b(site.encode(), digest_size=12).hexdigest()
            fd = self._fds[site] = os.open(self.folder / name, os.O_RDWR | os.O_CREAT, 0o600)
        return fd

    def _move(self, site: str, step) -> float:
        with self._lock:
            try:
                fd = self._fd(site)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                logging.getLogger(__name__).warning("shared pace of %s unavailable (%s): pacing in this "
                                                    "process only", site, exc)
                return step(PROCESS_PACE, None)
            try:
                raw = os.pread(fd, 8, 0)
                free = self._STAMP.unpack(raw)[0] if len(raw) == 8 else 0.0
                result, free = step(None, free)
                os.pwrite(fd, self._STAMP.pack(free), 0)
                return result
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def reserve(self, site: str, delay: float) -> float | None:
        def step(local, free):
            if local is not None:
                return local.reserve(site, delay)
            now = time.monotonic()
            at = max(now, free)
            return at - now, at + delay

        return self._move(site, step)

    def pause(self, site: str, seconds: float) -> bool:
        def step(local, free):
            if local is not None:
                return local.pause(site, seconds)
            return True, max(free, time.monotonic() + seconds)

        return self._move(site, step)

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()


_FILE_PACES: dict[str, FilePace] = {}


def run_pace(part_dir: str | None):
    """The pace for the crawlers of this process: the run's shared one when it is a part."""
    if not part_dir:
        return PROCESS_PACE
    folder = str(Path(part_dir) / "pace")
    if folder not in _FILE_PACES:
        try:
            _FILE_PACES[folder] = FilePace(folder)
        except OSError as exc:  # the run's folder is gone: its parent is
            logging.getLogger(__name__).warning("no shared pace in %s (%s): pacing in this process only",
                                                folder, exc)
            return PROCESS_PACE
    return _FILE_PACES[folder]


class SitePacingMiddleware:
    def __init__(self, crawler, pace):
        self.crawler = crawler
        self.pace = pace
        self.retry_after_max = crawler.settings.getfloat("RETRY_AFTER_MAX", 300.0)
        self.download_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("SHARED_PACING", True):
            raise NotConfigured("SHARED_PACING is off")
        return cls(crawler, cls.make_pace(crawler))

    @classmethod
    def make_pace(cls, crawler):
        return run_pace(crawler.settings.get("RUN_PART_DIR"))

    def _delay(self, request) -> float:
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            return float(slot.delay)
        return float(getattr(self.crawler.spider, "download_delay", None) or self.download_delay)

    async def process_request(self, request, spider=None):
        delay = self._delay(request)
        if delay <= 0:
            return None
        site = urlparse_cached(request).netloc
        stats = self.crawler.stats
        for _ in range(1 + LATE_RESERVES):
            wait = self.pace.reserve(site, delay)
            if not wait or wait <= 0:
                return None
            stats.inc_value("pacing/waits")
            stats.inc_value("pacing/waited_ms", int(wait * 1000))
            due = time.monotonic() + wait
            await sleep(wait)
            # Woken late (the process stalled): the requests reserved after this one may be waking
            # with it, and going together they would reach the site in a burst. Take a new turn
            # at the end of the site's queue instead, at most LATE_RESERVES times.
            if time.monotonic() - due <= delay / 2:
                return None
            stats.inc_value("pacing/late_reserved")
        return None

    def process_response(self, request, response, spider=None):
        if response.status in PAUSE_STATUSES:
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None and 0 < asked <= self.retry_after_max:
                if self.pace.pause(urlparse_cached(request).netloc, asked):
                    self.crawler.stats.inc_value("pacing/paused")
        return response
