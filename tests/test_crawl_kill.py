"""A real demo crawl (``scrapy demo``: the demo server and every demo source in one process)
SIGKILLed part-way, then run again, must leave what a clean run leaves: every story once in
``articles``, each copy once in ``duplicates``, and the near-duplicate index and the exact-text
state (claims) holding every archived article (issue 16).

Kills are placed by progress, not by time: at a fraction of the clean run's journaled rows
(``articles`` + ``duplicates``), or at a named storage fault point (``storage/faults.py``, the
points of tests/test_storage_faults.py) with small publish segments so every point is reached.

Which copy of a syndicated story is kept is the first one archived, so it follows crawl order:
two clean runs with the politeness delays off can keep different copies, and a rerun after a kill
(which skips what the killed run archived) can too, even with ``make demo``'s politeness. The suite compares stories (the set of pages of each story, exactly one of them
in ``articles``) and rows (source, path, method) wherever the kept copy is the clean run's.
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
from tests.test_storage_faults import FAULT_POINTS  # noqa: E402

pytestmark = pytest.mark.xdist_group("crawl_kill")

FAST = ("-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_BACKOFF_BASE=0.2")
SMALL_SEGMENTS = ("-s", "ARCHIVE_FLUSH_ITEMS=20")  # ~10 publishes in a demo run: every fault point is reached
SUITE_FRACTIONS = (0.2, 0.5, 0.8)
SUITE_POINTS = ("journal.torn_write:70", "flush.after_claims:4", "commit.after_journal:1")


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
    proc = demo(case, (*settings, *SMALL_SEGMENTS), fault=point)
    code = proc.wait(timeout=600)
    assert code == -signal.SIGKILL, f"{point} was never reached: " + (case / "killed.log").read_text()[-2000:]
    return journaled(case)


# ---------------------------------------------------------------------- reading it back
def page(source: str, url: str) -> tuple[str, str]:
    return source, urlsplit(url).path  # the demo server's port changes every run


def state(archive_dir: Path) -> dict:
    archive = open_archive(str(archive_dir))
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
    same_kept = {p for s, k in clean["kept_of"].items() if got["kept_of"].get(s) == k for p in s}
    rows_clean = {r for r in clean["duplicates"] if r[:2] in same_kept}
    rows_got = {r for r in got["duplicates"] if r[:2] in same_kept}
    if rows_clean != rows_got:
        out["duplicates_differ"] = sorted(rows_clean ^ rows_got)
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


@pytest.mark.parametrize("fraction", SUITE_FRACTIONS)
def test_crawl_killed_part_way_then_rerun_equals_clean_run(tmp_path, clean, fraction):
    r = kill_and_rerun(tmp_path / "case", clean, fraction=fraction)
    assert 0 < r["at"] < r["total"], r["at"]
    assert r["diff"] == {}, f"killed at {r['at']} of {r['total']} rows: {r['diff']}"
    assert len(r["got"]["articles"]) == len(clean["articles"])
    assert len(r["got"]["duplicates"]) == len(clean["duplicates"])


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
    points = {"all": FAULT_POINTS, "none": []}.get(opts.points, [p for p in opts.points.split(",") if p])
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
