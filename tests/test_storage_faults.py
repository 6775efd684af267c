"""A writer SIGKILLed at named points, then recovered, must leave exactly what a clean run leaves
(for the rows whose ``accept`` returned), with no row twice and ``verify`` clean.

The writer is this file run as a script (``python tests/test_storage_faults.py URI JOURNAL N``);
``ARCHIVE_FAULT_POINT=<name>:<n>`` makes ``storage.faults`` SIGKILL it the n-th time it passes
``<name>``. It prints ``ACK <i>`` after each ``accept`` returned, and ``COMMITTED`` at the end.

With ``FAULT_WRITER_GROUPED=1`` the writer accepts as the crawl does, through the journal's group
commit (``Run.accept_grouped``, batches of ``GROUP_ROWS`` rows or ``GROUP_MS``), several rows in
flight, and prints ``ACK <i>`` when row i's future completes: every acknowledged row must be
archived after the kill and recovery, and the archive must be a prefix of what was submitted.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from storage import open_archive  # noqa: E402

RUN_ID = "20260301T000000Z-run1"
N_ROWS = 40
FLUSH_EVERY = 9
GROUP_ROWS, GROUP_MS = 4, 20  # the grouped writer's batches
WAIT_EVERY = 5  # ... and it waits for every 5th row's batch (an N batch, then a T one)
T0 = datetime(2026, 1, 30, 22, 0, 0, 123456, tzinfo=timezone.utc)


# ---------------------------------------------------------------------- shared helpers
def make_item(i: int, run_id: str = RUN_ID, source: str | None = None, salt: str = "",
              text_salt: str | None = None) -> dict:
    """Deterministic article rows: two sources, three months and undated, repeated texts and ids.
    ``salt`` makes urls and ids distinct, ``text_salt`` (default: salt) the texts."""
    text = i - 3 if i % 5 == 4 else i  # every 5th row repeats an earlier text -> exact duplicate
    ident = i - 2 if i % 11 == 10 else i  # every 11th row repeats an earlier URL -> url duplicate
    published = None if i % 7 == 3 else T0 + timedelta(days=(i % 3) * 20, minutes=i)
    text_salt = salt if text_salt is None else text_salt
    ident_hex = hashlib.sha256(f"{salt}{ident}".encode()).hexdigest()[:16] if salt else f"{ident + 0xA000:016x}"
    return {
        "article_id": ident_hex,
        "version": 1,
        "url": f"https://news.example/{salt}a/{i}",
        "canonical_url": f"https://news.example/{salt}a/{ident}",
        "source": source or ("demo_alpha" if i % 2 else "demo_beta"),
        "region": "vn",
        "country": "VN",
        "language": "vi",
        "title": f"Tiêu đề {i}",
        "lead": None,
        "body": f"body {text} " * 5,
        "authors": [f"author {i % 4}"],
        "section": ["thời sự", "kinh tế", None][i % 3],
        "tags": [f"tag{i % 5}", "x"],
        "image_captions": [],
        "published_at": published,
        "published_at_raw": None if published is None else published.isoformat(),
        "modified_at": None,
        "modified_at_raw": None,
        "crawled_at": T0 + timedelta(hours=30, seconds=i),
        "content_hash": f"{text_salt}hash-{text:04d}",
        "word_count": 10,
        "field_sources": {"title": "rules", "body": "generic"},
        "discovered_via": "feed",
        "http_status": 200,
        "run_id": run_id,
        "published_at_offset": None if published is None else 420,
        "published_at_precision": None if published is None else "second",
        "published_date": None if published is None else (published + timedelta(hours=7)).date(),
    }


def write_item(run, item: dict) -> None:
    """What the crawl's dedupe + archive steps do with one article."""
    status, kept = run.claim(item["article_id"], item["content_hash"])
    if status == "new":
        run.accept("articles", item)
    else:
        run.accept("duplicates", {
            "article_id": kept, "duplicate_url": item["url"], "source": item["source"],
            "title": item["title"], "similarity": 1.0, "method": status, "run_id": item["run_id"],
            "crawled_at": item["crawled_at"]})


def runs_row(run_id: str = RUN_ID) -> dict:
    return {"run_id": run_id, "source": "demo_alpha", "started_at": T0, "finished_at": T0 + timedelta(hours=1),
            "status": "finished", "requests": 100, "articles_archived": 30, "dropped": {"thin": 2},
            "http_errors": {"404": 1}, "completeness_title": 1.0}


def grouped_writer_main(uri: str, journal: str, n: int, run_id: str = RUN_ID) -> None:
    archive = open_archive(uri, journal_dir=journal, publish_timeout=30, journal_group_rows=GROUP_ROWS,
                           journal_group_ms=GROUP_MS)
    run = archive.begin_run(run_id)

    def ack(i):
        return lambda future: future.exception() is None and os.write(1, f"ACK {i}\n".encode())

    for i in range(n):
        item = make_item(i, run_id)
        status, kept = run.claim(item["article_id"], item["content_hash"])
        if status == "new":
            future = run.accept_grouped("articles", item)
        else:
            future = run.accept_grouped("duplicates", {
                "article_id": kept, "duplicate_url": item["url"], "source": item["source"],
                "title": item["title"], "similarity": 1.0, "method": status, "run_id": item["run_id"],
                "crawled_at": item["crawled_at"]})
        future.add_done_callback(ack(i))
        if i % WAIT_EVERY == WAIT_EVERY - 1:
            future.result()
        if i % FLUSH_EVERY == FLUSH_EVERY - 1:
            # segments end where the plain writer's end: which copy of a story is kept is decided
            # per segment (storage/publish.py), so the two writers' clean archives are the same
            future.result()
            run.flush()
    run.accept("runs", runs_row(run_id))  # synchronous: writes the rows still waiting first
    os.write(1, f"ACK {n}\n".encode())
    manifest = run.commit({"rows": n})
    print("COMMITTED " + manifest["status"], flush=True)


def writer_main(uri: str, journal: str, n: int, run_id: str = RUN_ID, salt: str = "",
                source: str | None = None, text_salt: str | None = None) -> None:
    if os.environ.get("FAULT_WRITER_GROUPED") == "1":
        return grouped_writer_main(uri, journal, n, run_id)
    archive = open_archive(uri, journal_dir=journal, publish_timeout=30)
    run = archive.begin_run(run_id)
    for i in range(n):
        write_item(run, make_item(i, run_id, source=source, salt=salt, text_salt=text_salt))
        print(f"ACK {i}", flush=True)
        if i % FLUSH_EVERY == FLUSH_EVERY - 1:
            run.flush()
    run.accept("runs", runs_row(run_id))
    print(f"ACK {n}", flush=True)
    manifest = run.commit({"rows": n})
    print("COMMITTED " + manifest["status"], flush=True)


def run_writer(uri: str, journal: Path, n: int = N_ROWS, fault: str | None = None, env=None,
               extra: tuple = (), timeout: float = 120) -> tuple[int, int, str]:
    """Run the writer; returns (returncode, number of acked accepts, stdout)."""
    environ = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    environ.pop("ARCHIVE_FAULT_POINT", None)
    if fault:
        environ["ARCHIVE_FAULT_POINT"] = fault
    proc = subprocess.run([sys.executable, __file__, uri, str(journal), str(n), *extra],
                          capture_output=True, text=True, env=environ, timeout=timeout)
    acks = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("ACK ")]
    # acknowledgements come in order (batches are written in order): the acked rows are a prefix
    assert acks == list(range(len(acks))), f"acknowledged out of order: {acks}"
    return proc.returncode, len(acks), proc.stdout + proc.stderr


def snapshot(archive) -> dict[str, list[str]]:
    """Every row of every dataset as canonical JSON, sorted: compare archives row by row."""
    out = {}
    for dataset in ("articles", "duplicates", "runs"):
        rows = archive.read_table(dataset).to_pylist()
        out[dataset] = sorted(json.dumps(r, sort_keys=True, default=str, ensure_ascii=False) for r in rows)
    return out


def row_index(row_json: str) -> int:
    row = json.loads(row_json)
    if "url" in row:
        return int(row["url"].rsplit("/", 1)[1])
    if "duplicate_url" in row:
        return int(row["duplicate_url"].rsplit("/", 1)[1])
    return N_ROWS  # the runs row comes last


def expected_prefix(clean: dict, k: int) -> dict:
    """The clean archive's rows for the first k accepts (row N_ROWS is the runs row)."""
    return {d: [r for r in rows if row_index(r) < k] for d, rows in clean.items()}


# ---------------------------------------------------------------------- the tests
FAULT_POINTS = [
    "journal.before_write:1", "journal.before_write:6", "journal.before_write:23",
    "journal.torn_write:2", "journal.torn_write:15",
    "journal.after_write:4", "journal.after_write:19",
    "journal.after_fsync:10", "journal.after_fsync:30",
    "flush.before_lock:1", "flush.before_lock:3",
    "flush.locked:2",
    "flush.after_intent:1", "flush.after_intent:4",
    "flush.after_claims:1", "flush.after_claims:3",
    "flush.after_local_write:1", "flush.after_local_write:5",
    "local.after_tmp:2", "local.after_tmp:7",
    "local.after_link:3", "local.after_link:9",
    "flush.after_file:1", "flush.after_file:8",
    "flush.after_done:2", "flush.after_done:4",
    "commit.before_manifest:1", "commit.after_manifest:1", "commit.after_journal:1",
]


@pytest.fixture(scope="module")
def clean_archive(tmp_path_factory):
    base = tmp_path_factory.mktemp("clean")
    code, acked, out = run_writer(str(base / "arc"), base / "journal")
    assert code == 0 and "COMMITTED committed" in out, out
    archive = open_archive(str(base / "arc"))
    assert archive.verify()["ok"]
    return snapshot(archive)


def state_problems(uri: str, snap: dict) -> list[str]:
    """What the exact-text state, loaded afresh as the next run loads it, and the recovery records
    miss of the archive: every archived article must be claimed under its id and own its text,
    and every recovered run must name the files it published (storage/recovered.py)."""
    archive = open_archive(uri)
    state = archive.dedupe_state()
    problems = []
    for row in map(json.loads, snap["articles"]):
        if not state.lookup_url(row["article_id"]) or state.lookup_hash(row["content_hash"]) != row["article_id"]:
            problems.append(f"not in the dedupe state: {row['url']}")
    for manifest in archive.manifests():
        if manifest["status"] != "recovered":
            continue
        records = [r for r in archive.recovered_runs("test") if r["run_id"] == manifest["run_id"]]
        files = sorted(f["key"] for f in manifest["files"] if f["dataset"] != "runs")
        if [sorted(f["key"] for f in r["files"]) for r in records] != [files]:
            problems.append(f"recovered run {manifest['run_id']} not recorded with its files {files}")
    return problems


def _kill_and_recover(tmp_path: Path, point: str, env=None) -> dict:
    case = tmp_path / point.replace(":", "_").replace(".", "_")
    uri, journal = str(case / "arc"), case / "journal"
    code, acked, out = run_writer(uri, journal, fault=point, env=env)
    archive = open_archive(uri, journal_dir=journal)
    report = archive.recover()
    again = archive.recover()
    snap = snapshot(archive)
    return {"point": point, "code": code, "acked": acked, "out": out, "report": report, "again": again,
            "archive": archive, "snapshot": snap, "verify": archive.verify(), "state": state_problems(uri, snap)}


def test_kill_at_every_point_then_recover_equals_clean_run(tmp_path, clean_archive):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: _kill_and_recover(tmp_path, p), FAULT_POINTS))
    summary = []
    for r in results:
        assert r["code"] == -signal.SIGKILL, f"{r['point']} was never reached: {r['out'][-800:]}"
        got = r["snapshot"]
        # Exactly the acked rows, or those plus the one whose accept was in flight (journaled
        # but not yet acknowledged): never a row lost, never a row twice.
        candidates = [expected_prefix(clean_archive, r["acked"]), expected_prefix(clean_archive, r["acked"] + 1)]
        assert got in candidates, f"{r['point']}: archive differs from the clean run's first {r['acked']} rows"
        assert r["verify"]["ok"], (r["point"], r["verify"]["problems"])
        assert r["state"] == [], (r["point"], r["state"])
        assert r["report"]["recovered"] == [RUN_ID], (r["point"], r["report"])
        assert r["again"]["recovered"] == [], r["point"]
        assert not list((tmp_path / r["point"].replace(":", "_").replace(".", "_") / "journal").glob("*/journal.log"))
        summary.append(f"{r['point']}: acked={r['acked']} archived={sum(map(len, got.values()))} "
                       f"recovered={r['report']['recovered']}")
    Path(os.environ.get("ARCHIVE_FAULT_REPORT", os.devnull)).write_text("\n".join(summary) + "\n")


# the points a grouped writer reaches (fewer journal appends: one per batch, not per row)
GROUPED_FAULT_POINTS = [
    "journal.before_write:2", "journal.before_write:7", "journal.torn_write:3", "journal.torn_write:9",
    "journal.after_write:5", "journal.after_fsync:4", "journal.after_fsync:11",
    "flush.after_intent:2", "flush.after_done:3", "commit.before_manifest:1", "commit.after_journal:1",
]


def test_grouped_writer_killed_at_journal_and_publish_points_keeps_every_acknowledged_row(tmp_path, clean_archive):
    """The crawl's path: rows acknowledged by the group commit, several in flight when the kill comes."""
    env = {"FAULT_WRITER_GROUPED": "1"}
    code, acked, out = run_writer(str(tmp_path / "clean" / "arc"), tmp_path / "clean" / "journal", env=env)
    assert code == 0 and "COMMITTED committed" in out and acked == N_ROWS + 1, out
    assert snapshot(open_archive(str(tmp_path / "clean" / "arc"))) == clean_archive
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: _kill_and_recover(tmp_path, p, env), GROUPED_FAULT_POINTS))
    for r in results:
        assert r["code"] == -signal.SIGKILL, f"{r['point']} was never reached: {r['out'][-800:]}"
        # every acknowledged row, and maybe some rows submitted after them (written, not yet
        # acknowledged): a prefix of the submissions, never a hole, never a row twice
        candidates = [expected_prefix(clean_archive, k) for k in range(r["acked"], N_ROWS + 2)]
        assert r["snapshot"] in candidates, f"{r['point']}: lost an acknowledged row or left a hole ({r['acked']} acked)"
        assert r["verify"]["ok"], (r["point"], r["verify"]["problems"])
        assert r["state"] == [], (r["point"], r["state"])
        assert r["again"]["recovered"] == [], r["point"]


def test_kill_during_recovery_then_recover_again(tmp_path, clean_archive):
    uri, journal = str(tmp_path / "arc"), tmp_path / "journal"
    code, acked, _ = run_writer(uri, journal, fault="flush.after_intent:3")
    assert code == -signal.SIGKILL
    # The recoverer itself dies halfway through publishing the dead run's segment.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVE_FAULT_POINT": "flush.after_file:2"}
    script = f"from storage import open_archive; open_archive({uri!r}, journal_dir={str(journal)!r}).recover()"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    archive = open_archive(uri, journal_dir=journal)
    assert archive.recover()["recovered"] == [RUN_ID]
    snap = snapshot(archive)
    assert snap in (expected_prefix(clean_archive, acked), expected_prefix(clean_archive, acked + 1))
    assert archive.verify()["ok"]
    assert state_problems(uri, snap) == []


def test_next_begin_run_publishes_a_dead_runs_rows(tmp_path, clean_archive):
    uri, journal = str(tmp_path / "arc"), tmp_path / "journal"
    code, acked, _ = run_writer(uri, journal, fault="journal.after_fsync:25")
    assert code == -signal.SIGKILL
    archive = open_archive(uri, journal_dir=journal)
    run = archive.begin_run("20260302T000000Z-run2")  # recovers run1 first
    assert archive.get_manifest(RUN_ID)["status"] == "recovered"
    run.commit()
    snap = snapshot(archive)
    assert snap in (expected_prefix(clean_archive, acked), expected_prefix(clean_archive, acked + 1))
    assert state_problems(uri, snap) == []


if __name__ == "__main__":
    writer_main(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:])
