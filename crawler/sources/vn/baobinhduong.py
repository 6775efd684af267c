"""Báo Bình Dương (baobinhduong.vn), the Bình Dương provincial newspaper, economy section. NOT checked
against a saved page (none was saved): metadata and the generic extractor only. Bình Dương was merged
into Ho Chi Minh City in 2025; the archive keeps the region name of its articles."""

from crawler.sources.base import Layout, Listing, Source, regex

SOURCE = Source(
    name="baobinhduong",
    region="binh_duong",
    domains=("baobinhduong.vn",),
    feeds=("https://baobinhduong.vn/rss/kinh-te.rss",),
    sitemaps=("https://baobinhduong.vn/sitemap.xml",),
    listings=(Listing("https://baobinhduong.vn/kinh-te/", article_links="a[href]",
                      next_page="a[rel=next], li.next a, a.next"),),
    article_url=regex(r"^https?://(?:www\.)?baobinhduong\.vn/[a-z0-9-]+-a\d+\.html$"),
    layouts=(Layout(drop=(".related", ".tinlienquan", ".comment", ".share", ".tags")),),
    host_aliases=(("www.baobinhduong.vn", "baobinhduong.vn"),),
    checked_against_saved_pages=False,
    homepage="https://baobinhduong.vn/kinh-te/",
)
