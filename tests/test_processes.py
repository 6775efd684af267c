"""``scrapy crawlall --processes N`` (crawler/parts.py): the demo's sources crawled by two processes
on 127.0.0.1 make one run, one report and the same archive as one process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._ops import DEMO, FAST, ROOT, rows, run_id_of, run_rows, scrapy, scrapy_popen

pytestmark = pytest.mark.xdist_group("processes")


def _stories(archive: Path) -> tuple[set, set]:
    articles = {(r["source"], r["url"].split("/", 3)[3]) for r in rows(archive, "articles")}
    found = articles | {(r["source"], r["duplicate_url"].split("/", 3)[3]) for r in rows(archive, "duplicates")}
    return articles, found


@pytest.fixture(scope="module")
def crawls(tmp_path_factory, demo_server):
    base = demo_server.base_url
    out = {}
    for name, processes in (("one", "1"), ("two", "2"), ("again", "2")):
        archive = tmp_path_factory.mktemp(name) / "archive"
        done = scrapy("crawlall", "--sources", "demo_*", "--processes", processes, *FAST, archive=archive,
                      base_url=base, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        out[name] = (archive, done)
    return out


def test_two_processes_make_one_run_with_one_report(crawls):
    archive, done = crawls["two"]
    run_id = run_id_of(done.stdout)
    report = run_rows(archive, run_id)
    assert sorted(report) == sorted(DEMO)
    assert all(r["status"] == "ok" and r["articles_archived"] > 0 for r in report.values())
    notes = {source: r["notes"] for source, r in report.items()}
    assert all(f"crawled by {run_id}.p" in n and "(2 processes)" in n for n in notes.values()), notes
    # the articles carry their part's run id; both parts archived some
    parts = {r["run_id"] for r in rows(archive, "articles")}
    assert parts == {f"{run_id}.p1", f"{run_id}.p2"}
    manifest = json.loads((archive / "_manifests" / f"{run_id}.json").read_text())
    assert manifest["summary"]["processes"] == 2
    assert sorted(s for g in manifest["summary"]["parts"].values() for s in g) == sorted(DEMO)
    for part in manifest["summary"]["parts"]:
        assert (archive / "_manifests" / f"{part}.json").exists()
    # one report on stdout, one log file holding every part's lines
    assert done.stdout.count("demo_kinhte: OK") == 1, done.stdout
    log = (archive / "runs" / "_logs" / f"{run_id}.log").read_text()
    assert "[crawler.parts] INFO" in log and "demo_kinhte" in log and "demo_baobinhduong" in log
    verified = scrapy("archive", "verify", archive=archive, base_url=None)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_two_processes_archive_what_one_process_archives(crawls):
    one_articles, one_found = _stories(crawls["one"][0])
    two_articles, two_found = _stories(crawls["two"][0])
    assert one_found == two_found and len(one_found) > 100
    assert len(two_articles) == len(one_articles)  # each story once
    one = run_rows(crawls["one"][0])
    two = run_rows(crawls["two"][0])
    for source in DEMO:
        for key in ("articles_found", "article_pages_fetched"):
            assert one[source][key] == two[source][key], (source, key)
        assert (one[source]["articles_archived"] + one[source]["duplicates_skipped"]
                == two[source]["articles_archived"] + two[source]["duplicates_skipped"]), source


def test_which_copy_two_processes_keep_does_not_depend_on_which_finished_first(crawls):
    assert _stories(crawls["two"][0])[0] == _stories(crawls["again"][0])[0]
    methods = [sorted((r["source"], r["duplicate_url"].split("/", 3)[3], r["method"])
                      for r in rows(crawls[name][0], "duplicates")) for name in ("two", "again")]
    assert methods[0] == methods[1] and methods[0]


def test_a_bad_process_count_is_refused_before_crawling(tmp_path, demo_server):
    done = scrapy("crawlall", "--sources", "demo_*", "--processes", "-1", archive=tmp_path / "a",
                  base_url=demo_server.base_url)
    assert done.returncode == 2, done.stderr
    assert "error: --processes '-1': must be a whole number" in done.stderr
    assert not (tmp_path / "a" / "articles").exists()


def test_a_feed_export_over_several_sources_is_one_file_per_source(tmp_path, demo_server):
    base = demo_server.base_url
    done = scrapy("crawlall", "--sources", "demo_kinhte,demo_baobinhduong", "--processes", "2",
                  "-O", str(tmp_path / "items-%(name)s.jsonl"), *FAST, archive=tmp_path / "a", base_url=base,
                  timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    # an item is exported as its pipeline passes it: its story's copy may be kept from another page
    archived = ({r["url"] for r in rows(tmp_path / "a", "articles")}
                | {r["duplicate_url"] for r in rows(tmp_path / "a", "duplicates")})
    for source in ("demo_kinhte", "demo_baobinhduong"):
        items = [json.loads(x) for x in (tmp_path / f"items-{source}.jsonl").read_text().splitlines()]
        assert items and {x["source"] for x in items} == {source}
        assert {x["url"] for x in items} <= archived
    # one file for every source's crawler: refused before crawling, in one process as in several
    for processes in ("1", "2"):
        refused = scrapy("crawlall", "--sources", "demo_*", "--processes", processes, "-O",
                         str(tmp_path / "b.jsonl"), archive=tmp_path / "b", base_url=base)
        assert refused.returncode == 2, refused.stderr
        assert "put %(name)s in the path" in refused.stderr and not (tmp_path / "b.jsonl").exists()


def test_ctrl_c_stops_every_part_and_reports_them_interrupted(tmp_path, demo_server):
    archive = tmp_path / "archive"
    # polite pacing: the crawl takes a while, so the signal comes in the middle of it
    proc = scrapy_popen("crawlall", "--sources", "demo_*", "--processes", "2", "-s", "DOWNLOAD_DELAY=0.3",
                        "-s", "AUTOTHROTTLE_ENABLED=0", archive=archive, base_url=demo_server.base_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(archive.glob("runs/_logs/*.log")):
        time.sleep(0.2)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out[-2000:] + err[-3000:]
    report = run_rows(archive)
    assert sorted(report) == sorted(DEMO)
    assert {r["status"] for r in report.values()} == {"interrupted"}, report
    # what each part had archived is published under its part id, and nothing is left running
    run_id = run_id_of(out)
    assert {r["run_id"] for r in rows(archive, "articles")} <= {f"{run_id}.p1", f"{run_id}.p2"}
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline")
                if f"{run_id}.p".encode() in _read(p)]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_sources_are_spread_over_the_parts_once_each():
    from crawler.parts import part_ids, spread

    names = ["e", "a", "d", "c", "b"]
    groups = spread(names, 2)
    assert groups == [["b", "d"], ["a", "c", "e"]]  # the lightest part first: it publishes first
    assert spread(names, 9) == [[n] for n in sorted(names)]  # never an empty part
    assert spread(["a"], 4) == [["a"]]
    assert part_ids("R", 2) == ["R.p1", "R.p2"]
    # by expected requests: heaviest first, each to the part with the least so far
    work = {"a": 100, "b": 90, "c": 60, "d": 40, "e": 10}
    assert spread(names, 2, work) == [["b", "c"], ["a", "d", "e"]]  # 150 / 150; by name 170 / 130
    assert spread(names, 3, work) == [["a"], ["b", "e"], ["c", "d"]]
    assert spread(names, 2, dict(work, a=300)) == [["b", "c", "d", "e"], ["a"]]  # 200 / 300: the lightest first
    # a source never crawled counts as the median of the known ones: "c" as 40 (as 0 it would go
    # with "a" and "e", as their mean, 35, with "b" and "e")
    assert spread(names, 2, {"a": 50, "b": 40, "d": 30, "e": 20}) == [["b", "c"], ["a", "d", "e"]]
    assert spread(names, 2, {}) == spread(names, 2, None) == groups  # no history: by name
    assert spread(names, 2, {"z": 5}) == groups  # history of other sources only: by name


def test_a_part_gets_the_parents_command_line_settings_and_arguments_but_not_its_run():
    from scrapy.settings import Settings

    from crawler.parts import part_command, process_count

    settings = Settings({"CONCURRENT_REQUESTS": 16})
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.set("RUN_ID", "R", priority="cmdline")
    settings.set("RUN_JOB", "{}", priority="cmdline")
    cmd = part_command(settings, ["a", "b"], {"since": "2026-10-01"}, "R.p1", Path("/tmp/d"), "/tmp/R.log")
    assert cmd[cmd.index("--sources") + 1] == "a,b" and cmd[cmd.index("--part") + 1] == "R.p1"
    assert cmd[cmd.index("--processes") + 1] == "1"
    settings_given = [cmd[i + 1] for i, x in enumerate(cmd) if x == "-s"]
    assert "LOG_LEVEL=WARNING" in settings_given and "PROGRESS=log" in settings_given
    assert not [s for s in settings_given if s.startswith(("RUN_ID=", "RUN_JOB=", "CONCURRENT_REQUESTS="))]
    assert cmd[cmd.index("-a") + 1] == "since=2026-10-01"
    assert process_count("3", settings) == 3
    assert process_count(None, Settings({"CRAWL_PROCESSES": 0})) >= 1
    with pytest.raises(ValueError, match="--processes 'x'"):
        process_count("x", settings)


def test_the_parent_prepares_a_run_without_loading_the_near_duplicate_hashing(tmp_path):
    """The parent of the parts only prepares and commits the run: it opens the session and loads the
    seen state, and never hashes a body, so datasketch is loaded by the parts alone, on their first
    body; and then its MinHash module only, not the package that imports scipy (~60 MB a process).
    A later ``import datasketch`` in the same process still gets the whole package and the same class."""
    probe = (
        "import sys\n"
        "from scrapy.utils.project import get_project_settings\n"
        "import crawler.commands.crawlall, crawler.parts\n"
        "from crawler.session import acquire\n"
        "def loaded(): return sorted(m for m in sys.modules if m.split('.')[0] in ('datasketch', 'scipy'))\n"
        "session = acquire(get_project_settings()); session.load_seen()\n"
        "print(loaded())\n"
        "from pipelines.neardup_signature import as_minhash, signature\n"
        "sig = signature('Tỉnh công bố quy hoạch khu công nghiệp mới ở phía bắc. ' * 4)\n"
        "print(loaded(), len(sig.hashvalues))\n"
        "from datasketch import MinHash, MinHashLSH\n"
        "print('scipy' in sys.modules, type(as_minhash(sig)) is MinHash, (as_minhash(sig).hashvalues == sig.hashvalues).all())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "SCRAPY_"))}
    env.update(ARCHIVE_URI=str(tmp_path / "archive"), ARCHIVE_JOURNAL_DIR=str(tmp_path / "journal"))
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    before, after, full = done.stdout.splitlines()[-3:]
    assert before == "[]"
    assert after == "['datasketch.hashfunc', 'datasketch.minhash'] 256"
    assert full == "True True True"


def test_a_run_spreads_the_sources_by_the_requests_of_their_last_crawls(crawls, tmp_path, demo_server):
    """The second run of an archive gives each part about the same number of requests, as the
    sources' earlier runs made them; the first (no history) spread them by name."""
    from crawler.parts import expected_work, spread
    from storage import open_archive

    first, done = crawls["two"]
    log = (first / "runs" / "_logs" / f"{run_id_of(done.stdout)}.log").read_text()
    assert "3 sources in 2 processes (by name)" in log
    archive = tmp_path / "archive"
    shutil.copytree(first, archive)
    made = {source: float(r["requests"]) for source, r in run_rows(archive).items()}
    assert expected_work(open_archive(str(archive)), list(DEMO)) == made and all(made.values())
    again = scrapy("crawlall", "--sources", "demo_*", "--processes", "2", *FAST, archive=archive,
                   base_url=demo_server.base_url, timeout=300)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
    run_id = run_id_of(again.stdout)
    manifest = json.loads((archive / "_manifests" / f"{run_id}.json").read_text())
    assert list(manifest["summary"]["parts"].values()) == spread(list(DEMO), 2, made)
    heaviest = max(made, key=made.get)
    assert [heaviest] in manifest["summary"]["parts"].values()  # alone in its part
    log = (archive / "runs" / "_logs" / f"{run_id}.log").read_text()
    assert "3 sources in 2 processes (by their last runs' requests)" in log
    assert f"{heaviest} (~{made[heaviest]:.0f} requests)" in log
