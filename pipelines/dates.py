"""Step 3: raw date strings -> aware UTC datetimes.

``parse_date(raw, fetched_at, tz)`` reads one string. A fast path of compiled
regexes handles what Vietnamese news pages and feeds actually print
(ISO-8601 with or without zone, ``07/03/2026 08:47``,
``Thứ năm, 2/11/2023, 19:20 (GMT+7)``, ``Cập nhật: 08:30 ngày 26/11/2026``,
``2 giờ trước``, ``hôm qua``, RFC-822 from feeds); only what it cannot read goes
to dateparser (languages vi/en, day-first, relative to ``fetched_at``).
Numeric dates are always day-first. A string without a stated zone is local
time of the source (``Asia/Ho_Chi_Minh`` by default). The result must lie in
[1990-01-01, fetched_at + 1 hour]; otherwise it is None and the reason is
returned.

Precedence (decided on the saved pages, see ``tests/test_dates_real.py``):
the extraction layer already orders the candidates it finds — the source's
own visible date line (``rules``), then JSON-LD ``datePublished``, then
``article:published_time`` / other ``<meta>``, then ``<time datetime>``, then
the feed/sitemap hint, then a timestamp in the URL. On the 11 saved pages the
rules, JSON-LD and meta agree to the minute wherever more than one exists;
the URL timestamps of tuoitre/cafef/nld are *creation* times a few minutes
before publication, so they come last. When the chosen string fails to parse
or is out of bounds, the feed hint is tried before giving up.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(hours=1)

_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d))?(?!\d)"
)
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_TIME = re.compile(r"(?<![\d/.:+-])(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})(?:\s*:\s*(\d{2}))?(?![\d/])", re.I)
_ZONE = re.compile(r"\b(?:GMT|UTC)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?", re.I)
_RELATIVE = re.compile(r"(\d+)\s*(giây|phút|giờ|tiếng|ngày|tuần|tháng|năm|seconds?|minutes?|mins?|hours?|days?|weeks?)\s*(?:trước|ago)", re.I)
_UNIT = {
    "giây": "seconds", "phút": "minutes", "giờ": "hours", "tiếng": "hours", "ngày": "days", "tuần": "weeks",
    "second": "seconds", "minute": "minutes", "min": "minutes", "hour": "hours", "day": "days", "week": "weeks",
}
_RFC822 = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")


@lru_cache(maxsize=64)
def _zone(name: str | None):
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except Exception:  # unknown zone name in a declaration: fall back, never crash a page
        return ZoneInfo(DEFAULT_TZ)


def _offset(sign: str, hours: str, minutes: str | None) -> timezone:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-delta if sign == "-" else delta)


def _iso_zone(z: str | None):
    if not z:
        return None
    if z.upper() == "Z":
        return timezone.utc
    digits = z[1:].replace(":", "")
    return _offset(z[0], digits[:2], digits[2:4] or None)


def _make(y, mo, d, h, mi, s, tz) -> datetime | None:
    try:
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz)
    except ValueError:
        return None


def fast_parse(raw: str, fetched_at: datetime | None, tz) -> datetime | None:
    """The compiled-regex path. Returns an aware datetime or None when the format is not one of ours."""
    text = raw.strip()
    m = _ISO.search(text)
    if m:
        y, mo, d, h, mi, s, z = m.groups()
        zone = _iso_zone(z)
        if zone is None:
            zm = _ZONE.search(text, m.end())
            zone = _offset(zm.group(1), zm.group(2), zm.group(3)) if zm and zm.group(1) else tz
        return _make(y, mo, d, h, mi, s, zone)
    m = _DMY.search(text)
    if m:
        d, mo, y = m.groups()
        rest = text[: m.start()] + " " + text[m.end():]
        t = _TIME.search(rest)
        zm = _ZONE.search(rest)
        zone = tz
        if zm:
            zone = _offset(zm.group(1), zm.group(2), zm.group(3)) if zm.group(1) else timezone.utc
        h, mi, s = t.groups() if t else (0, 0, 0)
        return _make(y, mo, d, h, mi, s, zone)
    if _RFC822.match(text):
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            dt = None
        if dt is not None:
            return dt if dt.tzinfo else dt.replace(tzinfo=tz)
    if fetched_at is not None:
        low = text.lower()
        m = _RELATIVE.search(low)
        if m:
            n, unit = int(m.group(1)), m.group(2)
            key = _UNIT.get(unit) or _UNIT.get(unit.rstrip("s"))
            if key:
                return fetched_at - timedelta(**{key: n})
        if "hôm qua" in low or "yesterday" in low:
            return _with_clock(fetched_at - timedelta(days=1), low, tz)
        if "hôm nay" in low or "today" in low:
            return _with_clock(fetched_at, low, tz)
    return None


def _with_clock(day: datetime, text: str, tz) -> datetime:
    local = day.astimezone(tz)
    t = _TIME.search(text)
    if t:
        h, mi, s = t.groups()
        return local.replace(hour=int(h), minute=int(mi), second=int(s or 0), microsecond=0)
    return local


def _slow_parse(raw: str, fetched_at: datetime | None, tz_name: str) -> datetime | None:
    import dateparser  # imported on first use: the fast path covers almost every page

    settings = {
        "DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": tz_name, "TO_TIMEZONE": "UTC", "PREFER_DATES_FROM": "past",
    }
    if fetched_at is not None:
        settings["RELATIVE_BASE"] = fetched_at.astimezone(_zone(tz_name)).replace(tzinfo=None)
    try:
        return dateparser.parse(raw, languages=["vi", "en"], settings=settings)
    except Exception:  # dateparser raises a variety of errors on junk; junk is simply not a date
        return None


def parse_date(raw: str | None, fetched_at: datetime | None = None, tz: str | None = None) -> tuple[datetime | None, str | None]:
    """``(utc_datetime, None)`` or ``(None, reason)``."""
    if raw is None or not str(raw).strip():
        return None, "empty"
    raw = str(raw)
    zone = _zone(tz)
    dt = fast_parse(raw, fetched_at, zone)
    if dt is None:
        dt = _slow_parse(raw, fetched_at, tz or DEFAULT_TZ)
    if dt is None:
        return None, f"unparsed: {raw[:80]!r}"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    dt = dt.astimezone(timezone.utc)
    if dt < EARLIEST:
        return None, f"before_1990: {raw[:80]!r}"
    ceiling = (fetched_at or datetime.now(timezone.utc)) + FUTURE_TOLERANCE
    if dt > ceiling:
        return None, f"future: {raw[:80]!r}"
    return dt, None


def resolve_dates(item: dict, tz: str | None = None) -> dict:
    """``published_at``, ``modified_at`` and ``date_problems`` (field -> reason) for an extracted item."""
    fetched_at = item.get("fetched_at")
    hints = item.get("hints") or {}
    out: dict = {"published_at": None, "modified_at": None, "date_problems": {}}
    for field, raw_key, hint_key in (("published_at", "published_at_raw", "published_raw"),
                                     ("modified_at", "modified_at_raw", "modified_raw")):
        raw = item.get(raw_key)
        dt, why = parse_date(raw, fetched_at, tz)
        if dt is None and hints.get(hint_key) and hints.get(hint_key) != raw:
            dt, why2 = parse_date(hints[hint_key], fetched_at, tz)
            if dt is not None:
                item[raw_key] = hints[hint_key]
                item.setdefault("field_sources", {})[raw_key] = "feed"
            why = why if dt is None else None
        out[field] = dt
        if why and raw:
            out["date_problems"][field] = why
    if out["modified_at"] and out["published_at"] and out["modified_at"] < out["published_at"]:
        out["date_problems"]["modified_at"] = "before published_at"
        out["modified_at"] = None
    return out


class DatesPipeline:
    """Adds ``published_at`` / ``modified_at`` (aware UTC) from the raw strings."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_item(self, item, spider):
        source = getattr(spider, "source", None)
        found = resolve_dates(item, getattr(source, "timezone", None))
        for field, why in found["date_problems"].items():
            logger.info("date %s rejected for %s: %s", field, item.get("url"), why)
        item.update(found)
        return item
