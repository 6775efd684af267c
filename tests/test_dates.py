from datetime import date, datetime, timedelta, timezone

import pytest

from pipelines.dates import DatesPipeline, parse_date, resolve_dates

FETCHED = datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc)  # 12:00 in Hanoi


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Thứ năm, 2/11/2023, 19:20 (GMT+7)", utc(2023, 11, 2, 12, 20)),
        ("07/03/2026 08:47", utc(2026, 3, 7, 1, 47)),
        ("2026-03-07T08:52:11.000 +07:00", utc(2026, 3, 7, 1, 52, 11)),
        ("Thứ Năm, 26/11/2026 - 08:30", utc(2026, 11, 26, 1, 30)),
        ("26/11/2026 08:30 GMT+7", utc(2026, 11, 26, 1, 30)),
        ("Cập nhật: 08:30 ngày 26/11/2026", utc(2026, 11, 26, 1, 30)),
        ("2026-03-07T00:01:00", utc(2026, 3, 6, 17, 1)),
        ("2026-03-07T00:05:00+07:00", utc(2026, 3, 6, 17, 5)),
        ("2026-03-07 08:07", utc(2026, 3, 7, 1, 7)),
        ("2024-05-03T15:47:42.389Z", utc(2024, 5, 3, 15, 47, 42)),
        ("Wed, 19 Apr 2017 10:05:00 +0700", utc(2017, 4, 19, 3, 5)),
        ("Wed, 19 Apr 2017 10:05:00 GMT", utc(2017, 4, 19, 10, 5)),
        ("2 giờ trước", utc(2026, 11, 26, 3, 0)),
        ("30 phút trước", utc(2026, 11, 26, 4, 30)),
        ("hôm qua 08:15", utc(2026, 11, 25, 1, 15)),
        ("26/11/2026 03:30 GMT", utc(2026, 11, 26, 3, 30)),
        ("Thứ sáu, 06/03/2026, 07:15 (GMT+7)", utc(2026, 3, 6, 0, 15)),
    ],
)
def test_formats(raw, expected):
    dt, why = parse_date(raw, FETCHED, "Asia/Ho_Chi_Minh")
    assert why is None
    assert dt == expected
    assert dt.tzinfo is not None


@pytest.mark.parametrize("raw", ["Cập nhật lúc 8 giờ 07 ngày 07/03/2026", "07/03/2026 08:07 chiều"])
def test_decomposed_vietnamese_reads_as_composed(raw):
    """Combining accents (NFD) as some CMSs emit them: 'giờ' and 'chiều' still count."""
    import unicodedata

    assert parse_date(unicodedata.normalize("NFD", raw), FETCHED) == parse_date(raw, FETCHED)
    assert parse_date(raw, FETCHED)[0].minute == 7


def test_dateparser_fallback_for_words():
    dt, why = parse_date("ngày 5 tháng 3 năm 2026", FETCHED, "Asia/Ho_Chi_Minh")
    assert why is None and dt.date().isoformat() in ("2026-03-04", "2026-03-05")


@pytest.mark.parametrize("raw, reason", [("", "empty"), ("không rõ", "unparsed"), ("01/01/1985 10:00", "before_1990"),
                                         ("01/01/2030 10:00", "future")])
def test_rejections(raw, reason):
    dt, why = parse_date(raw, FETCHED, "Asia/Ho_Chi_Minh")
    assert dt is None and why.startswith(reason)


def test_small_future_tolerance_accepted():
    dt, why = parse_date("26/11/2026 12:30", FETCHED, "Asia/Ho_Chi_Minh")  # 30 min after fetch
    assert why is None and dt == utc(2026, 11, 26, 5, 30)


def test_invalid_day_is_unparsed_not_crash():
    assert parse_date("31/02/2026 10:00", FETCHED)[0] is None


def test_resolve_falls_back_to_feed_hint():
    item = {"published_at_raw": "không rõ", "modified_at_raw": None, "fetched_at": FETCHED,
            "hints": {"published_raw": "Wed, 25 Nov 2026 10:05:00 +0700"}, "field_sources": {}}
    out = resolve_dates(item, "Asia/Ho_Chi_Minh")
    assert out["published_at"] == utc(2026, 11, 25, 3, 5)
    assert item["field_sources"]["published_at_raw"] == "feed"


def test_pipeline_records_reason():
    item = {"published_at_raw": "01/01/2030", "fetched_at": FETCHED, "hints": {}}
    out = DatesPipeline().process_item(item)
    assert out["published_at"] is None and "future" in out["date_problems"]["published_at"]


@pytest.mark.parametrize(
    "raw, tz, lang, expected",
    [
        ("07-03-2026 - 00:01 AM", "Asia/Ho_Chi_Minh", "vi", utc(2026, 3, 6, 17, 1)),
        ("07-03-2026 - 01:30 PM", "Asia/Ho_Chi_Minh", "vi", utc(2026, 3, 7, 6, 30)),
        ("Do 25.04.24 | 14:07 Uhr | Von Eva", "Europe/Berlin", "de", utc(2024, 4, 25, 12, 7)),
        ("Veröffentlicht am 13. Mai 2026 um 15:44", "Europe/Berlin", "de", utc(2026, 5, 13, 13, 44)),
        ("erstellt: 01. April 2025, 15:25", "Europe/Rome", "de", utc(2025, 4, 1, 13, 25)),
        ("2023-04-28 18:11:01.0", "Europe/Berlin", "de", utc(2023, 4, 28, 16, 11, 1)),
    ],
)
def test_other_printed_forms(raw, tz, lang, expected):
    assert parse_date(raw, FETCHED, tz, lang) == (expected, None)


def test_choose_prefers_a_time_on_the_same_day():
    from pipelines.dates import choose_date

    cands = [("2024-08-22", "time"), ("22.08.2024 12:00", "generic")]
    dt, raw, label, _, precision = choose_date(cands, FETCHED, "Europe/Berlin")
    assert (dt, label, precision) == (utc(2024, 8, 22, 10, 0), "generic", "minute")
    assert dt.utcoffset() == timedelta(hours=2)  # kept in the zone it was read in
    cands = [("2024-08-22", "time"), ("23.08.2024 12:00", "generic")]  # another day: keep the first
    assert choose_date(cands, FETCHED, "Europe/Berlin")[2] == "time"


def test_choose_skips_unparsable_and_future():
    from pipelines.dates import choose_date

    dt, raw, label, problems, _ = choose_date([("soon", "rules"), ("01/01/2031 10:00", "jsonld"),
                                            ("02/11/2023 19:20", "meta")], FETCHED, "Asia/Ho_Chi_Minh")
    assert label == "meta" and dt == utc(2023, 11, 2, 12, 20) and len(problems) == 2


@pytest.mark.parametrize("url, lang, tz", [
    ("https://vnexpress.net/a.html", None, "Asia/Ho_Chi_Minh"), ("https://www.n-tv.de/x", "de", "Europe/Berlin"),
    ("https://www.example.com/x", "en-GB", "Europe/London"), ("https://example.com/", "ja", "Asia/Tokyo"),
    ("https://example.org/", None, "Asia/Ho_Chi_Minh"),
])
def test_guess_timezone(url, lang, tz):
    from pipelines.dates import guess_timezone

    assert guess_timezone(url, lang) == tz


def test_resolve_without_source_guesses_zone_from_tld():
    item = {"url": "https://www.n-tv.de/a", "language": "de", "fetched_at": FETCHED, "hints": {},
            "published_candidates": [["2023-04-28 18:11:01.0", "jsonld"]], "field_sources": {}}
    assert resolve_dates(item)["published_at"] == utc(2023, 4, 28, 16, 11, 1)


@pytest.mark.parametrize("url, tag, expected", [
    ("https://www.example.com/a", "en-US", True), ("https://www.example.com/a", "en", True),
    ("https://www.example.com/a", "en_us", True), ("https://news.example.us/a", None, True),
    ("https://www.example.com/a", "en-GB", False), ("https://www.example.co.uk/a", "en", False),
    ("https://www.example.com.au/a", "en-US", False), ("https://www.example.com/a", "de", False),
    ("https://www.example.com/a", None, False), ("https://vnexpress.net/a.html", "vi", False),
])
def test_month_first_only_for_an_american_page(url, tag, expected):
    from pipelines.dates import writes_month_first

    assert writes_month_first(url, tag) is expected


@pytest.mark.parametrize("tag, published, offset", [
    ("en-us", utc(2024, 3, 5, 15, 15), -300),     # 5 March, 10:15 in New York
    ("en-gb", utc(2024, 5, 3, 9, 15), 60),        # 3 May, 10:15 in London (summer time)
    ("de", utc(2024, 5, 3, 8, 15), 120),          # 3 May, 10:15 in Berlin
])
def test_a_numeric_date_without_a_source_is_read_as_the_page_writes_it(tag, published, offset):
    item = {"url": "https://www.example.com/news/a-123", "language": tag[:2], "locale": tag, "fetched_at": FETCHED,
            "hints": {}, "field_sources": {}, "published_candidates": [["Published 03/05/2024 10:15 AM", "generic"]]}
    out = resolve_dates(item)
    assert (out["published_at"], out["published_at_offset"]) == (published, offset)
    # a first number over 12 is a day whatever the page's order
    item["published_candidates"] = [["25/03/2024", "generic"]]
    assert resolve_dates(item)["published_date"] == date(2024, 3, 25)


def test_a_declared_source_reads_day_first_whatever_the_page_language():
    item = {"url": "https://www.example.com/news/a-123", "language": "en", "locale": "en-us", "fetched_at": FETCHED,
            "hints": {}, "field_sources": {}, "published_candidates": [["03/05/2024 10:15", "rules"]]}
    assert resolve_dates(item, "Asia/Ho_Chi_Minh")["published_date"] == date(2024, 5, 3)


def test_extraction_keeps_the_region_of_the_language_tag_for_dates():
    from pipelines.extract import extract_fields

    page = ('<html lang="en-GB"><head><title>Budget</title></head><body><h1>Budget day</h1>'
            '<p class="date">Published 03/05/2024 10:15</p>' + "<p>Ministers set out a budget, with taxes, "
            "spending and borrowing for the year ahead, and more.</p>" * 4 + "</body></html>")
    f = extract_fields(page, "https://www.example.com/news/budget", None)
    assert (f["language"], f["locale"]) == ("en", "en-gb")
    f.update(url="https://www.example.com/news/budget", fetched_at=FETCHED, hints={})
    out = resolve_dates(f)
    assert out["published_date"] == date(2024, 5, 3) and out["published_at_offset"] == 60


def _resolve(candidates, url="https://www.example.de/a", tz="Europe/Berlin", **extra):
    item = {"url": url, "fetched_at": FETCHED, "hints": extra.pop("hints", {}), "field_sources": {},
            "published_candidates": [list(c) for c in candidates], **extra}
    return resolve_dates(item, tz)


@pytest.mark.parametrize("raw, offset, precision, day, instant", [
    # a date-only value keeps its day: the page's "19. Juli 2014" is 2014-07-19, whatever UTC says
    ("Samstag, 19. Juli 2014", 120, "day", date(2014, 7, 19), utc(2014, 7, 18, 22, 0)),
    ("2014-07-19", 120, "day", date(2014, 7, 19), utc(2014, 7, 18, 22, 0)),
    ("19.01.2014 00:30", 60, "minute", date(2014, 1, 19), utc(2014, 1, 18, 23, 30)),  # winter: +01:00
    # a stated offset is kept, not the source's zone
    ("2024-05-03T23:47:42-04:00", -240, "second", date(2024, 5, 3), utc(2024, 5, 4, 3, 47, 42)),
    ("2024-05-03T15:47Z", 0, "minute", date(2024, 5, 3), utc(2024, 5, 3, 15, 47)),
    ("Thứ năm, 2/11/2023, 19:20 (GMT+7)", 420, "minute", date(2023, 11, 2), utc(2023, 11, 2, 12, 20)),
])
def test_published_as_the_page_states_it(raw, offset, precision, day, instant):
    out = _resolve([(raw, "jsonld")], language="de")
    assert (out["published_at"], out["published_at_offset"], out["published_at_precision"], out["published_date"]) \
        == (instant, offset, precision, day)


def test_relative_date_is_in_the_source_zone():
    out = _resolve([("2 giờ trước", "generic")], url="https://bao.vn/a", tz="Asia/Ho_Chi_Minh")
    assert out["published_at"] == utc(2026, 11, 26, 3, 0) and out["published_at_offset"] == 420
    assert out["published_date"] == date(2026, 11, 26)


@pytest.mark.parametrize("url, hints, modified, expected", [
    # a loose-text date that contradicts the URL's day gives way to the next candidate
    ("https://www.example.de/2014/07/19/story", {}, None, "2014-07-19"),
    # ... or the feed's date, or the page's own modification time
    ("https://www.example.de/story", {"published_raw": "2014-07-19T08:00:00+02:00"}, None, "2014-07-19"),
    ("https://www.example.de/story", {}, "2014-07-19T09:00:00+02:00", "2014-07-19"),
])
def test_loose_dates_checked_against_url_feed_and_modified(url, hints, modified, expected):
    cands = [("© 2021-03-02", "htmldate"), ("19.07.2014", "generic")]
    extra = {"modified_at_raw": modified} if modified else {}
    out = _resolve(cands, url=url, hints=hints, **extra)
    assert out["published_date"] == date.fromisoformat(expected)
    # metadata layers are not second-guessed by the loose-text checks
    out = _resolve([("2021-03-02T10:00:00+01:00", "jsonld")], url=url, hints=hints, **extra)
    assert out["published_date"] == date(2021, 3, 2) or modified


def test_no_date_leaves_every_date_column_empty():
    out = _resolve([])
    assert [out[k] for k in ("published_at", "published_at_offset", "published_at_precision", "published_date")] \
        == [None] * 4
