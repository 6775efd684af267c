import pytest

from crawler.discovery import UnsafeXML, parse_feed, parse_sitemap
from crawler.sources.base import Listing, Source, path_regex
from crawler.listing import listing_links

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Kinh tế</title>
<item><title>Xuất khẩu tăng</title>
  <link>
     https://bao.vn/xuat-khau-tang-1.html
  </link>
  <pubDate>Thu, 26 Nov 2026 08:30:00 +0700</pubDate></item>
<item><title>Không có link</title><pubDate>Thu, 26 Nov 2026 09:30:00 +0700</pubDate></item>
<item><title>Giá &amp; lãi suất</title><guid>https://bao.vn/gia-2.html</guid></item>
</channel></rss>""".encode()

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>FDI</title>
<link rel="alternate" href="/fdi-3.html"/><published>2026-11-20T10:00:00+07:00</published>
<updated>2026-11-21T10:00:00+07:00</updated></entry></feed>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://kt.vn/sitemap/2026-10.xml</loc><lastmod>2026-10-31</lastmod></sitemap>
<sitemap><loc>https://kt.vn/sitemap/news.xml</loc></sitemap></sitemapindex>"""

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://kt.vn/a-1.html</loc><news:news><news:publication><news:name>KT</news:name>
<news:language>vi</news:language></news:publication>
<news:publication_date>2026-11-25T08:30:00+07:00</news:publication_date>
<news:title>Lãi suất giảm</news:title></news:news></url>
<url><loc>https://kt.vn/a-2.html</loc><lastmod>2026-11-24</lastmod></url></urlset>""".encode()

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<urlset><url><loc>&lol2;</loc></url></urlset>"""


def test_rss_links_are_stripped_and_linkless_items_skipped():
    entries = parse_feed(RSS, "https://bao.vn/rss/kinh-te.rss")
    assert [e.url for e in entries] == ["https://bao.vn/xuat-khau-tang-1.html", "https://bao.vn/gia-2.html"]
    assert entries[0].title == "Xuất khẩu tăng"
    assert entries[0].published_raw == "Thu, 26 Nov 2026 08:30:00 +0700"
    assert entries[1].title == "Giá & lãi suất"


def test_atom_relative_links_resolve():
    (entry,) = parse_feed(ATOM, "https://bao.vn/atom.xml")
    assert entry.url == "https://bao.vn/fdi-3.html"
    assert entry.published_raw == "2026-11-20T10:00:00+07:00"
    assert entry.modified_raw == "2026-11-21T10:00:00+07:00"


def test_sitemap_index_and_news_sitemap():
    idx = parse_sitemap(INDEX, "https://kt.vn/sitemap.xml")
    assert idx.sitemaps == [("https://kt.vn/sitemap/2026-10.xml", "2026-10-31"), ("https://kt.vn/sitemap/news.xml", "")]
    assert idx.entries == []
    news = parse_sitemap(NEWS, "https://kt.vn/sitemap/news.xml")
    assert [(e.url, e.title, e.published_raw) for e in news.entries] == [
        ("https://kt.vn/a-1.html", "Lãi suất giảm", "2026-11-25T08:30:00+07:00"),
        ("https://kt.vn/a-2.html", "", ""),
    ]
    assert news.entries[1].modified_raw == "2026-11-24"


def test_entity_declarations_are_refused():
    with pytest.raises(UnsafeXML):
        parse_sitemap(BOMB, "https://kt.vn/sitemap.xml")
    with pytest.raises(UnsafeXML):
        parse_feed(BOMB, "https://kt.vn/rss")


def test_malformed_feed_with_raw_ampersand_is_recovered():
    data = b"<rss><channel><item><title>A & B</title><link>https://bao.vn/ab-9.html</link></item></channel></rss>"
    assert [e.url for e in parse_feed(data, "https://bao.vn/")] == ["https://bao.vn/ab-9.html"]


def test_listing_links_and_next_page():
    html = """<html><body><ul class="news">
      <li><a href="/tin/a-1.html">A</a></li><li><a href="/tin/a-1.html">A again</a></li>
      <li><a href="https://bao.vn/tin/b-2.html">B</a></li><li><a href="javascript:void(0)">x</a></li></ul>
      <div class="paging"><a class="next" href="?trang=3">Trang sau</a></div></body></html>"""
    listing = Listing(url="https://bao.vn/kinh-te?trang=2", article_links="ul.news a", next_page="a.next")
    source = Source(name="bao", region="national", domains=("bao.vn",), listings=(listing,),
                    article_url=path_regex(r"/tin/.+-\d+\.html$"))
    links, nexts = listing_links(html, listing.url, source, listing)
    assert links == ["https://bao.vn/tin/a-1.html", "https://bao.vn/tin/b-2.html"]
    assert nexts == ["https://bao.vn/kinh-te?trang=3"]


def test_real_vnexpress_feeds():
    from tests.shared import shared_data

    folder = shared_data("vn-rss")
    counts = {}
    for path in sorted(folder.glob("*.xml")):
        entries = parse_feed(path.read_bytes(), "https://vnexpress.net/")
        counts[path.name] = len(entries)
        assert all(e.url.startswith(("http://", "https://")) and "\n" not in e.url and " " not in e.url
                   for e in entries)
    # the 2017-11-14 snapshot has one item without link and date; the 2025 file has a raw '&'
    assert counts == {
        "vnexpress_the-gioi_2025-02-06_1item.xml": 1,
        "vnexpress_tin-moi-nhat_2017-04-19.xml": 25,
        "vnexpress_tin-moi-nhat_2017-08-30.xml": 25,
        "vnexpress_tin-moi-nhat_2017-11-14.xml": 24,
    }
