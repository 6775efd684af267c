"""Step 3: raw date strings -> aware UTC datetimes.

``parse_date(raw, fetched_at, tz)`` reads one string. A fast path of compiled
regexes handles what Vietnamese news pages and feeds actually print
(ISO-8601 with or without zone, ``07/03/2026 08:47``,
``Thứ năm, 2/11/2023, 19:20 (GMT+7)``, ``Cập nhật: 08:30 ngày 26/11/2026``,
``2 giờ trước``, ``hôm qua``, RFC-822 from feeds); only what it cannot read goes
to dateparser (languages vi/en, day-first, relative to ``fetched_at``).
Numeric dates are day-first, except on an American page without a declared
source (:func:`writes_month_first`). A string without a stated zone is local
time of the source (``Asia/Ho_Chi_Minh`` by default). The result must lie in
[1990-01-01, fetched_at + 1 hour]; otherwise it is None and the reason is
returned.

Precedence, decided on the saved real pages (``benchmarks/eval.py`` data; minute
agreement with the ground truth, per layer, when the layer is present):

================  ======================  ==========================
layer             vn-pages (11 pages)     fundus-pages (257 pages)
================  ======================  ==========================
rules (site)      11/11                   1/1
JSON-LD           10/10                   234/234
<meta>            1/1                     62/92  (day: 87/92)
<time datetime>   1/1                     43/85  (day: 72/85)
visible line      -                       6/9
URL timestamp     0/2    (day: 2/2)       1/5    (day: 5/5)
================  ======================  ==========================

So: the site's own date line (checked rules) first, then JSON-LD, ``<meta>``,
``<time>``, the feed/sitemap hint, a visible date line, and a timestamp in the
URL last (tuoitre/cafef/nld ids are creation times, minutes before
publication). ``choose_date`` takes the first candidate that parses and is in
bounds, except that a candidate with only a day gives way to a later one with a
time of day on the same local day (``<time datetime="2024-08-22">`` vs JSON-LD
``2024-08-22T12:00:00+02:00``). A string without a zone is read in the
source's zone; without a source, in a zone guessed from the ccTLD, then the
page's language tag, region included (:func:`guess_timezone`), Asia/Ho_Chi_Minh
by default.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pipelines.cleaning.rules import nfc
from storage import clock

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(hours=1)

_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d))?(?!\d)"
)
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_DMY2 = re.compile(r"(?<![\d.:])(\d{1,2})\.(\d{1,2})\.(\d{2})(?![\d.:])")  # '25.04.24' (dots only)
_MERIDIEM = re.compile(r"^\s*(?::\d{2})?\s*(AM|PM|A\.M\.|P\.M\.|SA|CH|sáng|chiều|tối)\b", re.I)
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


def fast_parse(raw: str, fetched_at: datetime | None, tz, month_first: bool = False) -> datetime | None:
    """The compiled-regex path. Returns an aware datetime or None when the format is not one of ours.
    ``month_first``: ``03/05/2024`` is 5 March (an American page; a first number over 12 is a day)."""
    text = raw.strip()
    m = _ISO.search(text)
    if m:
        y, mo, d, h, mi, s, z = m.groups()
        zone = _iso_zone(z)
        if zone is None:
            zm = _ZONE.search(text, m.end())
            zone = _offset(zm.group(1), zm.group(2), zm.group(3)) if zm and zm.group(1) else tz
        return _make(y, mo, d, h, mi, s, zone)
    m = _DMY.search(text) or _DMY2.search(text)
    if m:
        d, mo, y = m.groups()
        if month_first and m.re is _DMY and int(d) <= 12:
            d, mo = mo, d
        if len(y) == 2:
            y = "20" + y
        rest = text[: m.start()] + " " + text[m.end():]
        t = _TIME.search(rest)
        zm = _ZONE.search(rest)
        zone = tz
        if zm:
            zone = _offset(zm.group(1), zm.group(2), zm.group(3)) if zm.group(1) else timezone.utc
        h, mi, s = t.groups() if t else (0, 0, 0)
        if t:
            meridiem = _MERIDIEM.match(rest[t.end():])
            if meridiem:
                pm = meridiem.group(1).lower() in ("pm", "p.m.", "ch", "chiều", "tối")
                h = int(h) % 12 + (12 if pm else 0)
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
                return (fetched_at - timedelta(**{key: n})).astimezone(tz)
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


# Words around a printed date that dateparser does not skip by itself.
_FILLER = re.compile(
    r"\b(?:um|uhr|at|on|lúc|vào|ngày|cập nhật|đăng|à|le|alle|il|el|om|kl\.?|klo|am|published|updated|"
    r"veröffentlicht|aktualisiert|erstellt|stand|posted|publié|pubblicato|publicado)\b[:.]?",
    re.I,
)
_LEADING = re.compile(r"^[^\d]*?(?=(?:[A-Za-zÀ-ỹ]{3,}\.?\s+)?\d)")


def _trim(raw: str) -> str:
    """'Veröffentlicht am 13. Mai 2026 um 15:44' -> '13. Mai 2026 15:44' (a month name before the day is kept)."""
    text = re.split(r"\s[|•·]\s|\s{3,}|\n", raw.strip())[0]
    text = _FILLER.sub(" ", text)
    text = _LEADING.sub("", text, count=1)
    return " ".join(text.replace(",", " ").split())


def _slow_parse(raw: str, fetched_at: datetime | None, tz_name: str, language: str | None = None,
                month_first: bool = False) -> datetime | None:
    import dateparser  # imported on first use: the fast path covers almost every page

    settings = {
        "DATE_ORDER": "MDY" if month_first else "DMY", "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": tz_name,
        "PREFER_DATES_FROM": "past",  # no TO_TIMEZONE: the stated offset is kept
    }
    if fetched_at is not None:
        settings["RELATIVE_BASE"] = fetched_at.astimezone(_zone(tz_name)).replace(tzinfo=None)
    try:
        return dateparser.parse(raw, languages=_languages(language), settings=settings) or \
            dateparser.parse(_trim(raw), languages=_languages(language), settings=settings)
    except Exception:  # dateparser raises a variety of errors on junk; junk is simply not a date
        return None


_SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_MINUTES = re.compile(r"\d{1,2}\s*(?::|h|giờ)\s*\d{2}|\d{4}-\d\d-\d\dT\d\d|\b\d{1,2}\s*(?:am|pm|uhr)\b|"
                      r"(?:giây|phút|giờ|tiếng|seconds?|minutes?|mins?|hours?)\s*(?:trước|ago)", re.I)


def precision_of(raw: str) -> str:
    """How precisely a date string states its time: ``second``, ``minute`` or ``day``."""
    if _SECONDS.search(raw):
        return "second"
    return "minute" if _MINUTES.search(raw) else "day"


def parse_stated(raw: str | None, fetched_at: datetime | None = None, tz: str | None = None,
                 language: str | None = None, month_first: bool = False,
                 ) -> tuple[datetime | None, str | None, str | None]:
    """``(datetime, precision, None)`` or ``(None, None, reason)``.

    The datetime is aware and in the offset the string states, or in the source's zone
    ``tz`` when it states none, so its ``date()`` is the day the page printed. Numeric dates
    are read day first unless ``month_first`` (:func:`writes_month_first`).
    """
    if raw is None or not str(raw).strip():
        return None, None, "empty"
    raw = nfc(str(raw))  # the page is not composed as a whole (pipelines/decode.py): its date words are here
    zone = _zone(tz)
    dt = fast_parse(raw, fetched_at, zone, month_first)
    if dt is None:
        dt = _slow_parse(raw, fetched_at, tz or DEFAULT_TZ, language, month_first)
    if dt is None:
        return None, None, f"unparsed: {raw[:80]!r}"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    if dt < EARLIEST:
        return None, None, f"before_1990: {raw[:80]!r}"
    ceiling = (fetched_at or clock.now()) + FUTURE_TOLERANCE
    if dt > ceiling:
        return None, None, f"future: {raw[:80]!r}"
    return dt, precision_of(raw), None


def parse_date(raw: str | None, fetched_at: datetime | None = None, tz: str | None = None,
               language: str | None = None) -> tuple[datetime | None, str | None]:
    """``(utc_datetime, None)`` or ``(None, reason)``."""
    dt, _, why = parse_stated(raw, fetched_at, tz, language)
    return (dt.astimezone(timezone.utc) if dt is not None else None), why


# Where a page without a declared source most likely publishes from: country-code TLD first, then the
# page language (with region when given). A guess only matters for strings that state no zone.
_TLD_TZ = {
    "vn": "Asia/Ho_Chi_Minh", "de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich",
    "li": "Europe/Vaduz", "lu": "Europe/Luxembourg", "be": "Europe/Brussels", "nl": "Europe/Amsterdam",
    "fr": "Europe/Paris", "it": "Europe/Rome", "es": "Europe/Madrid", "pt": "Europe/Lisbon", "uk": "Europe/London",
    "ie": "Europe/Dublin", "dk": "Europe/Copenhagen", "no": "Europe/Oslo", "se": "Europe/Stockholm",
    "fi": "Europe/Helsinki", "is": "Atlantic/Reykjavik", "gl": "America/Nuuk", "pl": "Europe/Warsaw",
    "cz": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest", "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia", "gr": "Europe/Athens", "tr": "Europe/Istanbul", "ru": "Europe/Moscow",
    "ua": "Europe/Kyiv", "lt": "Europe/Vilnius", "lv": "Europe/Riga", "ee": "Europe/Tallinn", "il": "Asia/Jerusalem",
    "lb": "Asia/Beirut", "za": "Africa/Johannesburg", "na": "Africa/Windhoek", "ls": "Africa/Maseru",
    "tz": "Africa/Dar_es_Salaam", "ke": "Africa/Nairobi", "ng": "Africa/Lagos", "eg": "Africa/Cairo",
    "in": "Asia/Kolkata", "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "tw": "Asia/Taipei", "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul", "sg": "Asia/Singapore", "my": "Asia/Kuala_Lumpur", "id": "Asia/Jakarta",
    "th": "Asia/Bangkok", "ph": "Asia/Manila", "kh": "Asia/Phnom_Penh", "la": "Asia/Vientiane",
    "au": "Australia/Sydney", "nz": "Pacific/Auckland", "ca": "America/Toronto", "mx": "America/Mexico_City",
    "br": "America/Sao_Paulo", "ar": "America/Argentina/Buenos_Aires", "py": "America/Asuncion",
    "cl": "America/Santiago", "co": "America/Bogota", "pe": "America/Lima", "us": "America/New_York",
}
_LANG_TZ = {
    "vi": "Asia/Ho_Chi_Minh", "de": "Europe/Berlin", "fr": "Europe/Paris", "it": "Europe/Rome", "es": "Europe/Madrid",
    "pt": "Europe/Lisbon", "nl": "Europe/Amsterdam", "da": "Europe/Copenhagen", "no": "Europe/Oslo",
    "nb": "Europe/Oslo", "sv": "Europe/Stockholm", "fi": "Europe/Helsinki", "pl": "Europe/Warsaw",
    "cs": "Europe/Prague", "tr": "Europe/Istanbul", "ru": "Europe/Moscow", "uk": "Europe/Kyiv",
    "he": "Asia/Jerusalem", "ar": "Asia/Beirut", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "zh": "Asia/Shanghai",
    "th": "Asia/Bangkok", "id": "Asia/Jakarta", "ms": "Asia/Kuala_Lumpur", "hi": "Asia/Kolkata",
    "en": "America/New_York", "en-gb": "Europe/London", "en-au": "Australia/Sydney", "en-za": "Africa/Johannesburg",
    "en-in": "Asia/Kolkata", "en-ca": "America/Toronto", "en-ie": "Europe/Dublin", "en-nz": "Pacific/Auckland",
}


def _tld(url: str | None) -> str:
    host = (re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", (url or "").lower()))
    return host.rsplit(".", 1)[-1] if "." in host else ""


def language_tag(language: str | None) -> str:
    """A language tag as the tables here spell it: ``en_US`` -> ``en-us`` (pipelines.extract keeps it
    on the item as ``locale``)."""
    return (language or "").strip().lower().replace("_", "-")


def guess_timezone(url: str | None, language: str | None = None) -> str:
    """A time zone for a page that has no source declaration (see ``_TLD_TZ`` / ``_LANG_TZ``);
    ``language`` is the page's tag, region included where it gives one (``en-GB``)."""
    tld = _tld(url)
    if tld in _TLD_TZ:
        return _TLD_TZ[tld]
    code = language_tag(language)
    return _LANG_TZ.get(code) or _LANG_TZ.get(code.split("-")[0]) or DEFAULT_TZ


def writes_month_first(url: str | None, language: str | None = None) -> bool:
    """Whether a page with no source declaration writes numeric dates month first (``03/05/2024``
    is 5 March): an American page. The same evidence as :func:`guess_timezone`'s, in its order:
    a country-code domain decides (only ``.us`` is month-first), else the page's language tag
    (``en-US``, or ``en`` alone, which that function also places in New York). Anything else, no
    tag included, is read day first, as Vietnamese and most of the world write dates."""
    tld = _tld(url)
    if tld in _TLD_TZ:
        return tld == "us"
    return language_tag(language) in ("en", "en-us")


def _languages(language: str | None) -> list[str]:
    langs = ["vi", "en"]
    code = (language or "").split("-")[0].lower()
    if code and code not in langs:
        langs.append(code)
    return langs


# Layers that read loose text (a visible date line, htmldate's search of the whole page) may pick a
# sidebar date, a copyright year or another story's date: they are only trusted when the page's other
# evidence (a date in its URL, the feed/sitemap entry, its modification time) does not contradict them.
CHECKED_LABELS = frozenset({"generic", "htmldate"})
_URL_DAY = re.compile(r"(?<!\d)(20\d\d|199\d)([/_-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_URL_MONTH = re.compile(r"/(20\d\d|199\d)/(0[1-9]|1[0-2])/")


def url_day(url: str | None):
    """``(date | None, (year, month) | None)`` stated by the URL's path ('/2014/07/19/', '-20140719')."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url or "", flags=re.I).split("?", 1)[0]
    m = _URL_DAY.search(path)
    if m:
        try:
            day = datetime(int(m.group(1)), int(m.group(3)), int(m.group(4))).date()
            return day, (day.year, day.month)
        except ValueError:
            pass
    m = _URL_MONTH.search(path)
    return None, ((int(m.group(1)), int(m.group(2))) if m else None)


def contradiction(dt: datetime, evidence: dict) -> str | None:
    """Why ``dt`` (a loose-text candidate) disagrees with the page's other dates, or None."""
    day = dt.date()
    if evidence.get("url_day") is not None and abs((day - evidence["url_day"]).days) > 1:
        return f"not the URL's day {evidence['url_day']}"
    if evidence.get("url_month") and evidence.get("url_day") is None and (day.year, day.month) != evidence["url_month"]:
        return "not the URL's month"
    feed = evidence.get("feed")
    if feed is not None and abs(dt - feed) > timedelta(days=2):
        return "far from the feed/sitemap date"
    modified = evidence.get("modified")
    if modified is not None and dt.date() > modified.astimezone(dt.tzinfo).date():
        return "after modified_at"
    return None


def choose_date(candidates, fetched_at: datetime | None, tz: str | None, language: str | None = None,
                evidence: dict | None = None, month_first: bool = False):
    """Pick the publication date among ``[(raw, label), ...]`` (in precedence order).

    The first candidate that parses, lies in bounds and (for the loose-text layers,
    ``CHECKED_LABELS``) agrees with ``evidence`` wins; when it states only a day, a later
    candidate with a time of day on the same local day replaces it. Returns
    ``(datetime in its stated offset | None, raw, label, problems, precision)``.
    """
    problems: list[str] = []
    chosen = None
    for raw, label in candidates:
        dt, precision, why = parse_stated(raw, fetched_at, tz, language, month_first)
        if dt is None:
            problems.append(f"{label}: {why}")
            continue
        if label in CHECKED_LABELS and evidence:
            why = contradiction(dt, evidence)
            if why:
                problems.append(f"{label}: {raw[:60]!r} {why}")
                continue
        if chosen is None:
            chosen = (dt, raw, label, precision)
            if precision != "day":
                break
        elif precision != "day" and dt.astimezone(chosen[0].tzinfo).date() == chosen[0].date():
            chosen = (dt, raw, label, precision)
            break
    if chosen is None:
        return None, None, None, problems, None
    return chosen[0], chosen[1], chosen[2], problems, chosen[3]


def _offset_minutes(dt: datetime) -> int:
    return int(dt.utcoffset().total_seconds() // 60)


def resolve_dates(item: dict, tz: str | None = None) -> dict:
    """``published_at``, ``published_at_offset``, ``published_at_precision``, ``published_date``,
    ``modified_at`` and ``date_problems`` (field -> reason) for an extracted item.

    ``tz``: the source's zone; None guesses it, and whether numeric dates are month first, from
    the URL and the page's language tag (``locale``, region included; else ``language``).
    ``published_at`` and ``modified_at`` are UTC; ``published_at_offset`` (minutes east of UTC)
    is the offset the page stated, or the source's zone's at that instant when it stated none;
    ``published_date`` is the publication day in that offset (a date-only value keeps its day).
    Updates ``published_at_raw`` and its ``field_sources`` label to the string chosen.
    """
    fetched_at = item.get("fetched_at")
    hints = item.get("hints") or {}
    language = item.get("language")
    url = item.get("response_url") or item.get("url")
    american = False
    if tz is None:
        tag = item.get("locale") or language
        tz, american = guess_timezone(url, tag), writes_month_first(url, tag)
    out: dict = {"published_at": None, "published_at_offset": None, "published_at_precision": None,
                 "published_date": None, "modified_at": None, "date_problems": {}}

    modified = [(item["modified_at_raw"], "page")] if item.get("modified_at_raw") else []
    if hints.get("modified_raw") and hints["modified_raw"] != item.get("modified_at_raw"):
        modified.append((hints["modified_raw"], "feed"))
    mdt, _, _, mproblems, _ = choose_date(modified, fetched_at, tz, language, month_first=american)

    candidates = [tuple(c) for c in item.get("published_candidates") or ()]
    if not candidates and item.get("published_at_raw"):
        candidates = [(item["published_at_raw"], (item.get("field_sources") or {}).get("published_at_raw", "?"))]
    if hints.get("published_raw") and all(c[0] != hints["published_raw"] for c in candidates):
        candidates.append((hints["published_raw"], "feed"))
    evidence = {"modified": mdt}
    evidence["url_day"], evidence["url_month"] = url_day(url)
    if hints.get("published_raw"):
        evidence["feed"] = parse_stated(hints["published_raw"], fetched_at, tz, language, american)[0]
    dt, raw, label, problems, precision = choose_date(candidates, fetched_at, tz, language, evidence, american)
    if dt is not None:
        out.update(published_at=dt.astimezone(timezone.utc), published_at_offset=_offset_minutes(dt),
                   published_at_precision=precision, published_date=dt.date())
    if dt is not None and raw != item.get("published_at_raw"):
        item["published_at_raw"] = raw
        item.setdefault("field_sources", {})["published_at_raw"] = label
    if dt is None and problems:
        out["date_problems"]["published_at"] = "; ".join(problems)[:300]

    if mdt is not None and out["published_at"] and mdt < out["published_at"]:
        mproblems.append("before published_at")
        mdt = None
    out["modified_at"] = mdt.astimezone(timezone.utc) if mdt is not None else None
    if mdt is None and mproblems:
        out["date_problems"]["modified_at"] = "; ".join(mproblems)[:300]
    return out


class DatesPipeline:
    """Adds ``published_at`` / ``modified_at`` (aware UTC) from the raw strings."""

    def __init__(self, source=None):
        self.source = source

    @classmethod
    def from_crawler(cls, crawler):
        return cls(source=crawler.crawl_run.source)

    def process_item(self, item):
        source = self.source
        found = resolve_dates(item, getattr(source, "timezone", None))
        for field, why in found["date_problems"].items():
            logger.info("date %s rejected for %s: %s", field, item.get("url"), why)
        item.update(found)
        return item
