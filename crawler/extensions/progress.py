"""Live progress per source: a rich table on a terminal, a plain log line otherwise.

On a terminal (stderr is a TTY and ``PROGRESS`` is ``auto`` or ``live``) every
crawler of the process shares one rich ``Live`` table: a row per source with
requests, articles found, archived, duplicates, errors and the request rate,
redrawn twice a second from the reactor's thread (never from a thread of its own,
so counters are not read while they change). Log records keep flowing above it. Off a terminal (cron, systemd, CI) each source
logs one line every ``PROGRESS_INTERVAL`` seconds instead::

    progress demo_portal: 120 requests (3.4/s), 61 found, 40 archived, 2 duplicates, 1 errors

``PROGRESS``: ``auto`` (default), ``live``, ``log`` or ``off``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from pipelines.dropped import is_duplicate

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_rows: dict[int, "Progress"] = {}
_live = None
_ticker = None
_swapped: list[tuple[logging.StreamHandler, object]] = []


def _counts(crawler) -> dict:
    stats = crawler.stats.get_stats()
    spider = crawler.spider
    outcomes = dict(getattr(spider, "outcomes", {}) or {})
    errors = sum(v for k, v in stats.items() if k.startswith(("article/failed/", "discovery/failed/")))
    return {
        "requests": stats.get("downloader/request_count", 0),
        "found": len(getattr(spider, "found", ()) or ()),
        "archived": outcomes.get("archived", 0),
        "duplicates": sum(v for k, v in outcomes.items() if is_duplicate(k)),
        "errors": errors,
    }


def _table():
    from rich.table import Table

    table = Table(title="crawling", expand=False)
    for col in ("source", "requests", "req/s", "found", "archived", "duplicates", "errors", "state"):
        table.add_column(col, justify="left" if col in ("source", "state") else "right")
    with _lock:
        rows = sorted(_rows.values(), key=lambda p: p.name)
    for p in rows:
        c = _counts(p.crawler)
        table.add_row(p.name, str(c["requests"]), f"{p.rate(c['requests']):.1f}", str(c["found"]),
                      str(c["archived"]), str(c["duplicates"]), str(c["errors"]), p.state)
    return table


def _tick() -> None:
    """Redraw the table; runs in the reactor's thread, so the counters are read between updates."""
    if _live is not None:
        _live.update(_table(), refresh=True)


def _start_live(interval: float = 0.5) -> None:
    global _live, _ticker
    from rich.console import Console
    from rich.live import Live

    console = Console(file=sys.__stderr__)
    # stdout is taken through the display only when it is the terminal too: piped, it stays data
    # (the JSON lines of a dry run)
    to_terminal = sys.__stdout__ is not None and sys.__stdout__.isatty()
    _live = Live(_table(), console=console, auto_refresh=False, transient=False,
                 redirect_stdout=to_terminal, redirect_stderr=True)
    _live.start(refresh=True)
    _ticker = create_looping_call(_tick)
    _ticker.start(interval, now=False)
    # Log handlers captured the real stderr when they were made: route them through the live
    # display's proxy so log lines scroll above the table instead of tearing it.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stderr__, sys.__stdout__):
            _swapped.append((handler, handler.setStream(sys.stderr)))


def _stop_live() -> None:
    global _live, _ticker
    if _ticker is not None and getattr(_ticker, "running", False):
        _ticker.stop()
    _ticker = None
    if _live is None:
        return
    for handler, stream in _swapped:
        handler.setStream(stream)
    _swapped.clear()
    _live.stop()
    _live = None


class Progress:
    def __init__(self, crawler, mode: str, interval: float):
        self.crawler = crawler
        self.mode = mode
        self.interval = interval
        self.name = ""
        self.state = "starting"
        self.started = time.monotonic()
        self.task = None
        self._last = (self.started, 0)

    @classmethod
    def from_crawler(cls, crawler):
        mode = (crawler.settings.get("PROGRESS") or "auto").lower()
        if mode == "off":
            raise NotConfigured("PROGRESS=off")
        if mode == "auto":
            mode = "live" if sys.__stderr__ is not None and sys.__stderr__.isatty() else "log"
        if mode not in ("live", "log"):
            raise NotConfigured(f"PROGRESS={mode!r}: expected auto, live, log or off")
        ext = cls(crawler, mode, crawler.settings.getfloat("PROGRESS_INTERVAL", 60.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def rate(self, requests: int) -> float:
        elapsed = time.monotonic() - self.started
        return requests / elapsed if elapsed > 0 else 0.0

    def spider_opened(self, spider):
        self.name = spider.name
        self.state = "crawling"
        self.started = time.monotonic()
        if self.mode == "live":
            with _lock:
                _rows[id(self)] = self
                first = _live is None
            if first:
                _start_live()
        else:
            self.task = create_looping_call(self.log_line)
            self.task.start(self.interval, now=False)

    def log_line(self) -> None:
        c = _counts(self.crawler)
        now = time.monotonic()
        then, before = self._last
        rate = (c["requests"] - before) / (now - then) if now > then else 0.0
        self._last = (now, c["requests"])
        logger.info("progress %s: %d requests (%.1f/s), %d found, %d archived, %d duplicates, %d errors",
                    self.name, c["requests"], rate, c["found"], c["archived"], c["duplicates"], c["errors"])

    def spider_closed(self, spider, reason):
        self.state = reason
        if self.task is not None and getattr(self.task, "running", False):
            self.task.stop()
        if self.mode == "live":
            with _lock:
                others = [p for p in _rows.values() if p is not self and p.state == "crawling"]
            if not others:
                _tick()
                _stop_live()
                with _lock:
                    _rows.clear()
