"""Scheduled crawls on the demo sites: two `scrapy crawlall` runs back to back (the second fetches
no article page), a third started during the first exits at once on the lock, the run reports,
logs and `scrapy archive runs`, and manual reruns of given URLs (new versions, `unchanged`, dry run).

One demo server and one archive for the whole module; crawls run as subprocesses.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from crawler import discovery
from crawler.demo.server import DemoServer
from crawler.demo.world import Rendered, build_world
from crawler.sources import get_source
from storage.urls import canonical
from tests._ops import (DEMO, FAST, ROOT, SCRAPY, accounted, env_for, path_of, requested_article_paths, rows,
                        run_id_of, run_rows, scrapy, scrapy_popen, statuses)

pytestmark = pytest.mark.xdist_group("ops_crawlall")


class EditedWorld:
    """The demo world, but some articles' first paragraph changed (the site edited them), and one
    article moved: its old URL (still in the sitemaps) answers 301 to a new one, whose page names
    the new URL as canonical. Its archive id is the new URL's; only the seen-URL state knows the
    old one was fetched."""

    def __init__(self, world):
        self.world = world
        self.edits: dict[str, tuple[bytes, bytes]] = {}
        self.moved: dict[str, str] = {}

    def __getattr__(self, name):
        return getattr(self.world, name)

    def render(self, target, base):
        path = urlsplit(target).path.rstrip("/")
        if path in self.moved:
            return Rendered(301, {"Location": base + self.moved[path]}, b"")
        old = next((o for o, n in self.moved.items() if n == path), None)
        if old is not None:
            rendered = self.world.render(old, base)
            return rendered._replace(body=rendered.body.replace(old.encode(), path.encode()))
        rendered = self.world.render(target, base)
        edit = self.edits.get(path)
        if edit is None:
            return rendered
        return rendered._replace(body=rendered.body.replace(*edit))


def moved_article(world):
    faulty = {p for paths in world.fault_targets().values() for p in paths}
    return [a for a in world.articles if a.source == "demo_kinhte" and a.syndication is None
            and a.path not in faulty and not a.alias_paths][-1]


WORLD = build_world()


@pytest.fixture(scope="module")
def server():
    srv = DemoServer()
    srv.world = EditedWorld(srv.world)
    art = moved_article(srv.world.world)
    srv.world.moved[art.path] = art.path.replace(".htm", "-cap-nhat.htm")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def runs(server, tmp_path_factory):
    archive = tmp_path_factory.mktemp("ops") / "archive"
    base = server.base_url
    first = scrapy_popen("crawlall", "--sources", "demo_*", *FAST, "-s", "PROGRESS_INTERVAL=0.5",
                         archive=archive, base_url=base)
    lock = archive / "_state" / "crawl.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock.exists(), "the first crawl never took the lock"
    t0 = time.monotonic()
    third = scrapy("crawlall", "--sources", "demo_*", *FAST, archive=archive, base_url=base)
    third_seconds = time.monotonic() - t0
    lock_held_after_third = lock.exists() and first.poll() is None
    out, err = first.communicate(timeout=240)
    first_result = {"returncode": first.returncode, "stdout": out, "stderr": err}
    mark = len(server.requests)
    second = scrapy("crawlall", "--sources", "demo_*", *FAST, archive=archive, base_url=base)
    second_requests = server.requests[mark:]
    return {"archive": archive, "first": first_result, "third": third, "third_seconds": third_seconds,
            "lock_held_after_third": lock_held_after_third, "second": second,
            "second_requests": second_requests}


def test_first_crawlall_archives_every_expected_article(runs, server):
    first = runs["first"]
    assert first["returncode"] == 0, first["stdout"][-3000:] + first["stderr"][-3000:]
    archived = rows(runs["archive"], "articles")
    paths = [path_of(r["url"]) for r in archived]
    assert len(paths) == len(set(paths))
    groups = server.world.syndication_groups()
    in_group = {p for g in groups for _, p in g}
    for art in server.world.expected():
        if art.path not in in_group:
            assert art.path in paths, art.path
    for group in groups:
        assert sum(p in paths for _, p in group) == 1, group
    assert not set(paths) & {p.split("?")[0] for p in server.world.non_articles}


def test_first_run_report_rows_add_up(runs):
    report = run_rows(runs["archive"], run_id_of(runs["first"]["stdout"]))
    assert set(report) == set(DEMO)
    for source, row in report.items():
        assert row["status"] == "ok", row
        assert accounted(row), row
        # its originals, give or take the syndicated stories whose other copy was met first
        originals = sum(1 for a in WORLD.expected() if a.source == source)
        shared = sum(1 for g in WORLD.syndication_groups() for (s, _) in g if s == source)
        assert originals - shared <= row["articles_archived"] <= originals + shared, row
        assert row["requests"] > row["article_pages_fetched"] > 0
        assert row["bytes_downloaded"] > 0 and row["finished_at"] >= row["started_at"]
        assert row["completeness_title"] == 1.0 and row["completeness_body"] == 1.0
        assert row["completeness_date"] >= 0.9
    assert sum(r["articles_archived"] for r in report.values()) == len(WORLD.expected())  # 175
    assert sum(r["duplicates_skipped"] for r in report.values()) == 18  # 12 exact and 6 near copies
    assert report["demo_baobinhduong"]["dropped"].get("http_404") == 1          # the not_found trap
    assert report["demo_baobinhduong"]["dropped"].get("truncated") == 1         # Content-Length lies
    assert report["demo_binhduong_portal"]["dropped"].get("http_500") == 1      # the server_error trap
    assert report["demo_binhduong_portal"]["http_errors"]["500"] == 4            # asked 1 + 3 retries


def test_summary_lines_and_log_file(runs):
    out = runs["first"]["stdout"]
    for name in DEMO:
        assert f"{name}: OK; archived" in out
    log = runs["archive"] / "runs" / "_logs" / f"{run_id_of(out)}.log"
    text = log.read_text(encoding="utf-8")
    assert "demo_kinhte: OK; archived" in text and "exit code 0" in text
    assert re.search(r"progress demo_kinhte: \d+ requests \([\d.]+/s\), \d+ found, \d+ archived", text)


def test_live_progress_table_on_a_terminal(server, tmp_path):
    """With stderr on a terminal, a rich table per source is drawn (here: a dry run of at most
    3 articles into an empty archive, which stays empty)."""
    master, slave = pty.openpty()
    env = env_for(tmp_path / "archive", server.base_url, PROGRESS="auto", COLUMNS="160")
    proc = subprocess.Popen([*SCRAPY, "crawl", "demo_kinhte", "-a", "dry_run=1", "-a", "max_articles=3", *FAST],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    out = proc.stdout.read()
    assert proc.returncode == 0, screen[-3000:]
    assert "req/s" in screen and "demo_kinhte" in screen and "archived" in screen
    previews = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert 1 <= len(previews) <= 3 and re.search(r"max_articles \d+", out) and "dry run: nothing written" in out
    assert not (tmp_path / "archive").exists()


def test_concurrent_third_run_exits_at_once_with_the_lock_message(runs):
    third = runs["third"]
    assert third.returncode == 3, third.stdout + third.stderr
    assert "another crawl is writing to" in third.stderr
    assert "scrapy crawlall" in third.stderr and "pid" in third.stderr
    assert "Traceback" not in third.stderr
    assert runs["third_seconds"] < 20
    assert runs["lock_held_after_third"], "the third run must not take or remove the first run's lock"
    assert not (runs["archive"] / "_state" / "crawl.lock").exists(), "the lock is released at the end"


def test_moved_article_is_archived_under_its_new_canonical_url(runs, server):
    base = server.base_url
    old = moved_article(server.world.world).path
    new = server.world.moved[old]
    (row,) = rows(runs["archive"], "articles", f"WHERE url LIKE '%{old}'")
    assert row["canonical_url"] == base + new
    assert row["article_id"] == get_source("demo_kinhte", base).article_id(base + new)
    assert statuses(server.requests, old)[:1] == [301]


def _unchanged_sitemaps(server, since: datetime) -> tuple[list[str], list[str]]:
    """``(skipped, read)`` child sitemaps of demo_kinhte's index for a crawl after a complete crawl
    that started at ``since``: the spider skips those last modified over a day before it."""
    index = discovery.parse_sitemap(server.world.render("/kinhte/sitemap.xml", server.base_url).body, "")
    skipped, read = [], []
    for loc, lastmod in index.sitemaps:
        changed = datetime.fromisoformat(lastmod)
        (skipped if changed < since - timedelta(days=1) else read).append(loc)
    return skipped, read


def test_second_crawlall_fetches_no_article_page(runs, server):
    second = runs["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert requested_article_paths(runs["second_requests"], server.world) == []
    report = run_rows(runs["archive"], run_id_of(second.stdout))
    first = run_rows(runs["archive"], run_id_of(runs["first"]["stdout"]))
    for source, row in report.items():
        assert row["status"] == "ok" and row["article_pages_fetched"] == 0 and row["articles_archived"] == 0
        assert accounted(row), row
        if source != "demo_kinhte":   # feeds and the first listing pages are read again: all known
            assert row["dropped"].get("already_archived", 0) > 0, row
    # demo_kinhte's child sitemaps last changed over a day before the first crawl are not read again
    # ("sitemap unchanged"), so which of its articles are seen again depends on the hour of the run
    skipped, read = _unchanged_sitemaps(server, first["demo_kinhte"]["started_at"])
    kinhte = report["demo_kinhte"]
    notes = dict(n.split("=", 1) for n in kinhte["notes"].split("; ") if "=" in n)
    assert int(notes.get("sitemaps_unchanged", 0)) == len(skipped) > 0, (kinhte["notes"], skipped)
    requested = {path_of(t) for t, _ in runs["second_requests"]}
    assert {path_of(u) for u in read} <= requested and not {path_of(u) for u in skipped} & requested
    if read:    # the news sitemap at least: its articles are all known
        assert kinhte["dropped"].get("already_archived", 0) > 0, kinhte
    else:       # every child sitemap unchanged: the index alone was read, and nothing was found
        assert kinhte["articles_found"] == 0 and not kinhte["dropped"], kinhte
    total = sum(r["requests"] for r in report.values())
    assert 0 < total == len(runs["second_requests"])   # robots.txt, feeds, sitemaps, first listing pages
    print(f"second crawlall made {total} requests: " + ", ".join(f"{s} {r['requests']}" for s, r in report.items())
          + f"; demo_kinhte: {len(skipped)} child sitemaps unchanged, {len(read)} read")


def test_retry_failed_asks_again_only_what_failed(runs, server):
    mark = len(server.requests)
    result = scrapy("crawl", "demo_binhduong_portal", "-a", "retry_failed=1", *FAST, archive=runs["archive"],
                    base_url=server.base_url)
    asked = requested_article_paths(server.requests[mark:], server.world)
    trap = server.world.traps["server_error"]
    assert asked == [trap] * 4, asked   # asked once more, with its 3 retries; nothing else
    row = run_rows(runs["archive"], run_id_of(result.stdout))["demo_binhduong_portal"]
    assert row["dropped"]["http_500"] == 1 and row["articles_archived"] == 0 and accounted(row)


def test_archive_runs_shows_the_latest_runs(runs):
    result = scrapy("archive", "runs", "--last", "3", archive=runs["archive"], base_url=None)
    assert result.returncode == 0, result.stderr
    assert run_id_of(runs["first"]["stdout"]) in result.stdout
    assert run_id_of(runs["second"].stdout) in result.stdout
    assert result.stdout.count("demo_kinhte: OK") == 2


@pytest.fixture(scope="module")
def reruns(runs, server, tmp_path_factory):
    """After the two crawls the site edits two articles; an operator reruns given URLs."""
    world = server.world
    edited = [a for a in world.articles
              if a.source == "demo_kinhte" and a.syndication is None and a.paragraphs
              and not any(a.path in paths for paths in world.fault_targets().values())][:3]
    changed, unchanged, dry = edited
    for art in (changed, dry):
        first_words = art.paragraphs[0][:40]
        world.edits[art.path] = (first_words.encode("utf-8"), ("Cập nhật: " + first_words).encode("utf-8"))
    base = server.base_url
    urls_file = tmp_path_factory.mktemp("urls") / "urls.txt"
    urls_file.write_text(f"# rerun after the site fixed two stories\n{base}{changed.path}\n"
                         f"{base}{unchanged.path}?utm_source=zalo\n", encoding="utf-8")
    archive = runs["archive"]
    manifests_before = len(list((archive / "_manifests").glob("*.json")))
    rerun = scrapy("crawl", "demo_kinhte", "-a", f"urls_file={urls_file}", *FAST, archive=archive, base_url=base)
    manifests_mid = len(list((archive / "_manifests").glob("*.json")))
    runs_rows_mid = len(rows(archive, "runs"))
    dry_run = scrapy("crawl", "demo_kinhte", "-a", f"urls={base}{dry.path}", "-a", "dry_run=1", *FAST,
                     archive=archive, base_url=base)
    return {"changed": changed, "unchanged": unchanged, "dry": dry, "rerun": rerun, "dry_run": dry_run,
            "manifests": (manifests_before, manifests_mid, len(list((archive / "_manifests").glob("*.json")))),
            "runs_rows": (runs_rows_mid, len(rows(archive, "runs")))}


def test_urls_file_rerun_archives_a_new_version_only_when_the_text_changed(runs, reruns, server):
    rerun = reruns["rerun"]
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    base = server.base_url
    source = get_source("demo_kinhte", base)
    changed_id = source.article_id(canonical(base + reruns["changed"].path))
    versions = rows(runs["archive"], "articles", f"WHERE article_id = '{changed_id}' ORDER BY version")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["body"] != versions[1]["body"] and "Cập nhật" in versions[1]["body"]
    assert versions[0]["run_id"] != versions[1]["run_id"]
    unchanged_id = source.article_id(canonical(base + reruns["unchanged"].path))
    assert len(rows(runs["archive"], "articles", f"WHERE article_id = '{unchanged_id}'")) == 1
    row = run_rows(runs["archive"], run_id_of(rerun.stdout))["demo_kinhte"]
    assert row["articles_found"] == 2 and row["articles_archived"] == 1
    assert row["dropped"] == {"unchanged": 1} and row["article_pages_fetched"] == 2
    assert row["status"] == "ok" and "rerun of 2 given URL(s)" in row["notes"]


def test_dry_run_prints_and_writes_nothing(reruns, server):
    dry = reruns["dry_run"]
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    previews = [json.loads(ln) for ln in dry.stdout.splitlines() if ln.startswith("{")]
    assert [p["url"] for p in previews] == [canonical(server.base_url + reruns["dry"].path)]
    assert "dry run: nothing written" in dry.stdout
    before, mid, after = reruns["manifests"]
    assert mid == before + 1 and after == mid
    assert reruns["runs_rows"][0] == reruns["runs_rows"][1]
