"""The demo sites: ground truth, page content, discovery documents, HTTP behaviour and faults."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import socket
import time
import tracemalloc
import unicodedata
import urllib.error
import urllib.request
import zlib
from datetime import date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree, html as lxml_html
from parsel import Selector

from crawler.demo.render import feed_paths
from crawler.demo.server import FAULTS, DemoServer
from crawler.demo.timeline import timeline
from crawler.demo.world import SEED_CAPTION, SEED_LEAD, SEED_TITLE, build_world
from crawler.sources import registry

BASE = "http://127.0.0.1:9"
WORLD = build_world()
SITE_NAMES = ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte")


def _clean_path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _decoded(article, rendered) -> str:
    enc = "cp1258" if article.charset == "windows-1258" else "utf-8"
    return unicodedata.normalize("NFC", rendered.body.decode(enc))


# ---------------------------------------------------------------------- ground truth


def test_world_is_deterministic_and_seeded():
    again = build_world()
    assert list(again.articles) == list(WORLD.articles)
    assert again.traps == WORLD.traps
    other = build_world(seed=7)
    assert [a.paragraphs for a in other.articles[:20]] != [a.paragraphs for a in WORLD.articles[:20]]


def test_enough_distinct_articles_over_the_86_days_before_today():
    expected = WORLD.expected()
    assert len(expected) >= 150
    assert len({a.text for a in expected}) == len(expected)
    assert len({a.path for a in WORLD.articles}) == len(WORLD.articles)
    per_source = {name: sum(a.source == name for a in expected) for name in SITE_NAMES}
    assert all(n >= 50 for n in per_source.values()), per_source
    days = sorted(a.published_local for a in expected)
    today = WORLD.timeline.today
    assert today == date.fromisoformat(os.environ["DEMO_TODAY"])   # tests/conftest.py fixes it for the run
    assert days[0].date() == today - timedelta(days=86)
    assert today - timedelta(days=3) <= days[-1].date() <= today - timedelta(days=1)
    assert {(d.year, d.month) for d in days} == {(y, m) for y, m, _ in WORLD.months[:-1]}
    for a in WORLD.articles:
        assert a.published_utc == (a.published_local - timedelta(hours=7)).replace(tzinfo=a.published_utc.tzinfo)
        assert 3 <= len(a.paragraphs) <= 8 and a.title and a.authors
        for text in (a.title, a.lead, *a.paragraphs):
            assert unicodedata.is_normalized("NFC", text)
            assert "{" not in text and "}" not in text


@pytest.mark.parametrize("today, months", [
    # a leap day is the last day; the window starts in another year
    (date(2028, 3, 1), ((2027, 12, 0), (2028, 1, 26), (2028, 2, 57), (2028, 3, 86))),
    # the last day ends a year
    (date(2027, 1, 1), ((2026, 10, 0), (2026, 11, 25), (2026, 12, 55), (2027, 1, 86))),
    # four months touched: the window starts on the last day of one and ends on the first of another
    (date(2026, 12, 2), ((2026, 9, 0), (2026, 10, 24), (2026, 11, 55), (2026, 12, 85), (2027, 1, 116))),
])
def test_timeline_is_the_86_days_before_today(today, months):
    t = timeline(today)
    assert t.last_day == today - timedelta(days=1) and t.start.date() == today - timedelta(days=86)
    assert t.months == months
    world = build_world(60, today=today)
    days = sorted(a.published_local.date() for a in world.articles)
    assert days[0] == t.start.date() and t.last_day - timedelta(days=3) <= days[-1] <= t.last_day
    assert all(tp.local.date() == t.last_day for tp in world.trap_pages.values())
    monthly = [p for p in feed_paths(world) if p.count("/") == 1]
    assert sorted({p.rsplit("/", 1)[1].removesuffix(".rss") for p in monthly}) == list(t.month_names())


def test_declared_monthly_feeds_are_the_served_ones():
    declared = {f.removeprefix("{base}/baobinhduong/rss/") for f in registry().get("demo_baobinhduong").feeds}
    assert declared == set(feed_paths(WORLD))


def test_seed_story_renders_exactly_and_in_order():
    seeds = [a for a in WORLD.articles if a.is_seed]
    assert len(seeds) == 1
    seed = seeds[0]
    assert seed.source == "demo_binhduong_portal"
    assert (seed.title, seed.lead, seed.caption) == (SEED_TITLE, SEED_LEAD, SEED_CAPTION)
    starts = ("Theo đó, tỉnh đã tập trung thu hút", "Để phát triển công nghiệp bền vững, tạo bước đột phá sản xuất",
              "Để công nghiệp phát triển bền vững, là địa chỉ tin cậy")
    assert len(seed.paragraphs) == 3
    assert all(p.startswith(s) for p, s in zip(seed.paragraphs, starts))
    page = _decoded(seed, WORLD.render(seed.path, BASE))
    text = lxml_html.fromstring(page).xpath("string(//body)")
    positions = [text.index(s) for s in (seed.title, seed.lead, seed.caption, *seed.paragraphs)]
    assert positions == sorted(positions)
    after = text[positions[-1]:]
    assert after.index("Phản hồi") < after.index("Các tin khác")
    assert text.count(seed.caption) >= 2          # lead mentions it, the caption cell prints it


DATE_FORMATS = {
    "demo_binhduong_portal": "%d/%m/%Y - %H:%M",
    "demo_baobinhduong": "%d/%m/%Y %H:%M GMT+7",
    "demo_kinhte": "Cập nhật: %H:%M ngày %d/%m/%Y",
}
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def test_date_lines_parse_back_and_are_on_the_page():
    for a in WORLD.articles:
        line = a.date_line
        if a.source == "demo_binhduong_portal":
            weekday, line = line.split(", ", 1)
            assert weekday == WEEKDAYS[a.published_local.weekday()]
        assert datetime.strptime(line, DATE_FORMATS[a.source]) == a.published_local
    for a in WORLD.articles[::9]:
        assert a.date_line in _decoded(a, WORLD.render(a.path, BASE))


def test_syndicated_copies_share_the_story():
    copies = [a for a in WORLD.articles if a.syndication]
    assert sum(a.syndication == "exact" for a in copies) >= 12
    assert sum(a.syndication == "near" for a in copies) >= 6
    for copy in copies:
        src_name, src_path = copy.syndicated_from
        original = WORLD.get(src_path)
        assert original.source == src_name != copy.source
        assert copy.title != original.title
        assert timedelta(hours=2) <= copy.published_local - original.published_local <= timedelta(hours=6)
        if copy.syndication == "exact":
            assert copy.paragraphs == original.paragraphs and copy.lead == original.lead
        else:
            assert copy.lead != original.lead and copy.credit.startswith("Theo ")
            assert sum(x != y for x, y in zip(copy.paragraphs, original.paragraphs)) == 1
            assert copy.credit in _decoded(copy, WORLD.render(copy.path, BASE))
    groups = WORLD.syndication_groups()
    assert len(groups) == len(copies) and all(len(g) == 2 for g in groups)
    expected = {(a.source, a.path) for a in WORLD.expected()}
    assert all(len(g & expected) == 1 for g in groups)


def test_alias_urls_serve_the_same_page_with_the_clean_canonical():
    aliased = [a for a in WORLD.articles if a.alias_paths]
    assert len(aliased) >= 6
    for a in aliased:
        clean = WORLD.render(a.path, BASE)
        for alias in a.alias_paths:
            assert WORLD.get(alias) == a
            assert WORLD.render(alias, BASE).body == clean.body
        assert f'rel="canonical" href="{BASE}{a.path}"' in clean.body.decode("utf-8", "replace")


def test_windows_1258_and_lying_charset_pages():
    cp = WORLD.get(WORLD.traps["cp1258_article"])
    r = WORLD.render(cp.path, BASE)
    assert cp.charset == "windows-1258" and r.headers["Content-Type"].endswith("charset=windows-1258")
    with pytest.raises(UnicodeDecodeError):
        r.body.decode("utf-8")
    raw = r.body.decode("cp1258")
    assert "\u0301" in raw or "\u0300" in raw or "\u0323" in raw      # tone marks really are combining
    text = unicodedata.normalize("NFC", raw)
    assert 'charset=windows-1258' in text and cp.title in text
    assert all(p in text for p in cp.paragraphs)

    liar = WORLD.get(WORLD.traps["lying_charset_article"])
    r = WORLD.render(liar.path, BASE)
    assert liar.charset == "lying" and "iso-8859-1" in r.headers["Content-Type"]
    assert '<meta charset="iso-8859-1">' in r.body.decode("utf-8")
    assert all(p in r.body.decode("utf-8") for p in liar.paragraphs)


def _field(sel: Selector, rule):
    for selector in rule.css:
        found = sel.css(selector)
        if found:
            values = [el.attrib.get(rule.attr, "") if rule.attr else
                      re.sub(r"\s+", " ", el.xpath("string()").get()).strip() for el in found]
            return values if rule.many else values[0]
    return [] if rule.many else None


def test_source_layout_rules_read_the_ground_truth():
    sources = registry()
    for a in WORLD.articles:
        layout = sources.get(a.source).layouts[0]
        sel = Selector(text=_decoded(a, WORLD.render(a.path, BASE)))
        for css in layout.drop:
            for el in sel.css(css):
                el.drop()
        assert _field(sel, layout.title) == a.title
        assert _field(sel, layout.lead) == a.lead
        assert _field(sel, layout.body) == a.paragraphs + ([a.credit] if a.credit else [])
        assert _field(sel, layout.authors) == ([] if a.credit else a.authors)
        assert _field(sel, layout.tags) == a.tags and _field(sel, layout.section) == a.section
        assert _field(sel, layout.published) == a.date_line
        assert _field(sel, layout.captions) == ([a.caption] if a.caption else [])
        assert _field(sel, layout.canonical_url) == BASE + a.path


def test_pages_weigh_like_real_ones_and_pad_inflates():
    sizes = [len(WORLD.render(a.path, BASE).body) for a in WORLD.articles[::5]]
    assert 30_000 <= min(sizes) and max(sizes) <= 150_000
    padded = build_world(pad=200_000)
    a = padded.articles[3]
    assert 200_000 <= len(padded.render(a.path, BASE).body) - len(WORLD.render(a.path, BASE).body) < 201_000


def test_non_article_traps_look_like_what_they_are():
    video = WORLD.render(WORLD.traps["video_page"], BASE).body.decode()
    assert 'og:type" content="video.other"' in video and '"VideoObject"' in video
    assert re.search(r"-\d{7}\.htm$", WORLD.traps["video_page"])
    short = WORLD.trap_pages["short_page"].article
    assert len(short.paragraphs) == 1 and len(short.paragraphs[0].split()) < 30
    assert set(WORLD.non_articles) >= {WORLD.traps[n] for n in ("tag_page", "video_page", "search_page", "short_page")}
    assert WORLD.render(WORLD.traps["not_found"], BASE).status == 404
    assert WORLD.render(WORLD.traps["server_error"], BASE).status == 500


# ---------------------------------------------------------------------- over HTTP


def _get(url: str, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_server_binds_loopback_and_logs(demo_server):
    assert urlsplit(demo_server.base_url).hostname == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", demo_server.port), timeout=5):
        pass
    status, headers, body = _get(demo_server.base_url + "/robots.txt")
    assert status == 200 and b"Disallow" not in body and b"Sitemap:" in body
    assert ("/robots.txt", 200) in demo_server.requests


def test_http_statuses_and_truncation(demo_server):
    base = demo_server.base_url
    assert _get(base + WORLD.traps["not_found"])[0] == 404
    assert _get(base + WORLD.traps["server_error"])[0] == 500
    with pytest.raises(http.client.IncompleteRead):
        urllib.request.urlopen(base + WORLD.traps["truncated"], timeout=10).read()
    status, headers, body = _get(base + WORLD.traps["seed_article"], **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and SEED_TITLE in gzip.decompress(body).decode()


def _paths_of_site(name: str) -> set[str]:
    return {a.path for a in WORLD.articles if a.source == name}


def test_feeds_list_every_newspaper_article(demo_server):
    src = registry().get("demo_baobinhduong").resolve(demo_server.base_url)
    seen, dates = set(), {}
    for feed in src.feeds:
        status, _, body = _get(feed)
        assert status == 200
        for item in etree.fromstring(body).iter("item"):
            link, pub = item.findtext("link"), item.findtext("pubDate")
            assert pub.endswith("+0700")
            seen.add(_clean_path(link))
            dates[_clean_path(link)] = datetime.strptime(pub, "%a, %d %b %Y %H:%M:%S %z")
    assert _paths_of_site("demo_baobinhduong") <= seen
    assert {WORLD.traps["not_found"], WORLD.traps["truncated"]} <= seen
    for a in WORLD.articles:
        if a.source == "demo_baobinhduong":
            assert dates[a.path] == a.published_utc


def test_sitemaps_list_every_outlet_article(demo_server):
    base = demo_server.base_url
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    index = etree.fromstring(_get(base + "/kinhte/sitemap.xml")[2])
    assert index.tag.endswith("sitemapindex")
    seen, news = set(), set()
    for loc in index.xpath("//s:sitemap/s:loc/text()", namespaces=ns):
        doc = etree.fromstring(_get(loc)[2])
        locs = doc.xpath("//s:url/s:loc/text()", namespaces=ns)
        seen |= {_clean_path(u) for u in locs}
        if loc.endswith("news.xml"):
            news = {_clean_path(u) for u in locs}
            assert all(d.endswith("+07:00") for d in doc.xpath("//n:publication_date/text()", namespaces=ns))
            assert len(doc.xpath("//n:title", namespaces=ns)) == len(locs)
        else:
            assert len(doc.xpath("//s:lastmod", namespaces=ns)) == len(locs)
    assert _paths_of_site("demo_kinhte") <= seen
    assert WORLD.traps["video_page"] in news
    latest = max(a.published_local for a in WORLD.articles if a.source == "demo_kinhte")
    assert all(latest - WORLD.get(p).published_local <= timedelta(days=2) for p in news if WORLD.get(p))


def test_listing_pagination_reaches_every_portal_article(demo_server):
    src = registry().get("demo_binhduong_portal").resolve(demo_server.base_url)
    seen = set()
    for listing in src.listings:
        url, pages = listing.url, 0
        while url:
            status, _, body = _get(url)
            assert status == 200
            doc = lxml_html.fromstring(body.decode("utf-8"))
            links = [urljoin(url, a.get("href")) for a in doc.cssselect(listing.article_links)]
            assert links and len([u for u in links if "utm_" not in u]) <= 14
            seen |= {_clean_path(u) for u in links if src.article_url(u)}
            nxt = doc.cssselect(listing.next_page)
            url = urljoin(url, nxt[0].get("href")) if nxt else None
            pages += 1
        assert pages >= 2
    assert _paths_of_site("demo_binhduong_portal") <= seen
    assert {WORLD.traps["short_page"], WORLD.traps["server_error"]} <= seen


# ---------------------------------------------------------------------- faults


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


@pytest.fixture(scope="module")
def faulty():
    with DemoServer(WORLD, faults=FAULTS, slow_seconds=0.6) as server:
        yield server


def test_faults_are_off_by_default(demo_server):
    for paths in WORLD.fault_targets().values():
        for path in paths:
            if not path.endswith("/"):
                assert _get(demo_server.base_url + path)[0] == 200


def test_fault_switches(faulty):
    base, targets = faulty.base_url, WORLD.fault_targets()
    t0 = time.monotonic()
    assert _get(base + targets["slow"][0])[0] == 200 and time.monotonic() - t0 >= 0.5
    status, headers, _ = _get(base + targets["ratelimit"][0])
    assert (status, headers["Retry-After"]) == (429, "2") and _get(base + targets["ratelimit"][0])[0] == 200
    burst = [_get(base + targets["burst500"][0])[0] for _ in range(3)]
    assert burst == [500, 500, 200]
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, urllib.error.URLError)):
        urllib.request.urlopen(base + targets["reset"][0], timeout=10).read()
    assert _get(base + targets["reset"][0])[0] == 200
    _, _, robots = _get(base + "/robots.txt")
    assert b"Disallow: /baobinhduong/doanh-nghiep/" in robots
    opener = urllib.request.build_opener(_NoRedirect)
    for name, code, host in (("redirect_private", 302, "127.0.0.2"), ("redirect_offsite", 301, "example.invalid")):
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(base + targets[name][0], timeout=10)
        assert err.value.code == code and urlsplit(err.value.headers["Location"]).hostname == host


def test_gzip_and_xml_bombs(faulty):
    base, targets = faulty.base_url, WORLD.fault_targets()
    status, headers, body = _get(base + targets["gzip_bomb"][0])
    assert headers["Content-Encoding"] == "gzip" and len(body) < 1_000_000
    inflater, total = zlib.decompressobj(31), 0
    while body:
        total += len(inflater.decompress(body, 1 << 24))
        body = inflater.unconsumed_tail
    assert total > 100_000_000
    feed = _get(base + targets["xml_bomb"][0])[2]
    assert b"<!ENTITY lol9" in feed and b"&lol9;" in feed
    with pytest.raises(etree.XMLSyntaxError):      # a safe parser refuses the expansion
        etree.fromstring(feed, etree.XMLParser(resolve_entities=True, huge_tree=False))


# ---------------------------------------------------------------------- scale


def test_big_world_is_lazy():
    big = build_world(n_articles=20_000)
    tracemalloc.start()
    build_world(n_articles=20_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40_000_000                              # ~2 MB: no page or body is built up front
    assert len(big.articles) == 20_018 and len(big.expected_paths()) == 20_000
    last = big.articles[-1]
    assert big.get(last.path) == last and big.render(last.path, BASE).status == 200
    assert big.render("/binhduong-portal/kinh-te?trang=200", BASE).status == 200
    sitemap = big.render("/kinhte/sitemap.xml", BASE).body
    assert all(f"{m}.xml".encode() in sitemap for m in big.timeline.month_names())
