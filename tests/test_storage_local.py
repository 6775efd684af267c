"""The archive on local disk: layout, file format, readers, dedupe, validation, full journal,
corrupt files, compaction, concurrent writers, memory of the dedupe state."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from storage import ArchiveConfigError, ArchiveError, CorruptFile, InvalidRow, JournalFull, open_archive
from storage.schema import DICTIONARY_COLUMNS, SCHEMAS
from tests.test_storage_faults import ROOT, make_item, run_writer, runs_row, snapshot, write_item

RUN = "20260301T000000Z-run1"


def fill(archive, n=40, run_id=RUN, flush_every=9, salt="", source=None):
    run = archive.begin_run(run_id)
    for i in range(n):
        write_item(run, make_item(i, run_id, salt=salt, source=source))
        if i % flush_every == flush_every - 1:
            run.flush()
    run.accept("runs", runs_row(run_id))
    return run.commit({"n": n})


@pytest.fixture
def archive(tmp_path):
    return open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal")


def test_roundtrip_layout_and_plain_readers(archive, tmp_path):
    manifest = fill(archive)
    root = tmp_path / "arc"
    assert manifest["status"] == "committed" and manifest["rows"]["runs"] == 1
    keys = [f["key"] for f in manifest["files"]]
    assert all(k.startswith(("articles/site=demo_", "duplicates/site=demo_", "runs/month=2026-01/")) for k in keys)
    assert "articles/site=demo_alpha/month=undated/part-%s-00000.parquet" % RUN in keys
    assert (root / "_manifests" / f"{RUN}.json").is_file()
    # what went in comes out, through the archive and through plain readers with no options
    items = {i: make_item(i) for i in range(40)}
    rows = {r["url"]: r for r in archive.read_table("articles").to_pylist()}
    seen_ids, seen_texts, kept = set(), set(), 0
    for item in items.values():  # what the dedupe claims should keep
        if item["article_id"] not in seen_ids and item["content_hash"] not in seen_texts:
            kept += 1
            seen_ids.add(item["article_id"])
            seen_texts.add(item["content_hash"])
    assert len(rows) == kept == 30
    for r in rows.values():
        item = items[int(r["url"].rsplit("/", 1)[1])]
        assert {**r, "field_sources": dict(r["field_sources"])} == item
    glob = f"{root}/articles/**/*.parquet"
    con = duckdb.connect()
    n, months = con.execute(f"SELECT count(*), list(DISTINCT month ORDER BY month) FROM "
                            f"read_parquet('{glob}', hive_partitioning=true)").fetchone()
    assert n == len(rows) and months == ["2026-01", "2026-02", "2026-03", "undated"]
    assert con.execute(f"SELECT typeof(month), typeof(site) FROM read_parquet('{glob}', hive_partitioning=true) "
                       "LIMIT 1").fetchone() == ("VARCHAR", "VARCHAR")
    table = pads.dataset(str(root / "articles")).to_table()
    assert table.num_rows == n and "source" in table.column_names
    assert pl.scan_parquet(glob).collect().height == n
    # the archive's own views agree
    views = archive.duckdb()
    assert views.execute("SELECT count(*) FROM articles").fetchone()[0] == n
    assert views.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_files_are_what_analysts_need(archive, tmp_path):
    fill(archive)
    for key in archive.files("articles") + archive.files("duplicates"):
        dataset = key.split("/")[0]
        meta = pq.ParquetFile(tmp_path / "arc" / key).metadata
        assert meta.schema.to_arrow_schema().equals(SCHEMAS[dataset], check_metadata=False)
        rg = meta.row_group(0)
        for i in range(rg.num_columns):
            col = rg.column(i)
            assert col.compression == "ZSTD"
            top = col.path_in_schema.split(".")[0]
            dictionary = any("DICT" in e for e in col.encodings)
            assert dictionary == (top in DICTIONARY_COLUMNS[dataset]), (key, top, col.encodings)
            assert col.statistics is not None
        ts = meta.schema.to_arrow_schema().field("crawled_at").type
        assert str(ts) == "timestamp[us, tz=UTC]"
        assert rg.column(0).has_offset_index  # page index written
        table = pq.read_table(tmp_path / "arc" / key)
        if dataset == "articles":
            keys = [(r["source"], r["published_at"] is None, r["published_at"], r["article_id"])
                    for r in table.to_pylist()]
            assert keys == sorted(keys, key=lambda k: (k[0], k[1], k[2] or 0, k[3]))


def test_claims_within_and_across_runs(archive):
    fill(archive, n=20)
    state = archive.dedupe_state()
    first = make_item(0)
    assert state.lookup_url(first["article_id"]) and not state.lookup_url("ffffffffffffffff")
    assert state.lookup_hash(first["content_hash"]) == first["article_id"]
    run = archive.begin_run("20260302T000000Z-run2")
    assert run.claim(first["article_id"], "other") == ("url", first["article_id"])
    assert run.claim("00000000000000aa", first["content_hash"]) == ("exact", first["article_id"])
    # copies among the run's own unpublished rows are not decided in claim order, but at publish
    assert run.claim("00000000000000ab", "fresh") == ("new", None)
    assert run.claim("00000000000000ac", "fresh") == ("new", None)
    run.close()


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
def test_copies_within_a_run_are_decided_in_a_fixed_order_not_the_order_accepted(tmp_path, order):
    """Two URLs of one article and two texts of one story, accepted in any order: the first
    published is kept (storage.publish.keep_order), the others are its url / exact copies."""
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal")
    fill(archive, n=5)
    base = make_item(30, "20260302T000000Z-run2")
    early = base["published_at"] - timedelta(hours=3)
    rows = [
        {**base, "url": "https://news.example/late", "published_at": base["published_at"]},      # 0
        {**base, "url": "https://news.example/early", "published_at": early},                    # 1 kept
        {**base, "article_id": "00000000000c0001", "url": "https://other.example/c", "source": "demo_alpha",
         "content_hash": "c0" * 16, "published_at": base["published_at"] + timedelta(days=1)},  # 2
        {**base, "article_id": "00000000000c0002", "url": "https://other.example/d", "source": "demo_alpha",
         "content_hash": "c0" * 16, "published_at": early - timedelta(minutes=1)},                # 3 kept
    ]
    run = archive.begin_run("20260302T000000Z-run2")
    for i in order:
        assert run.claim(rows[i]["article_id"], rows[i]["content_hash"]) == ("new", None)
        run.accept("articles", rows[i])
    run.commit()
    con = archive.duckdb()
    kept = con.execute("SELECT url FROM articles WHERE run_id LIKE '%run2' ORDER BY url").fetchall()
    assert kept == [("https://news.example/early",), ("https://other.example/d",)]
    dupes = con.execute("SELECT duplicate_url, method, article_id FROM duplicates WHERE run_id LIKE '%run2' "
                        "ORDER BY duplicate_url").fetchall()
    assert dupes == [("https://news.example/late", "url", base["article_id"]),
                     ("https://other.example/c", "exact", "00000000000c0002")]


def test_rows_that_bypass_claim_are_still_deduplicated_at_publish(archive):
    fill(archive, n=10)
    run = archive.begin_run("20260302T000000Z-run2")
    again = make_item(1, "20260302T000000Z-run2")  # same id and text as an archived row
    copy = {**make_item(2, "20260302T000000Z-run2"), "article_id": "00000000000fffff", "url": "https://n.example/c/2"}
    run.accept("articles", again)
    run.accept("articles", copy)
    run.commit()
    dupes = archive.duckdb().execute("SELECT method, article_id FROM duplicates WHERE run_id LIKE '%run2' "
                                     "ORDER BY method").fetchall()
    assert dupes == [("exact", make_item(2)["article_id"]), ("url", make_item(1)["article_id"])]
    assert archive.verify()["ok"]


@pytest.mark.parametrize("bad", ["../evil", "a/b", ".hidden", "", "x" * 200, "a..b", "a\\b"])
def test_partition_values_cannot_escape(archive, bad):
    run = archive.begin_run(RUN)
    with pytest.raises(InvalidRow):
        run.accept("articles", {**make_item(1), "source": bad})
    run.close()
    with pytest.raises(InvalidRow):
        archive.begin_run(bad or "..")


def test_rows_are_validated(archive):
    run = archive.begin_run(RUN)
    with pytest.raises(InvalidRow, match="unknown columns"):
        run.accept("articles", {**make_item(1), "html": "<p>"})
    with pytest.raises(InvalidRow, match="naive"):
        run.accept("articles", {**make_item(1), "crawled_at": datetime(2026, 1, 1)})
    with pytest.raises(InvalidRow, match="required"):
        run.accept("articles", {**make_item(1), "content_hash": None})
    with pytest.raises(InvalidRow, match="unknown dataset"):
        run.accept("pages", {})
    with pytest.raises(InvalidRow, match="run_id"):
        run.accept("articles", make_item(1, run_id="someone-else"))
    run.close()


def test_bad_uri_fails_at_start_naming_the_setting(tmp_path):
    with pytest.raises(ArchiveConfigError, match="ARCHIVE_URI.*unknown scheme 'gcs'"):
        open_archive("gcs://bucket/x")
    with pytest.raises(ArchiveConfigError) as info:
        open_archive("s3://AKIAXXXX:topsecret@bucket/x")
    assert "topsecret" not in str(info.value)
    assert open_archive(f"file://{tmp_path}/a").display_uri == f"{tmp_path}/a"


def test_committed_run_id_cannot_be_reused(archive):
    fill(archive, n=3)
    with pytest.raises(Exception, match="already committed"):
        archive.begin_run(RUN)


def test_accepted_rows_wait_in_the_journal_and_publish_as_accepted(archive, tmp_path):
    """A run holds where the journal has each accepted article, not the row: the segment reads the
    rows back when it is published, and a row altered on disk since is refused, not published."""
    run = archive.begin_run(RUN)
    items = [make_item(i, RUN, salt="w") for i in (0, 1, 2, 3, 5, 6)]  # no copies among them
    for item in items:
        run.accept("articles", item)
    held = [row for _, dataset, row in run._rows if dataset == "articles"]
    assert len(held) == 6 and all(isinstance(r, tuple) for r in held)  # spans, not the rows
    run.flush()
    got = {r["article_id"]: r for r in archive.read_table("articles").to_pylist()}
    assert {i["article_id"] for i in items} == set(got)
    assert [got[i["article_id"]]["body"] for i in items] == [i["body"] for i in items]
    run.accept("articles", make_item(7, RUN, salt="w"))
    log = tmp_path / "journal" / RUN / "journal.log"
    data = bytearray(log.read_bytes())
    at = data.rindex(b'"body"') + 10
    data[at:at + 1] = b"#" if data[at:at + 1] != b"#" else b"%"  # one byte of the last row's text
    log.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="does not read back"):
        run.flush()
    run.close()
    assert len(snapshot(archive)["articles"]) == 6


def test_journal_size_cap_is_a_clear_error_and_loses_nothing(tmp_path):
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "j", journal_max_bytes=12_000)
    run = archive.begin_run(RUN)
    accepted = 0
    with pytest.raises(JournalFull, match="size cap"):
        for i in range(100):
            write_item(run, make_item(i))
            accepted += 1
    run.close()
    assert 0 < accepted < 100
    report = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "j").recover()
    assert report["recovered"] == [RUN] and report["rows"] == accepted
    assert sum(map(len, snapshot(archive).values())) == accepted


def test_file_size_limit_on_the_journal_disk(tmp_path):
    """RLIMIT_FSIZE in a child stands in for a full disk: write() fails with EFBIG."""
    script = f"""
import resource, sys
sys.path.insert(0, {str(ROOT)!r})
from storage import open_archive, JournalFull
from tests.test_storage_faults import make_item, write_item
run = open_archive({str(tmp_path / 'arc')!r}, journal_dir={str(tmp_path / 'j')!r}).begin_run({RUN!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
n = 0
try:
    for i in range(200):
        write_item(run, make_item(i)); n += 1
except JournalFull as exc:
    print("FULL", n, exc)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("FULL"), proc.stdout
    n = int(proc.stdout.split()[1])
    assert "File too large" in proc.stdout
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "j")
    assert archive.recover()["rows"] == n
    assert sum(map(len, snapshot(archive).values())) == n
    assert archive.verify()["ok"]


def test_corrupt_file_is_named_and_nothing_else_is_lost(archive, tmp_path):
    fill(archive)
    victim = archive.files("articles")[0]
    path = tmp_path / "arc" / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    report = archive.verify()
    assert not report["ok"] and any(p.startswith(victim) for p in report["problems"])
    with pytest.raises(CorruptFile, match=victim.replace("/", ".")):
        archive.read_table("articles")
    with pytest.raises(duckdb.Error, match="part-"):
        archive.duckdb().execute("SELECT count(*) FROM articles").fetchone()
    kept = archive.read_table("articles", skip_corrupt=True).num_rows
    assert kept == sum(f["rows"] for m in archive.manifests() for f in m["files"]
                       if f["dataset"] == "articles" and f["key"] != victim)
    assert archive.duckdb(skip_corrupt=True).execute("SELECT count(*) FROM articles").fetchone()[0] == kept
    assert archive.read_table("duplicates").num_rows > 0  # the other files are whole


QUERIES = [
    "SELECT source, count(*), min(published_at), max(published_at) FROM articles GROUP BY 1 ORDER BY 1",
    "SELECT * FROM articles ORDER BY article_id, version",
    "SELECT * FROM duplicates ORDER BY duplicate_url",
    "SELECT run_id, status FROM runs ORDER BY 1",
]


def _answers(archive):
    con = archive.duckdb()
    return [con.execute(q).fetchall() for q in QUERIES]


def test_compaction_keeps_query_results_identical(archive, tmp_path):
    for k in range(3):
        fill(archive, n=30, run_id=f"20260301T00000{k}Z-r", salt=f"s{k}")
    before = _answers(archive)
    n_before = len(archive.files("articles"))
    report = archive.compact()
    assert report["files_in"] > report["files_out"] > 0
    assert len(archive.files("articles")) < n_before
    assert _answers(archive) == before
    assert archive.verify()["ok"], archive.verify()["problems"]
    # a second run after compaction still dedupes against everything (claims merged too)
    assert len(list((tmp_path / "arc" / "_state" / "claims").iterdir())) == 1
    assert archive.begin_run("x-later").claim(make_item(5, salt="s1")["article_id"], "z")[0] == "url"
    # sorted output: min/max statistics per file follow the sort keys
    for key in archive.files("articles"):
        table = pq.read_table(tmp_path / "arc" / key)
        assert table.column("source").to_pylist() == sorted(table.column("source").to_pylist())


@pytest.mark.parametrize("point", ["compact.after_plan:1", "compact.after_output:1",
                                   "compact.after_done:1", "compact.after_delete:1", "compact.after_claims:1"])
def test_interrupted_compaction_is_invisible_and_finished_later(tmp_path, point):
    uri = str(tmp_path / "arc")
    archive = open_archive(uri, journal_dir=tmp_path / "j")
    for k in range(2):
        fill(archive, n=20, run_id=f"20260301T00000{k}Z-r", salt=f"s{k}")
    before = _answers(archive)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVE_FAULT_POINT": point}
    proc = subprocess.run([sys.executable, "-m", "scrapy", "archive", "compact", "--archive", uri],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    assert _answers(archive) == before  # readers resolve the live set: nothing missing or doubled
    archive.compact()
    assert _answers(archive) == before
    assert archive.verify()["ok"], archive.verify()["problems"]


def test_two_writer_processes_with_overlapping_texts(tmp_path):
    """Two crawls of different sources publish at once; half their texts are the same."""
    uri = str(tmp_path / "arc")
    env = {"PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests/test_storage_faults.py"), uri,
                               str(tmp_path / f"j{k}"), "60", f"run-{k}", f"w{k}", f"demo_w{k}", ""],
                              env={**os.environ, **env}, stdout=subprocess.PIPE, text=True) for k in (1, 2)]
    # distinct urls and ids, the same texts: every text is offered by both, each kept once
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and "COMMITTED" in out
    archive = open_archive(uri)
    con = archive.duckdb()
    assert con.execute("SELECT count(*) - count(DISTINCT content_hash) FROM articles").fetchone()[0] == 0
    assert archive.verify()["ok"], archive.verify()["problems"]
    n_articles, n_dupes = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "duplicates"))
    assert n_articles + n_dupes == 120
    texts = con.execute("SELECT count(DISTINCT content_hash) FROM articles").fetchone()[0]
    assert n_articles == texts
    # every text one writer alone keeps is kept (once); more may be, when a row lost its text to
    # the other writer and a later row of the same URL then carried a new text
    alone, ids, seen = set(), set(), set()
    for i in range(60):
        item = make_item(i, salt="w1", text_salt="")
        if item["article_id"] not in ids and item["content_hash"] not in seen:
            alone.add(item["content_hash"])
            ids.add(item["article_id"])
            seen.add(item["content_hash"])
    kept = {r[0] for r in con.execute("SELECT content_hash FROM articles").fetchall()}
    assert alone <= kept
    # every duplicate points at an archived copy
    assert con.execute("SELECT count(*) FROM duplicates WHERE article_id NOT IN "
                       "(SELECT article_id FROM articles)").fetchone()[0] == 0
    # a row that lost the race at publish is recorded as an exact duplicate of the winner's copy
    cross = con.execute("SELECT count(*) FROM duplicates d JOIN articles a ON a.article_id = d.article_id "
                        "WHERE a.source <> d.source AND d.method = 'exact'").fetchone()[0]
    assert cross > 0


def test_dedupe_state_memory_per_article(tmp_path):
    """The state holds three uint64 per article and no Python object per article."""
    import numpy as np

    from storage.state import DedupeState

    n = 1_000_000
    state = DedupeState(backend=None)
    rng = np.random.default_rng(1)
    url_keys, hash_keys = rng.integers(0, 2**63, n, dtype=np.uint64), rng.integers(0, 2**63, n, dtype=np.uint64)
    ids = [f"{x:016x}" for x in rng.integers(0, 2**63, n, dtype=np.uint64).tolist()]
    import tracemalloc

    tracemalloc.start()
    state.add(url_keys, hash_keys, ids)
    del ids
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert state.nbytes() == 24 * n
    assert current < 26 * n, current  # ~24 MB per million articles once loaded
    Path(os.environ.get("ARCHIVE_MEMORY_REPORT", os.devnull)).write_text(
        f"dedupe state: {state.nbytes() / n:.1f} B/article in arrays, {current / n:.1f} B/article traced, "
        f"peak while merging {peak / n:.1f} B/article, max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} KB\n")
    k = int(np.searchsorted(state.hash_keys, state.hash_keys[1234]))
    assert state.owner_of_hash_key(int(state.hash_keys[k])) is not None


def test_cli_stats_verify_query_recover(tmp_path):
    uri = str(tmp_path / "arc")
    code, _, out = run_writer(uri, tmp_path / "j", n=25, fault="flush.after_claims:2")
    assert code == -9
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVE_JOURNAL_DIR": ""}

    def scrapy(*args, extra_env=None):
        return subprocess.run([sys.executable, "-m", "scrapy", "archive", *args], cwd=ROOT,
                              env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=120)

    assert scrapy("verify", "--archive", uri).returncode == 1  # the dead run's files have no manifest yet
    rec = scrapy("recover", "--archive", uri, "--journal-dir", str(tmp_path / "j"))
    assert rec.returncode == 0 and json.loads(rec.stdout)["recovered"] == [RUN], rec.stdout + rec.stderr
    ver = scrapy("verify", "--archive", uri)
    assert ver.returncode == 0 and ver.stdout.startswith("OK"), ver.stdout + ver.stderr
    stats = scrapy("stats", "--json", extra_env={"ARCHIVE_URI": uri})
    lines = [json.loads(line) for line in stats.stdout.splitlines()]
    assert {entry["source"] for entry in lines if entry["dataset"] == "articles"} == {"demo_alpha", "demo_beta"}
    q = scrapy("query", "SELECT source, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1", "--format", "csv",
               "--archive", uri)
    assert q.returncode == 0 and q.stdout.splitlines()[0] == "source,n", q.stderr
    jl = scrapy("query", "SELECT article_id, published_at FROM articles LIMIT 1", "--format", "jsonl", "--archive", uri)
    assert set(json.loads(jl.stdout.splitlines()[0])) == {"article_id", "published_at"}
    bad = scrapy("stats", "--archive", "nope://x")
    assert bad.returncode == 2 and "ARCHIVE_URI" in bad.stderr
    (Path(uri) / "articles" / "site=demo_alpha" / ".tmp-part-x.parquet-1234").write_bytes(b"junk")
    stray = scrapy("verify", "--archive", uri)
    assert stray.returncode == 1 and "stray temporary" in stray.stdout


def test_missing_optional_driver_is_a_clear_error(tmp_path):
    script = ("import sys; sys.modules['boto3'] = None\n"
              "from storage import open_archive, ArchiveConfigError\n"
              "try:\n    open_archive('s3://bucket/x')\nexcept ArchiveConfigError as e:\n    print(e)\n"
              f"open_archive({str(tmp_path / 'arc')!r}).files('articles')\nprint('local ok')")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "ARCHIVE_URI: s3:// archives need boto3" in proc.stdout and "local ok" in proc.stdout, proc.stderr


def test_a_run_id_reused_while_the_store_was_down_never_overwrites_or_loses_rows(archive, tmp_path, monkeypatch):
    """begin_run refuses a committed run id, unless the store did not answer at that moment: then
    publishing finds the id's claims in the archive and refuses, leaving the rows journaled."""
    from storage.errors import StoreUnavailable

    fill(archive, n=12, run_id=RUN)
    before = _answers(archive)
    real_exists = archive.backend.exists
    calls = iter([StoreUnavailable(archive.display_uri, "exists", "down")])

    def flaky(key):
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return real_exists(key)

    monkeypatch.setattr(archive.backend, "exists", flaky)
    run = archive.begin_run(RUN)  # the committed check could not ask the store
    for i in range(5):
        write_item(run, make_item(100 + i, RUN, salt="again"))
    with pytest.raises(ArchiveError, match="already published"):
        run.flush()
    assert _answers(archive) == before  # nothing of the second run mixed in
    assert (tmp_path / "journal" / RUN / "journal.log").stat().st_size > 0  # its rows wait there



def test_a_lock_holder_is_alive_unless_gone_a_zombie_or_its_pid_reused():
    import subprocess
    import sys

    from storage.procs import pid_alive, pid_start

    me = os.getpid()
    assert pid_start(me) and pid_alive(me, pid_start(me)) and pid_alive(me)
    assert not pid_alive(me, str(int(pid_start(me)) + 1))  # same pid, another start: reused
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    start = pid_start(child.pid)
    assert start and pid_alive(child.pid, start)
    child.stdin.close()  # it exits ...
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ... and is not reaped yet: a zombie
    assert not pid_alive(child.pid, start)
    child.wait()
    assert not pid_alive(child.pid, start)  # gone


def test_files_written_before_the_date_columns_still_read_query_compact_and_verify(archive, monkeypatch):
    """Archives written before ``published_at_offset`` / ``_precision`` / ``published_date`` were added
    (storage.schema.ADDED_COLUMNS) keep working: readers fill the columns with nulls."""
    from datetime import date

    from storage.schema import ADDED_COLUMNS

    added = ADDED_COLUMNS["articles"]
    new = SCHEMAS["articles"]
    old = pa.schema([f for f in new if f.name not in added])
    with monkeypatch.context() as m:
        m.setitem(SCHEMAS, "articles", old)
        run = archive.begin_run("20260301T000000Z-old")
        for i in range(20):
            item = make_item(i, "20260301T000000Z-old", salt="o")
            write_item(run, {k: v for k, v in item.items() if k not in added})
        run.accept("runs", runs_row("20260301T000000Z-old"))
        run.commit({"n": 20})
    key = archive.files("articles")[0]
    assert not set(added) & set(pq.read_schema(archive.backend.root / key).names)
    # only old files: every column is still there, null
    con = archive.duckdb()
    assert con.execute("SELECT count(*), count(published_date), count(published_at_offset) FROM articles").fetchone() \
        == (archive.read_table("articles").num_rows, 0, 0)
    run = archive.begin_run("20260302T000000Z-new")
    for i in range(20):
        item = make_item(i, "20260302T000000Z-new", salt="n")
        write_item(run, item)
    run.accept("runs", runs_row("20260302T000000Z-new"))
    run.commit({"n": 20})
    table = archive.read_table("articles")
    assert table.schema.field("published_date").type == pa.date32()
    by_run = {}
    for row in table.to_pylist():
        by_run.setdefault(row["run_id"], set()).add((row["published_at_offset"], type(row["published_date"])))
    assert by_run["20260301T000000Z-old"] == {(None, type(None))}
    assert (420, date) in by_run["20260302T000000Z-new"]
    con = archive.duckdb()
    dated = con.execute("SELECT run_id, count(published_date) FROM articles GROUP BY ALL ORDER BY ALL").fetchall()
    assert dated[0] == ("20260301T000000Z-old", 0) and dated[1][1] > 0
    before = sorted(map(str, table.to_pylist()))
    archive.compact()
    assert sorted(map(str, archive.read_table("articles").to_pylist())) == before
    assert archive.verify()["ok"], archive.verify()["problems"]
    assert pl.scan_parquet(str(archive.backend.root / "articles" / "**" / "*.parquet")).select(
        pl.col("published_date").count()).collect().item() > 0


def test_a_dead_run_is_continued_only_by_the_same_job_and_only_before_its_report(tmp_path):
    """Archive.resumable_run: the killed run of the same job that never journaled its report rows."""
    archive = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "journal")
    killed = archive.begin_run("20260302T000000Z-kill01", job="job-a")
    killed.accept("articles", make_item(0, "20260302T000000Z-kill01"))
    killed.close()  # the process is gone: its journal stays
    other = tmp_path / "journal2"  # (a begin_run in the same journal folder would recover the first)
    reported = archive.begin_run("20260302T000000Z-kill02", journal_dir=other, job="job-b")
    reported.accept("articles", make_item(1, "20260302T000000Z-kill02"))
    reported.accept("runs", runs_row("20260302T000000Z-kill02"))
    reported.close()
    assert archive.resumable_run("job-a") == "20260302T000000Z-kill01"
    assert archive.resumable_run("job-b", other) is None  # its crawl was over: recovery finishes it
    assert archive.resumable_run("job-a", other) is None and archive.resumable_run("job-c") is None
    archive.recover(other)
    run = archive.begin_run("20260302T000000Z-kill01", job="job-a")  # continue it
    assert run.resumed and [o for o, _ in run.carried] == ["archived"]
    assert run.carried[0][1]["url"] == make_item(0)["url"] and run.carried[0][1]["has_body"]
    assert archive.resumable_run("job-a") is None  # alive now
    run.accept("runs", runs_row("20260302T000000Z-kill01"))
    run.commit()
    run.close()
    assert {m["run_id"]: m["status"] for m in archive.manifests()} == {
        "20260302T000000Z-kill01": "committed", "20260302T000000Z-kill02": "recovered"}
