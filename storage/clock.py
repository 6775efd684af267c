"""The one place the product reads the wall clock.

    from storage import clock
    clock.now()            # aware datetime in UTC
    clock.time()           # seconds since the epoch (what ``time.time()`` would say)
    clock.today(zone)      # the calendar day in a zone (``zoneinfo.ZoneInfo`` or ``datetime.tzinfo``)

Set ``NEWSARCHIVE_NOW`` to an ISO 8601 instant with an offset (``2028-02-29T23:30:00+07:00``) and the
clock starts there and moves on as real time passes. Every process reading it agrees, subprocesses
included: the first process that reads the variable writes the real moment it took it for into
``NEWSARCHIVE_NOW_ANCHOR`` (``"<epoch seconds> <instant>"``), which child processes inherit, so a
crawl started a minute later reads a minute later, not the same instant again. Unset: the real time.

Durations and timeouts keep using ``time.monotonic()``; comparisons with timestamps that another
system wrote (file modification times, an S3 server's dates) keep using the real time, since those
are real.
"""

from __future__ import annotations

import os
import time as _time
from datetime import date, datetime, timezone, tzinfo

ENV = "NEWSARCHIVE_NOW"
ANCHOR_ENV = "NEWSARCHIVE_NOW_ANCHOR"

# ((NEWSARCHIVE_NOW, NEWSARCHIVE_NOW_ANCHOR), seconds to add to the real time)
_cache: tuple[tuple[str, str], float] | None = None


class ClockError(ValueError):
    """``NEWSARCHIVE_NOW`` is not an ISO 8601 instant with an offset."""


def parse_instant(value: str) -> datetime:
    """An aware datetime from an ISO 8601 instant that states its offset (``Z`` allowed)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ClockError(f"{ENV}={value!r}: expected an ISO 8601 instant with an offset, "
                         "such as 2028-02-29T23:30:00+07:00")
    return when


def _shift() -> float:
    """Seconds to add to the real time (0 when ``NEWSARCHIVE_NOW`` is unset)."""
    global _cache
    value = os.environ.get(ENV, "").strip()
    if not value:
        return 0.0
    anchor = os.environ.get(ANCHOR_ENV, "")
    if _cache is not None and _cache[0] == (value, anchor):
        return _cache[1]
    instant = parse_instant(value).timestamp()
    anchored_at = None
    stamp, _, anchored_value = anchor.partition(" ")
    if anchored_value == value:
        try:
            anchored_at = float(stamp)
        except ValueError:
            anchored_at = None
    if anchored_at is None:
        anchored_at = _time.time()
        anchor = os.environ[ANCHOR_ENV] = f"{anchored_at!r} {value}"
    _cache = ((value, anchor), instant - anchored_at)
    return _cache[1]


def time() -> float:
    """Seconds since the epoch, on the product's clock."""
    return _time.time() + _shift()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.fromtimestamp(time(), tz=timezone.utc)


def today(zone: tzinfo | None = None) -> date:
    """The current calendar day in ``zone`` (UTC when None)."""
    return now().astimezone(zone or timezone.utc).date()


def pinned(instant: datetime | str) -> dict[str, str]:
    """Environment variables that start a child process's clock at ``instant`` from now on."""
    value = instant if isinstance(instant, str) else instant.isoformat()
    parse_instant(value)
    return {ENV: value, ANCHOR_ENV: f"{_time.time()!r} {value}"}


def check() -> None:
    """Raise :class:`ClockError` now if ``NEWSARCHIVE_NOW`` is set but malformed (start-up check)."""
    _shift()


__all__ = ["ClockError", "check", "now", "parse_instant", "pinned", "time", "today"]
