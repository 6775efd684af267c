"""A real demo crawl (``scrapy demo``: the demo server and every demo source in one process)
SIGKILLed part-way, then run again, must leave what a clean run leaves: every story once in
``articles``, each copy once in ``duplicates``, and the near-duplicate index and the exact-text
state (claims) holding every archived article (issue 16).

Kills are placed by progress, not by time: at a fraction of the clean run's journaled rows
(``articles`` + ``duplicates``), or at a named storage fault point (``storage/faults.py``, every
point name of tests/test_storage_faults.py, at counts a demo run reaches: the journal's during the
crawl, the publish and commit points in the run's two segments at its end).

Which copy of a story is kept does not follow crawl order: a segment's copies are decided in a
fixed order when it is published (storage/publish.py), and the rerun continues the killed run (same
run id, its journal) instead of publishing it apart. So the rerun's archive must be the clean run's
row for row: ``articles`` on (source, path), ``duplicates`` on (source, path, method), the same copy
kept of each story, the run report's counts too, and the near-duplicate index and exact-text state
holding every archived article.
As a script it runs every fraction and point and prints the figures::

    python tests/test_crawl_kill.py [--polite] [--fractions 10,20,...] [--points all|none|p1,p2]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from pipelines.neardup_signature import DEFAULT, signature  # noqa: E402
from pipelines.neardup_index import NearDupIndex  # noqa: E402
from storage import open_archive  # noqa: E402

pytestmark = pytest.mark.xdist_group("crawl_kill")

FAST = ("-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_BACKOFF_BASE=0.2")
SUITE_FRACTIONS = (0.2, 0.5, 0.8)
# segment 1 (the run's articles and copies, published when its crawl is over), segment 2 (its report)
CRAWL_FAULT_POINTS = [
    "journal.before_write:1", "journal.before_write:6", "journal.before_write:23",
    "journal.torn_write:2", "journal.torn_write:15",
    "journal.after_write:4", "journal.after_write:19",
    "journal.after_fsync:10", "journal.after_fsync:30",
    "flush.before_lock:1", "flush.before_lock:2",
    "flush.locked:1", "flush.locked:2",
    "flush.after_intent:1", "flush.after_intent:2",
    "flush.after_claims:1", "flush.after_claims:2",
    "flush.after_local_write:1", "flush.after_local_write:5",
    "local.after_tmp:2", "local.after_tmp:7",
    "local.after_link:3", "local.after_link:9",
    "flush.after_file:1", "flush.after_file:8",
    "flush.after_done:1", "flush.after_done:2",
    "commit.before_manifest:1", "commit.after_manifest:1", "commit.after_journal:1",
]
SUITE_POINTS = ("journal.torn_write:15", "flush.after_claims:1", "flush.after_file:8", "commit.after_journal:1")


# ---------------------------------------------------------------------- running the demo
def demo(case: Path, settings=FAST, fault: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, ARCHIVE_URI=str(case / "archive"), ARCHIVE_JOURNAL_DIR=str(case / "journal"))
    env.pop("ARCHIVE_FAULT_POINT", None)
    env.pop("DEMO_BASE_URL", None)
    if fault:
        env["ARCHIVE_FAULT_POINT"] = fault
    case.mkdir(parents=True, exist_ok=True)
    log = open(case / ("killed.log" if fault else "run.log"), "a")
    # its own process group: a kill takes the in-process demo server down with the crawl
    return subprocess.Popen([sys.executable, "-m", "scrapy", "demo", *settings], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def journaled(case: Path) -> int:
    """``articles`` and ``duplicates`` rows in the run's journal so far."""
    n = 0
    for log in (case / "journal").glob("*/journal.log"):
        with open(log, "rb") as fh:
            n += sum(1 for line in fh if b'"t":"row"' in line and b'"d":"runs"' not in line)
    return n


def run_clean(case: Path, settings=FAST) -> None:
    proc = demo(case, settings)
    assert proc.wait(timeout=600) == 0, (case / "run.log").read_text()[-3000:]


def kill_at_rows(case: Path, rows: int, settings=FAST) -> int:
    """Start a demo run, SIGKILL its process group once ``rows`` rows are journaled; returns
    how many were journaled at the kill."""
    proc = demo(case, settings)
    deadline = time.monotonic() + 600
    while proc.poll() is None and journaled(case) < rows and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"the run ended before {rows} rows were journaled"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return journaled(case)


def kill_at_point(case: Path, point: str, settings=FAST) -> int:
    proc = demo(case, settings, fault=point)
    code = proc.wait(timeout=600)
    assert code == -signal.SIGKILL, f"{point} was never reached: " + (case / "killed.log").read_text()[-2000:]
    return journaled(case)


# ---------------------------------------------------------------------- reading it back
def page(source: str, url: str) -> tuple[str, str]:
    return source, urlsplit(url).path  # the demo server's port changes every run


RUN_COUNTS = ("source", "status", "articles_found", "articles_archived", "duplicates_skipped", "dropped",
              "completeness_title", "completeness_body", "completeness_date", "completeness_authors")


def state(archive_dir: Path) -> dict:
    archive = open_archive(str(archive_dir))
    runs = archive.read_table("runs", columns=list(RUN_COUNTS)).to_pylist()
    articles = archive.read_table("articles", columns=["article_id", "source", "url", "content_hash",
                                                       "body"]).to_pylist()
    dups = archive.read_table("duplicates", columns=["article_id", "source", "duplicate_url",
                                                     "method"]).to_pylist()
    kept = {r["article_id"]: page(r["source"], r["url"]) for r in articles}
    stories: dict[str, set] = {aid: {p} for aid, p in kept.items()}
    for d in dups:
        stories.setdefault(d["article_id"], set()).add(page(d["source"], d["duplicate_url"]))
    index = NearDupIndex(archive.backend, DEFAULT)
    index.refresh()
    indexed = {i for seg in index.segments.values() for i in seg.ids}
    claims = open_archive(str(archive_dir)).dedupe_state()  # a fresh load, as the next run makes it
    return {
        "articles": sorted(page(r["source"], r["url"]) for r in articles),
        "duplicates": sorted((*page(d["source"], d["duplicate_url"]), d["method"]) for d in dups),
        "kept_of": {frozenset(members): kept.get(aid) for aid, members in stories.items()},
        "dangling": [d for d in dups if d["article_id"] not in kept],
        "unindexed": [page(r["source"], r["url"]) for r in articles if r["article_id"] not in indexed
                      and signature(r["body"]).shingles >= DEFAULT.min_shingles],
        "unclaimed": [page(r["source"], r["url"]) for r in articles if not claims.lookup_url(r["article_id"])
                      or claims.lookup_hash(r["content_hash"]) != r["article_id"]],
        "verify": archive.verify(),
        # the last report row of each source: the rerun's (a run the rerun finished has the same id)
        "report": sorted(tuple(sorted(r.items())) for r in runs),
        "runs": len(archive.manifests()),
    }


def differences(clean: dict, got: dict) -> dict:
    """What differs from the clean run: an empty dict when the archive is the clean run's."""
    out = {}
    for key in ("articles", "duplicates"):
        twice = len(got[key]) - len(set(got[key]))
        if twice:
            out[f"{key}_twice"] = twice
    if set(got["kept_of"]) != set(clean["kept_of"]):  # every story with the same pages, each once
        out["stories_differ"] = sorted(map(sorted, set(got["kept_of"]) ^ set(clean["kept_of"])))
    for key in ("articles", "duplicates"):  # row for row
        if got[key] != clean[key]:
            out[f"{key}_differ"] = sorted(set(got[key]) ^ set(clean[key]))
    kept_other = sorted(sorted(s) for s, k in clean["kept_of"].items() if s in got["kept_of"] and got["kept_of"][s] != k)
    if kept_other:
        out["other_copy_kept"] = kept_other
    if got["runs"] == 1 and got["report"] != clean["report"]:  # the rerun continued the killed run
        out["report_differs"] = sorted(set(got["report"]) ^ set(clean["report"]))
    for key in ("dangling", "unindexed", "unclaimed"):
        if got[key]:
            out[key] = got[key]
    if not got["verify"]["ok"]:
        out["verify"] = got["verify"]["problems"]
    return out


def other_kept(clean: dict, got: dict) -> int:
    """Stories whose kept copy is another page than in the clean run (crawl order)."""
    return sum(1 for s, k in clean["kept_of"].items() if s in got["kept_of"] and got["kept_of"][s] != k)


def kill_and_rerun(case: Path, clean: dict, *, fraction: float | None = None, point: str | None = None,
                   settings=FAST) -> dict:
    total = len(clean["articles"]) + len(clean["duplicates"])
    if fraction is not None:
        at = kill_at_rows(case, max(1, round(fraction * total)), settings)
    else:
        at = kill_at_point(case, point, settings)
    run_clean(case, settings)  # the rerun: recovers the killed run first
    got = state(case / "archive")
    return {"at": at, "total": total, "got": got, "diff": differences(clean, got),
            "other_kept": other_kept(clean, got)}


# ---------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    case = tmp_path_factory.mktemp("clean")
    run_clean(case)
    got = state(case / "archive")
    assert not differences(got, got) and got["verify"]["ok"]
    assert len(got["articles"]) > 150 and any(m == "near" for *_, m in got["duplicates"])
    return got


def test_two_clean_runs_keep_the_same_copies(tmp_path, clean):
    run_clean(tmp_path / "again")
    assert differences(clean, state(tmp_path / "again" / "archive")) == {}


@pytest.mark.parametrize("fraction", SUITE_FRACTIONS)
def test_crawl_killed_part_way_then_rerun_equals_clean_run(tmp_path, clean, fraction):
    r = kill_and_rerun(tmp_path / "case", clean, fraction=fraction)
    assert 0 < r["at"] < r["total"], r["at"]
    assert r["diff"] == {}, f"killed at {r['at']} of {r['total']} rows: {r['diff']}"
    assert r["got"]["runs"] == 1  # the rerun continued the killed run: one run, one report
    assert len(r["got"]["articles"]) == len(clean["articles"])
    assert len(r["got"]["duplicates"]) == len(clean["duplicates"])


def test_a_killed_run_published_by_scrapy_archive_recover_holds_each_story_once(tmp_path, clean):
    """Not continued but recovered (the operator's ``scrapy archive recover``): the copies among the
    killed run's own rows are decided as its crawl would have, so no story is in ``articles`` twice."""
    case = tmp_path / "case"
    kill_at_rows(case, round(0.8 * (len(clean["articles"]) + len(clean["duplicates"]))))
    env = dict(os.environ, ARCHIVE_URI=str(case / "archive"), ARCHIVE_JOURNAL_DIR=str(case / "journal"))
    done = subprocess.run([sys.executable, "-m", "scrapy", "archive", "recover"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and '"recovered": [' in done.stdout, done.stdout + done.stderr
    got = state(case / "archive")
    archived = set(got["articles"])
    assert archived <= set(clean["articles"]) | {d[:2] for d in clean["duplicates"]}
    twice = [sorted(s) for s in clean["kept_of"] if len(s & archived) > 1]
    assert twice == [] and got["unindexed"] == [] and got["unclaimed"] == [] and got["verify"]["ok"]
    assert any(m == "near" for *_, m in got["duplicates"])  # decided at recovery: none was while crawling


@pytest.mark.parametrize("point", SUITE_POINTS)
def test_crawl_killed_at_a_storage_fault_point_then_rerun_equals_clean_run(tmp_path, clean, point):
    r = kill_and_rerun(tmp_path / "case", clean, point=point)
    assert r["diff"] == {}, f"killed at {point} ({r['at']} rows journaled): {r['diff']}"
    assert len(r["got"]["articles"]) == len(clean["articles"])


# ---------------------------------------------------------------------- as a script: every kill
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polite", action="store_true", help="production politeness (as make demo), not FAST")
    parser.add_argument("--fractions", default="10,20,30,40,50,60,70,80,90")
    parser.add_argument("--points", default="all", help="all, none or comma-separated NAME:N")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/crawl-kill")
    opts = parser.parse_args()
    settings = () if opts.polite else FAST
    base = Path(opts.dir)
    run_clean(base / "clean", settings)
    reference = state(base / "clean" / "archive")
    fractions = [int(f) for f in opts.fractions.split(",") if f]
    points = {"all": CRAWL_FAULT_POINTS, "none": []}.get(opts.points, [p for p in opts.points.split(",") if p])
    cases = [(f"kill-{f:02d}pct", {"fraction": f / 100}) for f in fractions]
    cases += [(f"point-{p.replace(':', '-')}", {"point": p}) for p in points]

    def one(case):
        name, how = case
        started = time.monotonic()
        try:
            r = kill_and_rerun(base / name, reference, settings=settings, **how)
        except AssertionError as exc:
            return f"{name}: ERROR {str(exc)[:300]}"
        g = r["got"]
        verdict = "SAME" if not r["diff"] else f"DIFF {r['diff']}"
        return (f"{name}: killed at {r['at']}/{r['total']} rows; articles {len(g['articles'])} "
                f"duplicates {len(g['duplicates'])} (clean {len(reference['articles'])}/"
                f"{len(reference['duplicates'])}); other kept copy {r['other_kept']}; "
                f"rows equal clean {g['articles'] == reference['articles'] and g['duplicates'] == reference['duplicates']}; "
                f"{verdict}; {time.monotonic() - started:.0f}s")

    with ThreadPoolExecutor(max_workers=opts.workers) as pool:
        for line in pool.map(one, cases):
            print(line, flush=True)


if __name__ == "__main__":
    main()
