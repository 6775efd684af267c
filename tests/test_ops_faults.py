"""Every fault switch of the demo server, and what the crawl and its run report make of it.

Three demo servers, crawled at the same time by three `scrapy crawlall` subprocesses:

- A: ``robots``, ``xml_bomb``, ``redirect_private``, ``redirect_offsite``, ``gzip_bomb``
  (refusals: each must end as a counted drop reason or a note, never as an archived article);
- B: ``slow``, ``ratelimit``, ``burst500``, ``reset`` (transient: each must end archived, after
  the waits the server asked for);
- C: robots.txt answering 503 (our policy: unreachable robots.txt = nothing crawled, source failed);
- D: every article page a 200 "under maintenance" page (new articles shown, none archived).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.world import Rendered
from tests._ops import (FAST, accounted, path_of, requested_article_paths, rows, run_id_of, run_rows, scrapy_popen,
                        statuses)

pytestmark = pytest.mark.xdist_group("ops_faults")

REFUSALS = ("robots", "xml_bomb", "redirect_private", "redirect_offsite", "gzip_bomb")
TRANSIENT = ("slow", "ratelimit", "burst500", "reset")
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024


class RobotsDown:
    """The demo world, but robots.txt answers 503."""

    def __init__(self, world):
        self.world = world

    def __getattr__(self, name):
        return getattr(self.world, name)

    def render(self, target, base):
        if urlsplit(target).path == "/robots.txt":
            return Rendered(503, {"Content-Type": "text/plain"}, b"Service Unavailable")
        return self.world.render(target, base)


class Maintenance:
    """The demo world, but every article page is a 200 "under maintenance" page."""

    PAGE = "<html><head><title>Bảo trì</title></head><body><p>Trang đang được bảo trì.</p></body></html>"

    def __init__(self, world):
        self.world = world
        self.paths = {a.path for a in world.articles}

    def __getattr__(self, name):
        return getattr(self.world, name)

    def render(self, target, base):
        if urlsplit(target).path.rstrip("/") in self.paths:
            return Rendered(200, {"Content-Type": "text/html; charset=utf-8"}, self.PAGE.encode("utf-8"))
        return self.world.render(target, base)


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    servers = {"A": DemoServer(faults=REFUSALS), "B": DemoServer(faults=TRANSIENT), "C": DemoServer(),
               "D": DemoServer()}
    servers["C"].world = RobotsDown(servers["C"].world)
    servers["D"].world = Maintenance(servers["D"].world)
    procs, archives = {}, {}
    try:
        for name, server in servers.items():
            base = server.start()
            archives[name] = tmp_path_factory.mktemp(f"faults{name}") / "archive"
            sources = "demo_kinhte" if name in ("C", "D") else "demo_*"
            procs[name] = scrapy_popen("crawlall", "--sources", sources, *FAST, "-s", "LOG_FILE_LEVEL=DEBUG",
                                       archive=archives[name], base_url=base)
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=240)
            results[name] = {"returncode": proc.returncode, "stdout": out, "stderr": err,
                             "archive": archives[name], "server": servers[name],
                             "requests": list(servers[name].requests)}
        yield results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        for server in servers.values():
            server.stop()


def report(crawl) -> dict[str, dict]:
    return run_rows(crawl["archive"], run_id_of(crawl["stdout"]))


def archived_paths(crawl) -> set[str]:
    return {path_of(r["url"]) for r in rows(crawl["archive"], "articles")}


def log_text(crawl) -> str:
    return (crawl["archive"] / "runs" / "_logs" / f"{run_id_of(crawl['stdout'])}.log").read_text("utf-8")


def targets(crawl, fault: str) -> list[str]:
    return [p.rstrip("/") for p in crawl["server"].world.fault_targets()[fault]]


# ---------------------------------------------------------------- A: refused, counted, never archived

def test_refusal_crawl_finishes_ok_with_every_row_accounted(crawls):
    a = crawls["A"]
    assert a["returncode"] == 0, a["stdout"][-3000:] + a["stderr"][-3000:]
    for row in report(a).values():
        assert row["status"] == "ok" and accounted(row), row


def test_robots_disallowed_section_is_never_requested(crawls):
    a = crawls["A"]
    disallowed = targets(a, "robots")[0]
    assert not [t for t, _ in a["requests"] if t.startswith(disallowed)]
    row = report(a)["demo_baobinhduong"]
    assert row["dropped"]["robots_forbidden"] > 0
    assert f"robots_disallowed={row['dropped']['robots_forbidden']}" in row["notes"]
    assert not [p for p in archived_paths(a) if p.startswith(disallowed)]


def test_xml_bomb_feed_is_refused_and_the_other_feeds_still_count(crawls):
    a = crawls["A"]
    row = report(a)["demo_baobinhduong"]
    assert "refused_xml=1" in row["notes"]
    assert row["articles_archived"] >= 30
    assert "refused (possible entity-expansion bomb)" in log_text(a)


def test_redirect_to_a_private_address_is_refused(crawls):
    a = crawls["A"]
    (target,) = targets(a, "redirect_private")
    assert statuses(a["requests"], target) == [302]
    assert target not in archived_paths(a)
    assert report(a)["demo_binhduong_portal"]["dropped"]["private_address"] == 1
    assert "refused private_address: http://127.0.0.2:" in log_text(a)


def test_redirect_to_another_domain_is_not_followed(crawls):
    a = crawls["A"]
    (target,) = targets(a, "redirect_offsite")
    assert statuses(a["requests"], target) == [301]
    assert target not in archived_paths(a)
    assert report(a)["demo_baobinhduong"]["dropped"]["offsite_redirect"] == 1
    assert "refused offsite_redirect: http://example.invalid/" in log_text(a)


def test_gzip_bomb_is_stopped_at_download_maxsize(crawls):
    a = crawls["A"]
    (target,) = targets(a, "gzip_bomb")
    assert target not in archived_paths(a)
    assert report(a)["demo_kinhte"]["dropped"]["too_large"] == 1
    inflated = [int(n) for n in re.findall(r"(\d+) B decompressed so far", log_text(a))]
    assert inflated and max(inflated) <= DOWNLOAD_MAXSIZE + 65536   # 101 MiB never materialised


# ---------------------------------------------------------------- B: transient, waited for, archived

def test_transient_faults_end_archived(crawls):
    b = crawls["B"]
    assert b["returncode"] == 0, b["stdout"][-3000:] + b["stderr"][-3000:]
    archived = archived_paths(b)
    for fault in TRANSIENT:
        for target in targets(b, fault):
            assert target in archived, f"{fault}: {target} not archived"
    for row in report(b).values():
        assert row["status"] == "ok" and accounted(row), row
        for reason in ("connection_error", "http_429", "timeout"):
            assert reason not in row["dropped"], row


def _logged_at(log: str, pattern: str) -> list[datetime]:
    return [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            for m in re.finditer(r"^(\S+ \S+) " + pattern, log, re.M)]


def test_ratelimit_retry_after_is_honoured(crawls):
    b = crawls["B"]
    log = log_text(b)
    for target in targets(b, "ratelimit"):
        assert statuses(b["requests"], target) == [429, 200]
        url = r"<GET http://[^/]+" + re.escape(target) + ">"
        (limited,) = _logged_at(log, r"\[scrapy\.downloadermiddlewares\.retry\] DEBUG: Retrying " + url + r".*: 429")
        (ok,) = _logged_at(log, r"\[scrapy\.core\.engine\] DEBUG: Crawled \(200\) " + url)
        assert (ok - limited).total_seconds() >= 1.9, f"{target} retried before Retry-After: 2 elapsed"
    row = report(b)["demo_baobinhduong"]
    assert row["http_errors"]["429"] == 3
    assert "retry_after_waits=3" in row["notes"]


def test_burst500_is_retried_with_backoff(crawls):
    b = crawls["B"]
    for target in targets(b, "burst500"):
        assert statuses(b["requests"], target) == [500, 500, 200]
    row = report(b)["demo_binhduong_portal"]
    assert row["http_errors"]["500"] == 3 * 2 + 4   # the bursts, plus the always-500 trap asked 4 times
    assert row["dropped"] == {"body_too_short": 1, "http_500": 1}


def test_reset_connections_are_retried(crawls):
    b = crawls["B"]
    for target in targets(b, "reset"):
        assert statuses(b["requests"], target) == [0, 200]


def test_slow_pages_are_waited_for(crawls):
    b = crawls["B"]
    for target in targets(b, "slow"):
        assert statuses(b["requests"], target) == [200]
    assert report(b)["demo_kinhte"]["duration_s"] >= 1.5


# ---------------------------------------------------------------- C: robots.txt unreachable

def test_unreachable_robots_txt_means_nothing_is_crawled_and_the_source_failed(crawls):
    c = crawls["C"]
    assert c["returncode"] == 1, c["stdout"][-3000:] + c["stderr"][-3000:]
    asked = {urlsplit(t).path for t, _ in c["requests"]}
    assert asked == {"/robots.txt"}
    assert requested_article_paths(c["requests"], c["server"].world) == []
    row = report(c)["demo_kinhte"]
    assert row["status"] == "failed" and "robots.txt unreachable" in row["notes"]
    assert row["http_errors"]["503"] == 4 and row["articles_archived"] == 0
    assert "demo_kinhte: FAILED" in c["stdout"]


# ---------------------------------------------------------------- D: a site serving maintenance pages

def test_new_articles_shown_but_none_archived_fails_the_run(crawls):
    d = crawls["D"]
    assert d["returncode"] == 1, d["stdout"][-3000:] + d["stderr"][-3000:]
    row = report(d)["demo_kinhte"]
    assert row["status"] == "nothing_archived" and row["articles_archived"] == 0
    assert row["article_pages_fetched"] > 50 and accounted(row)
    assert "new article URL(s) requested, none archived" in row["notes"]
    assert "demo_kinhte: NOTHING_ARCHIVED" in d["stdout"]
