"""The journal's group commit (storage/groupcommit.py): one fsync per batch of N rows or T ms, a
row acknowledged only once its batch is fsynced, a failed batch failing every row it held.

The batches are written to a real journal; ``os.fsync`` is wrapped to count (or hold, or fail)
the real calls."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time

import pytest

from storage import ArchiveConfigError, ArchiveError, NotDurable, open_archive
from storage.groupcommit import GroupCommit, check
from storage.journal import Journal
from tests.test_storage_faults import RUN_ID, make_item


class FsyncSpy:
    """``os.fsync`` as it is, counted; ``hold`` blocks it until released, ``fail`` raises EIO."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.real = os.fsync
        self.hold: threading.Event | None = None
        self.entered = threading.Event()
        self.fail = False
        monkeypatch.setattr(os, "fsync", self)

    def __call__(self, fd):
        self.entered.set()
        if self.hold is not None:
            self.hold.wait(10)
        if self.fail:
            raise OSError(errno.EIO, "Input/output error")
        self.calls += 1
        self.real(fd)


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "run").open()
    yield j
    j.close()


def _rows(journal) -> list[int]:
    return [r["i"] for r in journal.records() if r.get("t") == "row"]


def _group(journal, rows, ms):
    return GroupCommit(lambda records: journal.append([{"t": "row", "i": i} for i in records]), rows, ms)


def test_n_rows_close_a_batch_with_one_fsync(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=5, ms=10_000)  # T far away: only N can close the batch
    first = [group.submit([i]) for i in range(4)]
    time.sleep(0.2)
    assert not any(f.done() for f in first) and spy.calls == 0 and _rows(journal) == []
    last = group.submit([4])
    for f in [*first, last]:
        assert f.result(timeout=5) is None
    assert spy.calls == 1 and group.batches == 1 and group.rows == 5
    assert _rows(journal) == [0, 1, 2, 3, 4]
    group.close()


def test_t_ms_close_a_batch_after_its_first_row(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=1000, ms=80)
    started = time.monotonic()
    futures = [group.submit([i]) for i in range(3)]
    for f in futures:
        f.result(timeout=5)
    waited = time.monotonic() - started
    assert 0.08 <= waited < 2.0
    assert spy.calls == 1 and _rows(journal) == [0, 1, 2]
    group.close()


def test_a_row_is_acknowledged_only_after_its_fsync_returned(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    spy.hold = threading.Event()
    group = _group(journal, rows=2, ms=10_000)
    futures = [group.submit([0]), group.submit([1])]
    assert spy.entered.wait(5)  # the committer is inside fsync: written, not yet durable
    time.sleep(0.1)
    assert not any(f.done() for f in futures) and spy.calls == 0
    spy.hold.set()
    for f in futures:
        f.result(timeout=5)
    assert spy.calls == 1
    group.close()


def test_a_failed_fsync_fails_every_row_of_its_batch_and_leaves_no_record(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=3, ms=10_000)
    group.commit_now([0])  # durable before the failure: stays
    spy.fail = True
    futures = [group.submit([i]) for i in (1, 2, 3)]
    for f in futures:
        with pytest.raises(NotDurable, match="batch of 3 rows could not be written and fsynced") as info:
            f.result(timeout=5)
        assert isinstance(info.value.cause, OSError) and info.value.cause.errno == errno.EIO
    assert group.failed_batches == 1 and group.failed_rows == 3 and "OSError" in group.last_error
    assert _rows(journal) == [0]  # cut back: no record of an unacknowledged batch
    spy.fail = False
    later = group.submit([4]), group.submit([5]), group.submit([6])
    for f in later:
        f.result(timeout=5)
    assert _rows(journal) == [0, 4, 5, 6]
    group.close()


def test_commit_now_writes_the_waiting_rows_first_in_one_fsync(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=100, ms=10_000)
    waiting = [group.submit([i]) for i in range(3)]
    group.commit_now([3])
    assert all(f.done() and f.result() is None for f in waiting)
    assert spy.calls == 1 and _rows(journal) == [0, 1, 2, 3]
    spy.fail = True
    pending = group.submit([4])
    with pytest.raises(OSError):  # the caller of commit_now gets the error as it came
        group.commit_now([5])
    with pytest.raises(NotDurable):
        pending.result(timeout=1)
    group.close()


def test_close_writes_what_waits_and_refuses_more(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=100, ms=10_000)
    futures = [group.submit([i]) for i in range(7)]
    group.close()
    assert all(f.done() for f in futures) and spy.calls == 1 and _rows(journal) == list(range(7))
    with pytest.raises(ArchiveError, match="closed"):
        group.submit([8])
    group.close()  # idempotent


def test_many_threads_submitting_keep_their_order_and_share_fsyncs(journal, monkeypatch):
    spy = FsyncSpy(monkeypatch)
    group = _group(journal, rows=50, ms=5)
    futures: list = []
    lock = threading.Lock()

    def worker(w):
        for k in range(300):
            f = group.submit([(w, k)])
            with lock:
                futures.append(f)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in futures:
        f.result(timeout=10)
    rows = [tuple(r) for r in _rows(journal)]
    assert len(rows) == 1200 and len(set(rows)) == 1200
    for w in range(4):
        assert [k for ww, k in rows if ww == w] == list(range(300))  # each thread's order kept
    assert spy.calls == group.batches < 1200
    group.close()


def test_zero_ms_groups_what_arrived_during_the_last_fsync(journal, monkeypatch):
    FsyncSpy(monkeypatch)
    group = _group(journal, rows=1000, ms=0)
    futures = [group.submit([i]) for i in range(200)]
    for f in futures:
        f.result(timeout=5)
    assert _rows(journal) == list(range(200)) and group.batches <= 200
    group.close()


@pytest.mark.parametrize("rows, ms", [(0, 10), (-1, 10), (1.5, 10), ("10", 10), (True, 10), (10, -1),
                                      (10, 10_001), (10, float("nan")), (10, "5"), (100_001, 1)])
def test_bad_group_settings_are_refused(rows, ms):
    with pytest.raises(ArchiveConfigError, match="journal group"):
        check(rows, ms)


# ---------------------------------------------------------------------- the run and the crawl's side
def test_run_accept_grouped_then_commit_publishes_every_row(tmp_path, monkeypatch):
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal", journal_group_rows=100,
                           journal_group_ms=10_000)
    run = archive.begin_run(RUN_ID)
    spy = FsyncSpy(monkeypatch)
    futures = [run.accept_grouped("articles", make_item(i)) for i in range(20) if i % 5 != 4 and i % 11 != 10]
    time.sleep(0.1)
    assert not any(f.done() for f in futures) and run.pending_rows == 0 and run.group.waiting == 15
    assert spy.calls == 0
    manifest = run.commit({})  # writes the 15 waiting rows first, in one batch
    assert all(f.done() for f in futures) and manifest["rows"]["articles"] == 15
    assert run.group.batches == 1 and run.group.rows == 15
    run.close()
    with pytest.raises(ArchiveError, match="closed"):
        run.accept_grouped("articles", make_item(30))
    assert open_archive(str(tmp_path / "arc")).verify()["ok"]


def test_a_run_closed_with_rows_waiting_journals_them_for_recovery(tmp_path):
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal", journal_group_rows=100,
                           journal_group_ms=10_000)
    run = archive.begin_run(RUN_ID)
    futures = [run.accept_grouped("articles", make_item(i)) for i in range(3)]
    run.close()
    assert all(f.result(timeout=1) is None for f in futures)
    assert archive.recover()["recovered"] == [RUN_ID]
    assert archive.read_table("articles").num_rows == 3


def test_run_refuses_bad_group_options_at_open(tmp_path):
    with pytest.raises(ArchiveConfigError, match="journal group rows"):
        open_archive(str(tmp_path / "arc"), journal_group_rows=0)


def test_settings_are_checked_when_the_crawl_opens_the_archive(tmp_path):
    from scrapy.settings import Settings

    from crawler.session import journal_group

    assert journal_group(Settings({"JOURNAL_GROUP_ROWS": "64", "JOURNAL_GROUP_MS": "2.5"})) == (64, 2.5)
    assert journal_group(Settings({})) == (100, 5.0)
    with pytest.raises(ArchiveConfigError, match=r"JOURNAL_GROUP_ROWS='many': must be a whole number"):
        journal_group(Settings({"JOURNAL_GROUP_ROWS": "many"}))
    with pytest.raises(ArchiveConfigError, match=r"JOURNAL_GROUP_MS='-3': must be a number of milliseconds"):
        journal_group(Settings({"JOURNAL_GROUP_MS": "-3"}))


class _Stats:
    def __init__(self):
        self.values: dict = {}

    def inc_value(self, key, n=1):
        self.values[key] = self.values.get(key, 0) + n


def test_archive_step_waits_for_its_batch_and_fails_when_it_cannot_be_fsynced(tmp_path, monkeypatch):
    from pipelines.archive import ArchivePipeline

    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal", journal_group_rows=3,
                           journal_group_ms=50)
    run = archive.begin_run(RUN_ID)
    session = type("S", (), {"run": run, "accept_grouped": lambda self, d, r: run.accept_grouped(d, r)})()
    source = type("Src", (), {"region": "vn", "country": "VN", "language": "vi"})()
    stats = _Stats()
    step = ArchivePipeline(source, session, stats)

    def item(i):
        row = make_item(i)
        return {**row, "fetched_at": row["crawled_at"]}

    async def three():
        return await asyncio.gather(*(step.process_item(item(i)) for i in range(3)))

    spy = FsyncSpy(monkeypatch)
    rows = asyncio.run(three())
    assert [r["url"] for r in rows] == [item(i)["url"] for i in range(3)]
    assert spy.calls == 1 and stats.values["archive/articles_accepted"] == 3 and run.pending_rows == 3

    spy.fail = True
    with pytest.raises(NotDurable):
        asyncio.run(step.process_item(item(5)))
    assert stats.values["archive/journal_failed"] == 1 and stats.values["archive/articles_accepted"] == 3
    spy.fail = False
    run.commit({})
    run.close()
    published = open_archive(str(tmp_path / "arc")).read_table("articles").to_pylist()
    assert sorted(r["url"] for r in published) == sorted(item(i)["url"] for i in range(3))


def test_durable_outside_asyncio_waits_through_a_deferred_fired_in_the_reactor_thread(monkeypatch):
    from concurrent.futures import Future

    from twisted.internet.defer import Deferred

    from pipelines import durable as durable_mod

    calls = []
    monkeypatch.setattr(durable_mod, "_call_in_reactor", lambda fn, *args: calls.append((fn, args)))
    stats = _Stats()
    ok, bad = Future(), Future()
    waits = [Deferred.fromCoroutine(durable_mod.durable(t, stats)) for t in (ok, bad)]
    failures = []
    waits[1].addErrback(lambda f: failures.append(f.value))
    ok.set_result(None)
    bad.set_exception(NotDurable("j", 2, OSError(errno.EIO, "Input/output error")))
    assert not any(w.called for w in waits) and len(calls) == 2  # not in the committer's thread
    for fn, args in calls:  # the reactor thread
        fn(*args)
    assert waits[0].called and waits[0].result is None
    assert isinstance(failures[0], NotDurable) and stats.values == {"archive/journal_failed": 1}
