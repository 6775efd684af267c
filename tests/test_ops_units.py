"""Operations, piece by piece: argument checks and exit codes, the crawl lock, the seen-URL state,
Retry-After parsing, address checks, failure reasons, decompression-bomb limits, safe names."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import brotli
import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from crawler.commands.crawlall import select_sources
from crawler.demo.feeds import billion_laughs_rss
from crawler.discovery import UnsafeXML, parse_feed
from crawler.failures import RefusedRequest, RobotsUnreachable, classify
from crawler.middlewares.retry import retry_after_seconds
from crawler.middlewares.safety import is_public
from storage.crawllock import LOCK_KEY, CrawlLock, CrawlLocked
from storage.seen import SeenRecorder, SeenState
from crawler.sources import Source, SourceError
from crawler.spiders.arguments import SpiderArgumentError, parse_arguments
from storage import clock
from storage.backends.local import LocalBackend
from storage.errors import InvalidRow
from storage.rows import check_name, partition_of
from tests._ops import scrapy

pytestmark = pytest.mark.xdist_group("ops_units")


# ---------------------------------------------------------------- arguments and exit codes

@pytest.mark.parametrize("args, message", [
    ({"since": "2026-13-01"}, "-a since='2026-13-01': expected a date as YYYY-MM-DD"),
    ({"until": "yesterday"}, "-a until='yesterday'"),
    ({"since": "2026-11-02", "until": "2026-11-01"}, "-a since=2026-11-02 is after -a until=2026-11-01"),
    ({"urls_file": "/no/such/file"}, "-a urls_file='/no/such/file': no such file"),
    ({"urls": "ftp://x.vn/a"}, "is not an http(s) URL"),
    ({"max_articles": "ten"}, "-a max_articles='ten'"),
    ({"max_articles": "0"}, "must be at least 1"),
    ({"dry_run": "maybe"}, "-a dry_run='maybe'"),
    ({"sinse": "2026-01-01"}, "unknown spider argument -a sinse"),
])
def test_bad_spider_arguments_name_the_argument(args, message):
    with pytest.raises(SpiderArgumentError) as err:
        parse_arguments(args)
    assert message in str(err.value)


def test_good_spider_arguments(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("# a comment\nhttps://a.vn/1.html\n\nhttps://a.vn/2.html\n", encoding="utf-8")
    parsed = parse_arguments({"since": "2026-10-01", "urls_file": str(urls), "dry_run": "1", "max_articles": "5"})
    assert parsed["since"] == date(2026, 10, 1) and parsed["until"] is None
    assert parsed["urls"] == ["https://a.vn/1.html", "https://a.vn/2.html"]
    assert parsed["dry_run"] is True and parsed["max_articles"] == 5


@pytest.mark.parametrize("argv, env, message", [
    (["crawl", "demo_kinhte", "-a", "since=2026-02-30"], {}, "error: -a since='2026-02-30'"),
    (["crawl", "no_such_source"], {}, "error: unknown source 'no_such_source'"),
    (["crawl", "demo_kinhte"], {}, "needs the DEMO_BASE_URL setting"),
    (["crawlall", "--sources", "nope_*"], {}, "error: --sources: 'nope_*' matches no declared source"),
    (["crawl", "demo_kinhte", "-a", "until=2026-01-01"], {"ARCHIVE_URI": "ftp://host/x"}, "ARCHIVE_URI"),
])
def test_bad_command_lines_exit_2_with_one_line_and_no_traceback(tmp_path, argv, env, message):
    base = None if "DEMO_BASE_URL" in message else "http://127.0.0.1:9"
    result = scrapy(*argv, archive=tmp_path / "archive", base_url=base, **env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "archive").exists()


def test_crawlall_leaves_demo_sources_out_without_demo_base_url():
    names = ["cafef", "demo_a", "demo_b", "vnexpress"]
    assert select_sources(names, "", "", "") == ["cafef", "vnexpress"]
    assert select_sources(names, "", "", "http://127.0.0.1:1") == names
    assert select_sources(names, "demo_*", "demo_b", "") == ["demo_a"]
    assert select_sources(names, "vnexpress,cafef", "", "") == ["vnexpress", "cafef"]
    with pytest.raises(ValueError, match="--exclude"):
        select_sources(names, "", "nothing", "")


# ---------------------------------------------------------------- the crawl lock

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_is_exclusive_and_released(tmp_path):
    backend = LocalBackend(tmp_path)
    first = CrawlLock(backend, "scrapy crawlall", "run-1").acquire()
    record = json.loads((tmp_path / LOCK_KEY).read_text())
    assert record["owner"] == "scrapy crawlall" and record["run_id"] == "run-1" and record["pid"] > 0
    with pytest.raises(CrawlLocked) as err:
        CrawlLock(backend, "scrapy crawl x", "run-2").acquire()
    assert "another crawl is writing to" in str(err.value) and "run-1" in str(err.value)
    first.release()
    assert not (tmp_path / LOCK_KEY).exists()
    CrawlLock(backend, "scrapy crawl x", "run-2").acquire().release()


def test_lock_of_a_dead_process_on_this_machine_is_taken_over(tmp_path):
    backend = LocalBackend(tmp_path)
    held = CrawlLock(backend, "scrapy crawlall", "run-1").acquire()
    held._stop.set()  # simulate the holder dying: its record stays, its pid goes
    record = json.loads((tmp_path / LOCK_KEY).read_text())
    record["pid"], record["pid_start"] = _dead_pid(), ""
    (tmp_path / LOCK_KEY).write_text(json.dumps(record))
    taker = CrawlLock(backend, "scrapy crawlall", "run-2").acquire()
    assert json.loads((tmp_path / LOCK_KEY).read_text())["run_id"] == "run-2"
    held.renew()
    assert held.lost, "the old holder notices its lock is gone"
    taker.release()


def test_lock_from_another_machine_waits_for_its_expiry(tmp_path):
    backend = LocalBackend(tmp_path)
    now = clock.now()
    other = {"owner": "scrapy crawlall", "run_id": "run-x", "token": "t", "host": "elsewhere", "boot_id": "b",
             "pid": 1, "acquired_at": now.isoformat(), "expires_at": (now + timedelta(minutes=5)).isoformat()}
    backend.put_bytes(LOCK_KEY, json.dumps(other).encode())
    with pytest.raises(CrawlLocked):
        CrawlLock(backend, "scrapy crawlall", "run-2").acquire()
    other["expires_at"] = (now - timedelta(seconds=1)).isoformat()
    backend.put_bytes_overwrite(LOCK_KEY, json.dumps(other).encode())
    CrawlLock(backend, "scrapy crawlall", "run-2").acquire().release()


def test_lock_is_renewed_while_held(tmp_path):
    backend = LocalBackend(tmp_path)
    lock = CrawlLock(backend, "scrapy crawlall", "run-1", ttl=30).acquire()
    before = json.loads((tmp_path / LOCK_KEY).read_text())["expires_at"]
    time.sleep(1.1)
    lock.renew()
    assert json.loads((tmp_path / LOCK_KEY).read_text())["expires_at"] > before
    lock.release()


# ---------------------------------------------------------------- the seen-URL state

def test_seen_state_round_trip(tmp_path):
    backend = LocalBackend(tmp_path)
    rec = SeenRecorder()
    rec.record(["00000000000000aa", "00000000000000ab"], "demo", "archived", "archived", date(2026, 10, 3))
    rec.record(["00000000000000bb"], "demo", "failed", "http_503", attempts=1, url="http://a.vn/bb", via="feed")
    rec.record(["00000000000000cc"], "demo", "not_article", "body_too_short")
    rec.record(["00000000000000aa"], "demo", "failed", "timeout", attempts=1)  # success of the run wins
    rec.write(backend, "run-1")
    state = SeenState(retry_after=3600, max_attempts=3).load(backend)
    assert state.lookup("00000000000000ab") == ("already_archived", date(2026, 10, 3))
    assert state.lookup("00000000000000aa")[0] == "already_archived"
    assert state.lookup("00000000000000cc") == ("known_not_article", None)
    assert state.lookup("00000000000000bb") == ("failed_recently", None)
    later = clock.now() + timedelta(hours=2)
    assert state.lookup("00000000000000bb", now=later) == (None, None)   # asked again after retry_after
    assert state.due("demo") == [] and state.due("other", now=later) == []
    assert state.due("demo", now=later) == [("http://a.vn/bb", "feed")]  # even if discovery no longer shows it
    assert state.due("demo", at_once=True) == [("http://a.vn/bb", "feed")]  # -a retry_failed=1
    assert state.lookup("00000000000000dd") == (None, None)
    rec2 = SeenRecorder()
    rec2.record(["00000000000000bb"], "demo", "failed", "http_503", attempts=3)
    rec2.write(backend, "run-2")
    state = SeenState(retry_after=0, max_attempts=3).load(backend)
    assert state.lookup("00000000000000bb")[0] == "failed_gave_up"


# ---------------------------------------------------------------- politeness and safety pieces

def test_retry_after_header_forms():
    now = datetime(2026, 11, 26, 3, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"2") == 2.0
    assert retry_after_seconds("Thu, 26 Nov 2026 03:01:00 GMT", now=now) == 60.0
    assert retry_after_seconds("Thu, 26 Nov 2026 02:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds(b"soon") is None


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.2", False), ("10.1.2.3", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("::1", False),
    ("::ffff:127.0.0.1", False), ("fe80::1", False), ("0.0.0.0", False), ("224.0.0.1", False),
])
def test_public_addresses(address, public):
    assert is_public(address) is public


def test_failure_reasons():
    assert classify(RefusedRequest("private_address", "x")) == ("private_address", "refused")
    assert classify(RobotsUnreachable("x")) == ("robots_unreachable", None)
    assert classify(IgnoreRequest("Forbidden by robots.txt")) == ("robots_forbidden", None)
    from scrapy.spidermiddlewares.httperror import HttpError

    assert classify(HttpError(Response("http://a.vn/", status=404), "x")) == ("http_404", "gone")
    assert classify(HttpError(Response("http://a.vn/", status=503), "x")) == ("http_503", "failed")
    from twisted.internet.error import TimeoutError as TxTimeout

    assert classify(TxTimeout()) == ("timeout", "failed")


@pytest.mark.parametrize("encoding, compress", [
    (b"br", lambda data: brotli.compress(data, quality=1)),
    (b"gzip", lambda data: gzip.compress(data, compresslevel=1)),
])
def test_decompression_bombs_stop_at_download_maxsize(encoding, compress):
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware

    from crawler import settings as project

    assert 10 * 2**20 <= project.DOWNLOAD_MAXSIZE <= 100 * 2**20
    crawler = get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": project.DOWNLOAD_MAXSIZE})
    middleware = HttpCompressionMiddleware.from_crawler(crawler)
    bomb = compress(b"\0" * (96 * 2**20))
    assert len(bomb) < 2**20
    response = Response("http://a.vn/x", body=bomb, headers={"Content-Encoding": encoding})
    with pytest.raises(IgnoreRequest, match="DOWNLOAD_MAXSIZE"):
        middleware.process_response(Request("http://a.vn/x"), response)


def test_feeds_and_sitemaps_with_entities_are_refused():
    with pytest.raises(UnsafeXML):
        parse_feed(billion_laughs_rss("http://a.vn/x"), "http://a.vn/")


def test_names_that_become_paths_are_checked():
    for bad in ("../etc", "a/b", "Demo", "x"):
        with pytest.raises(SourceError):
            Source(name=bad, region="national", domains=("a.vn",), feeds=("https://a.vn/rss",))
    for bad in ("..", "a/b", ".hidden", "a\\b", ""):
        with pytest.raises(InvalidRow):
            check_name(bad, "source")
    with pytest.raises(InvalidRow):
        partition_of("articles", {"source": "../x", "published_at": None})


def test_pinned_versions_carry_the_known_security_fixes():
    """docs/OPERATIONS.md lists the advisories; a downgrade below these versions fails here."""
    import re
    from importlib.metadata import version

    from tests._ops import ROOT

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", text)[:3])

    assert parts(version("scrapy")) >= (2, 14, 2)     # GHSA-cwxj-rr6w-m6w7 and everything before it
    assert parts(version("twisted")) >= (26, 4, 0)    # CVE-2026-42304 and everything before it
    assert parts(version("brotli")) >= (1, 2, 0)      # CVE-2025-6176 (output_buffer_limit)
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    for name in ("Scrapy", "Twisted", "brotli"):
        assert re.search(rf"^{name}==\d", requirements, re.M), f"{name} is not pinned"


def test_status_rules():
    """What makes a source's run not ok (and the command exit 1)."""
    from collections import Counter
    from types import SimpleNamespace

    from crawler.runreport import evaluate

    class Settings(dict):
        def getint(self, key, default=None):
            return int(self.get(key, default))

    def spider(**kw):
        base = dict(explicit_urls=[], discovery=Counter(requested=3, ok=3), requested_articles=20,
                    completeness=Counter(archived=20, title=20, body=20, date=20),
                    source=Source(name="demo_x", region="national", domains=("a.vn",), feeds=("https://a.vn/rss",)),
                    crawler=SimpleNamespace(settings=Settings()))
        base.update(kw)
        return SimpleNamespace(**base)

    def row(**kw):
        base = dict(articles_archived=20, duplicates_skipped=0, dropped={}, completeness_title=1.0,
                    completeness_body=1.0, completeness_date=1.0)
        base.update(kw)
        return base

    assert evaluate(row(), "finished", spider(), {}, 10) == ("ok", [])
    assert evaluate(row(), "shutdown", spider(), {}, 10)[0] == "interrupted"
    assert evaluate(row(), "cancelled", spider(), {}, 10)[0] == "failed"
    down = spider(discovery=Counter({"requested": 3, "failed": 3, "failed/http_503": 3}))
    status, problems = evaluate(row(articles_archived=0), "finished", down, {}, 10)
    assert status == "failed" and "http_503×3" in problems[0]
    assert evaluate(row(), "finished", spider(), {"robotstxt/unreachable": 1}, 10)[0] == "failed"
    assert evaluate(row(articles_archived=0, dropped={"body_too_short": 20}), "finished", spider(), {}, 10)[0] \
        == "nothing_archived"
    assert evaluate(row(articles_archived=0, dropped={"not_article": 2}), "finished",
                    spider(requested_articles=2), {}, 10)[0] == "ok"   # 2 odd pages are no alarm
    assert evaluate(row(articles_archived=0, duplicates_skipped=20), "finished", spider(), {}, 10)[0] == "ok"
    # URLs left for the next run by max_articles were never requested: they settle nothing
    capped = row(articles_archived=0, dropped={"http_503": 5, "max_articles": 40})
    assert evaluate(capped, "finished", spider(requested_articles=5), {}, 10)[0] == "nothing_archived"
    low = row(completeness_date=0.5)
    status, problems = evaluate(low, "finished", spider(), {}, 10)
    assert status == "incomplete" and problems == ["completeness date 50% < 90%"]
    few = spider(completeness=Counter(archived=3, title=3, body=3, date=1))
    assert evaluate(row(completeness_date=1 / 3), "finished", few, {}, 10)[0] == "ok"  # too few to judge


def test_a_run_whose_archive_could_not_be_read_for_its_daily_count_says_so(tmp_path):
    """The drift rule's daily count reads the archive; when that read fails (the session's
    daily_counts answers None) the row is still built, ok, and its notes say the count was not judged."""
    from collections import Counter
    from types import SimpleNamespace

    from crawler.runreport import build_row

    started = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
    earlier = [{"run_id": f"r{i}", "status": "ok", "articles_archived": 20, "completeness_title": 1.0,
                "completeness_body": 1.0, "completeness_date": 1.0, "completeness_authors": 1.0,
                "started_at": started - timedelta(days=i), "finished_at": started - timedelta(days=i),
                "notes": ""} for i in range(1, 8)]
    unread = []
    session = SimpleNamespace(run_id="r0", recent_runs=lambda name: earlier,
                              daily_counts=lambda *a: unread.append(a) or None)
    source = Source(name="demo_x", region="national", domains=("a.vn",), feeds=("https://a.vn/rss",))
    spider = SimpleNamespace(
        name="demo_x", session=session, started_at=started, outcomes=Counter(archived=20),
        found=set(range(20)), completeness=Counter(archived=20, title=20, body=20, date=20, authors=20),
        crawler=get_crawler(settings_dict={}), events=Counter(), discovery=Counter(requested=1, ok=1),
        dry_run=False, explicit_urls=[], since=None, until=None, tz=None, source=source, requested_articles=20)
    row = build_row(spider, "finished", {"downloader/request_count": 21}, now=started + timedelta(minutes=5))
    assert unread, "the daily count was not asked for"
    assert row["status"] == "ok" and row["articles_archived"] == 20
    assert row["notes"].endswith("daily count not judged: archive unreadable"), row["notes"]


def test_what_a_later_run_may_conclude_from_a_runs_row():
    """A sitemap older than the last complete run is skipped, and a listing walk stops at known
    articles only after a complete run: a run that could not read a feed, sitemap or listing page
    is not complete, or the part it missed would be skipped for good."""
    from crawler.runkind import crawl_kind

    def row(status="ok", dropped=None, notes=""):
        return {"status": status, "dropped": dropped or {}, "notes": notes}

    assert crawl_kind(row()) == "complete"
    assert crawl_kind(row(notes="retries=2")) == "complete"
    for cut in (row(status="incomplete"), row(dropped={"max_articles": 3}), row(dropped={"not_fetched": 1}),
                row(notes="discovery_failed=1"), row(notes="refused_xml=1"), row(notes="bad_gzip=1")):
        assert crawl_kind(cut) == "cut_short", cut
    assert crawl_kind(row(notes="window 2026-10-01..2026-10-31")) == "restricted"
    assert crawl_kind(row(notes="rerun of 2 given URL(s)", status="failed")) == "restricted"


def test_seen_files_are_merged_latest_row_first(tmp_path):
    from storage.seen import compact

    backend = LocalBackend(tmp_path)
    for i in range(4):
        rec = SeenRecorder()
        rec.record(["00000000000000aa"], "demo", "failed", "http_503", attempts=i + 1, url="http://a.vn/aa")
        rec.record([f"00000000000001{i:02x}"], "demo", "archived", "archived")
        rec.write(backend, f"run-{i}")
        time.sleep(0.01)
    assert compact(backend, "run-9", min_files=5) == 0
    assert compact(backend, "run-9", min_files=4) == 4
    assert [o.key for o in backend.list("_state/seen/")] == ["_state/seen/merged-run-9.parquet"]
    state = SeenState(retry_after=0, max_attempts=10).load(backend)
    assert state.attempts("00000000000000aa") == 4 and len(state) == 5
    # merging again under a run id already used: the existing merged file is kept, nothing deleted
    rec = SeenRecorder()
    rec.record(["00000000000002aa"], "demo", "archived", "archived")
    rec.write(backend, "run-10")
    assert compact(backend, "run-9", min_files=2) == 0
    assert len(SeenState(retry_after=0, max_attempts=10).load(backend)) == 6


def test_unreachable_archive_exits_4_before_crawling(tmp_path):
    result = scrapy("crawl", "demo_kinhte", archive=tmp_path / "a", base_url="http://127.0.0.1:9",
                    ARCHIVE_URI="s3://nobucket/x", AWS_ENDPOINT_URL="http://127.0.0.1:9",
                    AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "error: ARCHIVE_URI=s3://nobucket/x" in result.stderr and "Traceback" not in result.stderr


def test_paged_listings_carry_their_zone_to_later_pages():
    """VCCorp-style listings: the zone id is on the section page only; page 3 must still be built."""
    from crawler.sources import registry
    from crawler.listing import listing_links

    source = registry().get("cafef")
    listing = source.listings[0]
    _, nexts = listing_links('<html><input id="hdZoneId" value="18831"></html>', listing.url, source, listing)
    assert nexts[:1] == ["https://cafef.vn/timelinelist/18831/2.chn"]
    # the later page does not repeat the zone id: it is read from the page's own URL
    _, nexts = listing_links("<html><h3><a href='/x-1.chn'>x</a></h3></html>", nexts[0], source, listing)
    assert nexts[:1] == ["https://cafef.vn/timelinelist/18831/3.chn"]
