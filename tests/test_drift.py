"""The drift rule (crawler/drift.py) on runs rows and daily counts, and what it reads from a real archive:
authors completeness (NULL in runs rows written before the column existed) and articles per local day.

Every date comes from the product's clock (storage/clock.py), so the tests hold on any day and in any
machine zone, ``NEWSARCHIVE_NOW`` included.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.drift import DriftRule
from crawler.session import HISTORY_COLUMNS, ArchiveSession
from storage import clock, open_archive
from storage.schema import ADDED_COLUMNS, SCHEMAS
from tests._ops import scrapy
from tests.test_storage_faults import make_item, runs_row, write_item

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def row(run_id: str, started_at: datetime, **kw) -> dict:
    base = {"run_id": run_id, "source": "s", "status": "ok", "notes": "", "started_at": started_at,
            "completeness_title": 1.0, "completeness_body": 1.0, "completeness_date": 1.0,
            "completeness_authors": 0.8, "articles_archived": 20}
    base.update(kw)
    return base


def nightly(n: int = 4, tz=VN) -> tuple[list[dict], dict]:
    """``n`` earlier runs and the latest, one a night at 00:30 local time, the latest today."""
    today = clock.today(tz)
    start = [datetime.combine(today - timedelta(days=n - i), time(0, 30), tz).astimezone(timezone.utc)
             for i in range(n + 1)]
    return [row(f"r{i}", start[i]) for i in range(n)], row("now", start[n])


def test_completeness_per_run_judges_authors_like_the_other_fields():
    rule = DriftRule()
    earlier, latest = nightly()
    assert rule.assess(earlier, latest) == []
    [authors] = rule.assess(earlier, dict(latest, completeness_authors=0.5))
    assert (authors.metric, authors.median, round(authors.threshold, 2)) == ("authors", 0.8, 0.6)
    assert "authors completeness 50% < 60%" in str(authors)
    [date] = rule.assess(earlier, dict(latest, completeness_date=0.75))
    assert date.metric == "date" and "75% < 80%" in str(date)
    # runs rows written before completeness_authors: NULL, no verdict on authors, the rest still judged
    old = [dict(r, completeness_authors=None) for r in earlier]
    assert rule.assess(old, dict(latest, completeness_authors=0.0)) == []
    assert [a.metric for a in rule.assess(old, dict(latest, completeness_authors=0.0, completeness_title=0.5))] \
        == ["title"]
    # a source that never has authors is never flagged for them
    never = [dict(r, completeness_authors=0.0) for r in earlier]
    assert rule.assess(never, dict(latest, completeness_authors=0.0)) == []
    assert rule.assess(earlier[:2], dict(latest, completeness_authors=0.0)) == []  # too little history
    failed = [dict(r, status="failed") for r in earlier]
    assert rule.assess(failed, dict(latest, completeness_authors=0.0)) == []


def test_count_is_per_local_day_against_the_median_of_the_days_before():
    rule = DriftRule()
    earlier, latest = nightly()
    judged = clock.today(VN) - timedelta(days=1)  # the local day before the latest run started
    assert rule.judged_day(latest, VN) == judged
    assert rule.count_days(latest, "Asia/Ho_Chi_Minh") == (judged - timedelta(days=7), judged)
    week = {judged - timedelta(days=i): n for i, n in zip(range(1, 8), (12, 10, 3, 2, 11, 10, 9))}  # a weekend
    [silent] = rule.assess(earlier, latest, week, VN)  # nothing published yesterday: a day without articles is 0
    assert (silent.value, silent.median, silent.day) == (0, 10, judged)
    daily = dict(week)
    daily[judged] = 5  # median of the 7 days before is 10: 5 is not below 5
    assert rule.assess(earlier, latest, daily, VN) == []
    daily[judged] = 4
    [count] = rule.assess(earlier, latest, daily, VN)
    assert (count.metric, count.value, count.median, count.threshold, count.day, count.runs) == \
        ("count", 4, 10, 5, judged, 7)
    assert str(count) == f"{judged}: 4 articles < 5 (median 10 of the 7 days before)"
    # several runs a day, or one run archiving many days: the count is per day, not per run
    assert rule.assess(earlier, dict(latest, articles_archived=200), daily, VN) == [count]
    assert rule.assess(earlier, dict(latest, articles_archived=1), week | {judged: 9}, VN) == []
    # a backfill window's run, no readable archive, a quiet source: no verdict
    windowed = dict(latest, notes="window 2020-01-01..2020-01-31")
    assert rule.assess(earlier, windowed, daily, VN) == []
    assert rule.assess(earlier, latest, None, VN) == []
    quiet = {d: 1 for d in week} | {judged: 0}
    assert rule.assess(earlier, latest, quiet, VN) == []  # median 1 < DEGRADED_COUNT_MIN_MEDIAN
    assert rule.assess(earlier[:2], latest, daily, VN) == []  # fewer than 3 earlier runs


def test_the_judged_day_is_the_sources_local_day_not_utc():
    """00:30 in Vietnam is still the day before in UTC: the judged day follows the source's zone."""
    rule = DriftRule()
    today = clock.today(VN)
    started = datetime.combine(today, time(0, 30), VN).astimezone(timezone.utc)
    latest = {"started_at": started}
    assert rule.judged_day(latest, VN) == today - timedelta(days=1)
    assert rule.judged_day(latest, "UTC") == today - timedelta(days=2)
    naive = {"started_at": started.replace(tzinfo=None)}  # a UTC timestamp read back without its zone
    assert rule.judged_day(naive, VN) == today - timedelta(days=1)


def test_bad_settings_are_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="DEGRADED_COUNT_DROP"):
        DriftRule(count_drop=1.5)
    with pytest.raises(ValueError, match="DEGRADED_HISTORY_DAYS"):
        DriftRule(history_days=0)
    done = scrapy("crawlall", "-s", "DEGRADED_HISTORY_DAYS=0", archive=tmp_path / "archive", base_url=None,
                  timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DEGRADED_HISTORY_DAYS" in done.stdout + done.stderr
    assert not (tmp_path / "archive" / "runs").exists()  # nothing was crawled


def _old_runs_file(archive, run_id: str, when: datetime) -> None:
    """A run committed by the code before ``completeness_authors`` existed: its runs file lacks it."""
    added = ADDED_COLUMNS["runs"]
    new = SCHEMAS["runs"]
    saved = SCHEMAS["runs"]
    SCHEMAS["runs"] = pa.schema([f for f in new if f.name not in added])
    try:
        run = archive.begin_run(run_id)
        run.accept("runs", dict(runs_row(run_id), started_at=when, finished_at=when, status="ok"))
        run.commit({"n": 0})
    finally:
        SCHEMAS["runs"] = saved


def test_runs_written_before_completeness_authors_read_as_null(tmp_path):
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal")
    now = clock.now()
    _old_runs_file(archive, "old-run", now - timedelta(days=2))
    [key] = archive.files("runs")
    assert "completeness_authors" not in pq.read_schema(archive.backend.root / key).names
    # every reader sees the column, NULL: DuckDB (query, report), Arrow (the crawl's history)
    con = archive.duckdb()
    assert con.execute("SELECT run_id, completeness_authors FROM runs").fetchall() == [("old-run", None)]
    table = archive.read_table("runs", columns=list(HISTORY_COLUMNS))
    assert table.to_pylist()[0]["completeness_authors"] is None
    run = archive.begin_run("new-run")
    run.accept("runs", dict(runs_row("new-run"), started_at=now, finished_at=now, status="ok",
                            completeness_authors=0.25))
    run.commit({"n": 0})
    con = archive.duckdb()
    assert con.execute("SELECT run_id, completeness_authors FROM runs ORDER BY started_at").fetchall() == \
        [("old-run", None), ("new-run", 0.25)]
    session = ArchiveSession(str(tmp_path / "arc"), "probe", None, dry_run=True)
    history = session.recent_runs("demo_alpha")
    assert [(r["run_id"], r["completeness_authors"]) for r in history] == [("old-run", None), ("new-run", 0.25)]
    from crawler.archivereport import collect

    data = collect(archive)
    [src] = [s for s in data["sources"] if s["name"] == "demo_alpha"]
    assert [c["authors"] for c in src["completeness"]] == [None, 0.25]


def test_session_counts_articles_per_local_day_of_the_source(tmp_path):
    """What the run report gives the count rule: the archive's articles per publication day in the
    source's zone (an article at 20:00 UTC is the next day in Vietnam); undated ones on no day."""
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal")
    today = clock.today(VN)
    run = archive.begin_run("r1")
    when = {}
    for i in range(30):
        day = today - timedelta(days=1 + i % 3)
        published = datetime.combine(day - timedelta(days=1), time(20, i), timezone.utc)  # = `day` in VN
        item = dict(make_item(i, "r1", source="demo_alpha", salt=f"d{i}"), published_at=None if i % 10 == 9 else published)
        write_item(run, item)
        if item["published_at"] is not None:
            when.setdefault(day, set()).add(item["article_id"])
    run.commit({"n": 30})
    session = ArchiveSession(str(tmp_path / "arc"), "probe", None, dry_run=True)
    counts = session.daily_counts("demo_alpha", "Asia/Ho_Chi_Minh", today - timedelta(days=8), today)
    assert counts == {d: len(ids) for d, ids in when.items()} and sum(counts.values()) == 27  # 3 undated
    assert session.daily_counts("demo_alpha", VN, today - timedelta(days=2), today) == \
        {d: n for d, n in counts.items() if d >= today - timedelta(days=2)}
    utc = session.daily_counts("demo_alpha", "UTC", today - timedelta(days=8), today)
    assert {d + timedelta(days=1) for d in utc} == set(counts)  # the same articles, a day earlier in UTC
    assert session.daily_counts("demo_beta", VN, today - timedelta(days=8), today) == {}
