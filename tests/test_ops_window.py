"""Backfill reruns: `-a since=... -a until=...` archives exactly the articles published in the
window (publication day in Asia/Ho_Chi_Minh), walks listing pages back only as far as needed, and
skips feed and sitemap entries dated outside the window before requesting them."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.timeline import timeline
from tests._ops import FAST, accounted, path_of, rows, run_id_of, run_rows, scrapy

pytestmark = pytest.mark.xdist_group("ops_window")

# three weeks in the demo world's third month (dated before DEMO_TODAY, which tests/conftest.py fixes)
FIRST_DAY = timeline().start.date()
SINCE, UNTIL = FIRST_DAY + timedelta(days=49), FIRST_DAY + timedelta(days=70)
SOURCES = ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte")


@pytest.fixture(scope="module")
def backfill(tmp_path_factory):
    server = DemoServer()
    base = server.start()
    archive = tmp_path_factory.mktemp("window") / "archive"
    result = scrapy("crawlall", "--sources", ",".join(SOURCES), "-a", f"since={SINCE}", "-a", f"until={UNTIL}",
                    *FAST, archive=archive, base_url=base)
    yield {"archive": archive, "result": result, "requests": list(server.requests), "world": server.world,
           "base": base}
    server.stop()


def in_window(article) -> bool:
    return SINCE <= article.published_local.date() <= UNTIL


def test_backfill_archives_exactly_the_window(backfill):
    result = backfill["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    world = backfill["world"]
    archived = {path_of(r["url"]) for r in rows(backfill["archive"], "articles")}
    wanted = [a for a in world.articles if a.source in SOURCES and in_window(a)]
    groups = [g for g in world.syndication_groups()]
    grouped = {p for g in groups for _, p in g}
    for art in wanted:
        if art.path not in grouped:
            assert art.path in archived, f"{art.source} {art.path} published {art.published_local} missing"
    for group in groups:  # a syndicated story in the window is archived once
        members = [p for _, p in group if p in {a.path for a in wanted}]
        if members:
            assert sum(p in archived for p in members) == 1, group
    outside = {a.path for a in world.articles if not in_window(a)}
    assert not archived & outside, sorted(archived & outside)[:5]


def test_backfill_report_counts_the_window(backfill):
    report = run_rows(backfill["archive"], run_id_of(backfill["result"].stdout))
    assert set(report) == set(SOURCES)
    for row in report.values():
        assert row["status"] == "ok", row
        assert accounted(row), row
        assert f"window {SINCE}..{UNTIL}" in row["notes"]
    # listing pages have no dates: articles outside the window are fetched, then dropped as such
    assert report["demo_binhduong_portal"]["dropped"].get("outside_window", 0) > 0


def listing_pages(base: str, section: str) -> list[tuple[str, list[str]]]:
    """Every page of a portal listing as ``(target, article paths)``, following "next" links."""
    target, pages = f"/binhduong-portal/{section}", []
    while target:
        html = urllib.request.urlopen(base + target, timeout=10).read().decode("utf-8")
        links = [urlsplit(h).path.rstrip("/") for h in re.findall(r'<td class="list-item"><a [^>]*href="([^"]+)"', html)]
        pages.append((target, links))
        nxt = re.search(r'class="next" href="([^"]+)"', html)
        target = nxt.group(1).replace("&amp;", "&") if nxt else None
    return pages


def test_listing_walk_stops_at_the_first_page_older_than_the_window(backfill):
    dates = {a.path: a.published_local.date() for a in backfill["world"].articles}
    asked = {t for t, _ in backfill["requests"]}
    stopped_early = 0
    for section in ("kinh-te", "dau-tu-phat-trien"):
        pages = listing_pages(backfill["base"], section)
        for i, (target, links) in enumerate(pages):
            assert target in asked, f"{target} should have been read"
            newest = max((dates[p] for p in links if p in dates), default=None)
            if newest is not None and newest < SINCE:  # every article on it predates the window
                later = [t for t, _ in pages[i + 1:]]
                assert not asked & set(later), f"pages after {target} were read: {later}"
                stopped_early += bool(later)
                break
    assert stopped_early, "the demo listings should have pages older than the window"


def test_feed_and_sitemap_entries_outside_the_window_are_not_requested(backfill):
    world = backfill["world"]
    fetched = {t.split("?")[0].rstrip("/") for t, _ in backfill["requests"]}
    for source in ("demo_baobinhduong",):  # every feed entry carries its pubDate
        outside = [a for a in world.articles if a.source == source and not in_window(a)]
        assert outside and not [a.path for a in outside if a.path in fetched]
