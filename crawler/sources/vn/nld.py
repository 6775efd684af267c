"""Người Lao Động (nld.com.vn), economy section (VCCorp CMS). Checked against 1 saved page (2026)."""

from crawler.sources.base import Source, css, regex
from crawler.sources.vn._paging import PagedListing
from crawler.sources.vn._vccorp import RELATED, VCCORP

LAYOUT = VCCORP.extend(
    title=css("h1[data-role=title]", "h1.detail-title"),
    authors=css(".detail-author .author-info", ".detail-author", many=True),
    section=css("a[data-role=cate-name]", ".detail-cate a"),
    drop=RELATED + (".detail-cover", "[id^=zone-]"),
)

SOURCE = Source(
    name="nld",
    region="national",
    domains=("nld.com.vn",),
    feeds=("https://nld.com.vn/rss/kinh-te.rss",),
    sitemaps=("https://nld.com.vn/sitemap.xml",),
    listings=(
        PagedListing(
            "https://nld.com.vn/kinh-te.htm",
            article_links=".box-category-item a.box-category-link-title[href], .box-category-item a[href]",
            next_template="https://nld.com.vn/timelinelist/{zone}/{page}.htm",
            zone_css="input#hdZoneId", page_pattern=r"/timelinelist/\d+/(\d+)\.htm$",
        ),
    ),
    article_url=regex(r"^https?://nld\.com\.vn/(?:[a-z0-9-]+/)?[a-z0-9-]+-\d{15,}\.htm$"),
    layouts=(LAYOUT,),
    host_aliases=(("m.nld.com.vn", "nld.com.vn"),),
    checked_against_saved_pages=True,
    homepage="https://nld.com.vn/kinh-te.htm",
    notes="The h1 differs slightly from og:title; the h1 is the title.",
)
