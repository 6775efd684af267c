"""The drift rule (crawler/drift.py) on runs rows, and what it reads from a real archive: authors
completeness (NULL in runs rows written before the column existed).

Every date comes from the product's clock (storage/clock.py), so the tests hold on any day and in any
machine zone, ``NEWSARCHIVE_NOW`` included.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.drift import DriftRule
from crawler.session import HISTORY_COLUMNS, ArchiveSession
from storage import clock, open_archive
from storage.schema import ADDED_COLUMNS, SCHEMAS
from tests.test_storage_faults import runs_row

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
