"""The archive in a real S3-compatible store (SeaweedFS on 127.0.0.1, tests/s3server.py): the same
rows as on local disk, byte for byte; an outage mid-run; two writers at once; kills; the lock;
bad credentials; a corrupt object. All tests share one server (xdist group "s3")."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from storage import CorruptFile, LockTimeout, StoreUnavailable, open_archive
from tests.test_storage_faults import (
    N_ROWS, ROOT, RUN_ID, expected_prefix, make_item, run_writer, snapshot, write_item,
)
from tests.test_storage_local import _answers, fill


pytestmark = pytest.mark.xdist_group("s3")


@pytest.fixture(scope="module")
def clean_local(tmp_path_factory):
    base = tmp_path_factory.mktemp("clean")
    code, _, out = run_writer(str(base / "arc"), base / "j")
    assert code == 0, out
    return snapshot(open_archive(str(base / "arc")))


def test_s3_archive_equals_local_archive_byte_for_byte(s3_uri, tmp_path):
    s3 = open_archive(s3_uri, journal_dir=tmp_path / "j1")
    local = open_archive(str(tmp_path / "arc"), journal_dir=tmp_path / "j2")
    m_s3, m_local = fill(s3), fill(local)
    assert {f["key"]: f["sha256"] for f in m_s3["files"]} == {f["key"]: f["sha256"] for f in m_local["files"]}
    assert snapshot(s3) == snapshot(local)
    assert _answers(s3) == _answers(local)
    assert s3.verify()["ok"], s3.verify()["problems"]
    # plain pyarrow over the bucket, no options beyond the file system: every column is inside
    fs, root = s3.backend.arrow_filesystem()
    table = pads.dataset(f"{root}/articles", filesystem=fs, partitioning="hive").to_table()
    assert table.num_rows == local.read_table("articles").num_rows
    assert table.schema.field("month").type == "string"
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert s3.display_uri == s3_uri and secret not in s3.display_uri and secret not in repr(s3)
    assert secret not in repr(s3.backend) and secret not in str(s3.manifests())


def test_outage_mid_run_keeps_journaling_and_publishes_late(s3_server, s3_uri, tmp_path, caplog):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j", retry_initial=0.2, publish_timeout=60)
    run = archive.begin_run(RUN_ID)
    for i in range(10):
        write_item(run, make_item(i))
    assert run.flush()
    s3_server.stop()
    try:
        for i in range(10, 25):
            write_item(run, make_item(i))  # the journal does not need the store
        with caplog.at_level(logging.WARNING):
            assert run.flush() == []
        assert run.pending_rows == 15 and run.last_error
        assert os.environ["AWS_SECRET_ACCESS_KEY"] not in caplog.text
        for i in range(25, N_ROWS):
            write_item(run, make_item(i))
    finally:
        s3_server.start()
    time.sleep(0.5)
    manifest = run.commit()
    assert manifest["status"] == "committed" and manifest["publish_delay_s"] > 0
    assert manifest["publish_attempts_failed"] >= 1
    got = snapshot(archive)
    assert sum(map(len, got.values())) == N_ROWS
    assert archive.verify()["ok"], archive.verify()["problems"]


def test_store_down_at_commit_reports_unpublished_and_next_run_publishes(s3_server, s3_uri, tmp_path, clean_local):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j", retry_initial=0.2, publish_timeout=2)
    run = archive.begin_run(RUN_ID)
    for i in range(N_ROWS):
        write_item(run, make_item(i))
    s3_server.stop()
    try:
        result = run.commit()
        run.close()
        assert result["status"] == "unpublished" and result["unpublished_rows"] == N_ROWS
    finally:
        s3_server.start()
    later = open_archive(s3_uri, journal_dir=tmp_path / "j")
    nxt = later.begin_run("20260302T000000Z-run2")  # publishes the first run's journal first
    nxt.commit()
    assert later.get_manifest(RUN_ID)["status"] == "recovered"
    # the same rows as one local segment of them (which copy is kept is decided per segment)
    ref = open_archive(str(tmp_path / "ref"), journal_dir=tmp_path / "jr")
    one = ref.begin_run(RUN_ID)
    for i in range(N_ROWS):
        write_item(one, make_item(i))
    one.commit()
    assert snapshot(later) == snapshot(ref)
    assert sum(map(len, snapshot(later).values())) == N_ROWS


def test_store_down_at_start_of_run(s3_server, s3_uri, tmp_path, clean_local):
    fill(open_archive(s3_uri, journal_dir=tmp_path / "j0"), n=10, run_id="earlier")
    s3_server.stop()
    try:
        archive = open_archive(s3_uri, journal_dir=tmp_path / "j", retry_initial=0.2)
        run = archive.begin_run(RUN_ID)  # starts, journals, cannot dedupe against the archive yet
        for i in range(N_ROWS):
            write_item(run, make_item(i))
        assert run.flush() == []
    finally:
        s3_server.start()
    assert run.commit()["status"] == "committed"
    # the rows the earlier run had already archived were demoted at publish, not archived twice
    con = archive.duckdb()
    assert con.execute("SELECT count(*) - count(DISTINCT content_hash) FROM articles").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM duplicates WHERE run_id = ? AND method = 'url'",
                       [RUN_ID]).fetchone()[0] >= 8
    assert archive.verify()["ok"], archive.verify()["problems"]


def test_two_writers_publish_at_once_with_overlapping_texts(s3_uri, tmp_path):
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests/test_storage_faults.py"), s3_uri,
                               str(tmp_path / f"j{k}"), "60", f"run-{k}", f"w{k}", f"demo_w{k}", ""],
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0 and "COMMITTED" in out, err[-2000:]
    archive = open_archive(s3_uri)
    con = archive.duckdb()
    assert con.execute("SELECT count(*) - count(DISTINCT content_hash) FROM articles").fetchone()[0] == 0
    n = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "duplicates"))
    assert n == 120
    assert con.execute("SELECT count(*) FROM duplicates WHERE article_id NOT IN "
                       "(SELECT article_id FROM articles)").fetchone()[0] == 0
    assert archive.verify()["ok"], archive.verify()["problems"]


@pytest.mark.parametrize("point", ["flush.locked:1", "flush.after_claims:2", "s3.after_put:4",
                                   "flush.after_file:5", "commit.before_manifest:1", "commit.after_manifest:1"])
def test_kill_on_s3_then_recover(s3_uri, tmp_path, clean_local, point):
    code, acked, out = run_writer(s3_uri, tmp_path / "j", fault=point)
    assert code == -signal.SIGKILL, out[-1000:]
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j")
    assert archive.recover()["recovered"] == [RUN_ID]
    # a writer killed while holding the archive lock leaves a lease: recovery took it over
    assert snapshot(archive) in (expected_prefix(clean_local, acked), expected_prefix(clean_local, acked + 1))
    assert archive.verify()["ok"], archive.verify()["problems"]


def test_lease_lock_blocks_then_expires(s3_uri, tmp_path, s3_server):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j", lock_lease=2, lock_timeout=0.5)
    client = s3_server.client()
    key = f"{s3_uri.split('/', 3)[3]}/_state/lock.json"
    client.put_object(Bucket=s3_server.bucket, Key=key,
                      Body=json.dumps({"owner": "other", "token": "t", "lease_s": 2}).encode())
    run = archive.begin_run(RUN_ID)
    write_item(run, make_item(0))
    with pytest.raises(LockTimeout, match="other"):
        with archive.backend.lock("me", timeout=0.5):
            pass
    time.sleep(2.5)
    assert run.commit()["status"] == "committed"  # the dead holder's lease ran out


def test_bad_credentials_keep_rows_journaled_and_never_log_the_secret(s3_uri, tmp_path, monkeypatch, caplog):
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + secret[:4])
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j", publish_timeout=0.5, retry_initial=0.1)
    with pytest.raises(StoreUnavailable):
        archive.dedupe_state()
    archive._state = None
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    run = open_archive(s3_uri, journal_dir=tmp_path / "j").begin_run(RUN_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + secret[:4])
    run.backend = open_archive(s3_uri).backend  # the credentials "expire" mid-run
    run.publish_timeout = 0.5
    for i in range(5):
        write_item(run, make_item(i))
    with caplog.at_level(logging.DEBUG, logger="storage"):
        assert run.commit()["status"] == "unpublished"
    run.close()
    assert secret not in caplog.text and "wrong-" not in caplog.text
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    fixed = open_archive(s3_uri, journal_dir=tmp_path / "j")
    assert fixed.recover()["recovered"] == [RUN_ID]
    assert fixed.read_table("articles").num_rows == 4


def test_corrupt_object_is_named(s3_uri, tmp_path, s3_server):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j")
    fill(archive)
    victim = archive.files("articles")[0]
    client = s3_server.client()
    full = f"{s3_uri.split('/', 3)[3]}/{victim}"
    data = client.get_object(Bucket=s3_server.bucket, Key=full)["Body"].read()
    client.put_object(Bucket=s3_server.bucket, Key=full, Body=data[:-100])
    report = archive.verify()
    assert not report["ok"] and any(p.startswith(victim) for p in report["problems"])
    with pytest.raises(CorruptFile, match="part-"):
        archive.read_table("articles")
    assert archive.read_table("articles", skip_corrupt=True).num_rows > 0
    assert archive.read_table("duplicates").num_rows > 0


def test_cli_against_s3_and_compaction(s3_uri, tmp_path):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j")
    for k in range(2):
        fill(archive, n=20, run_id=f"r{k}", salt=f"s{k}")
    before = _answers(archive)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "scrapy", "archive", "compact", "--archive", s3_uri],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files_in"] > 0
    assert _answers(archive) == before
    ver = subprocess.run([sys.executable, "-m", "scrapy", "archive", "verify", "--archive", s3_uri],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ver.returncode == 0, ver.stdout + ver.stderr
    for key in archive.files("articles"):
        fs, root = archive.backend.arrow_filesystem()
        with fs.open_input_file(f"{root}/{key}") as fh:
            assert pq.ParquetFile(fh).metadata.row_group(0).column(0).compression == "ZSTD"
