"""CafeF (cafef.vn), stock-market, real-estate and business sections (VCCorp CMS).
Checked against 2 saved pages (2026). The timeline (next page) is loaded from
``/timelinelist/<zone>/<n>.chn``; the zone id sits in ``input#hdZoneId``."""

from crawler.sources.base import Source, css, regex
from crawler.sources.vn._paging import PagedListing
from crawler.sources.vn._vccorp import RELATED, VCCORP

LAYOUT = VCCORP.extend(
    body=css("#mainContent > div.detail-content[data-role=content]", "div.detail-content[data-role=content]"),
    authors=css("p.author", ".author-info .name", many=True),
    section=css("a[data-role=cate-name]", ".category-page__name", ".dateandcat a.cat"),
    drop=RELATED + (".tincungmucdetail", ".tagdetail + .clearfix", "#admWrapsite .link-source-full"),
)


def _listing(path: str) -> PagedListing:
    return PagedListing(
        f"https://cafef.vn/{path}.chn",
        article_links="h3 a[href], h2 a[href], .tlitem a[href], .firstitem a[href], .big a[href]",
        next_template="https://cafef.vn/timelinelist/{zone}/{page}.chn",
        zone_css="input#hdZoneId",
        page_pattern=r"/timelinelist/\d+/(\d+)\.chn$",
    )


SOURCE = Source(
    name="cafef",
    region="national",
    domains=("cafef.vn",),
    feeds=("https://cafef.vn/thi-truong-chung-khoan.rss", "https://cafef.vn/bat-dong-san.rss",
           "https://cafef.vn/doanh-nghiep.rss", "https://cafef.vn/kinh-te-vi-mo-dau-tu.rss"),
    sitemaps=("https://cafef.vn/sitemap.xml",),
    listings=(_listing("thi-truong-chung-khoan"), _listing("bat-dong-san"), _listing("doanh-nghiep")),
    article_url=regex(r"^https?://cafef\.vn/[a-z0-9-]+-\d{15,}\.chn$"),
    layouts=(LAYOUT,),
    host_aliases=(("m.cafef.vn", "cafef.vn"), ("www.cafef.vn", "cafef.vn")),
    checked_against_saved_pages=True,
    homepage="https://cafef.vn/thi-truong-chung-khoan.chn",
    notes="Date line is '07-03-2026 - 00:01 AM' (12-hour clock); JSON-LD datePublished has no zone (local time).",
)
