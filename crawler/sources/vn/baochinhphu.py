"""Báo điện tử Chính phủ (baochinhphu.vn), new-policy section (VCCorp CMS). Checked against 1 saved page (2026)."""

from crawler.sources.base import Source, css, regex
from crawler.sources.vn._paging import PagedListing
from crawler.sources.vn._vccorp import RELATED, VCCORP

LAYOUT = VCCORP.extend(
    authors=css(".detail-author-top .name", ".detail-author .name", "p[style*='text-align:right'] strong", many=True),
    section=css(".detail-breadcrumb a.active", "a[data-role=cate-name]"),
    drop=RELATED + (".detail-social", ".detail-like-fb"),
)

SOURCE = Source(
    name="baochinhphu",
    region="national",
    domains=("baochinhphu.vn",),
    feeds=("https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.rss", "https://baochinhphu.vn/kinh-te.rss"),
    sitemaps=("https://baochinhphu.vn/sitemap.xml",),
    listings=(
        PagedListing(
            "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
            article_links=".box-stream-item a[href], .box-item a[href], .box-category-item a[href], h2 a[href], h3 a[href]",
            next_template="https://baochinhphu.vn/timelinelist/{zone}/{page}.htm",
            zone_css="input#hdZoneId", page_pattern=r"/timelinelist/\d+/(\d+)\.htm$",
        ),
        PagedListing(
            "https://baochinhphu.vn/kinh-te.htm",
            article_links=".box-stream-item a[href], .box-item a[href], .box-category-item a[href]",
            next_template="https://baochinhphu.vn/timelinelist/{zone}/{page}.htm",
            zone_css="input#hdZoneId", page_pattern=r"/timelinelist/\d+/(\d+)\.htm$",
        ),
    ),
    article_url=regex(r"^https?://baochinhphu\.vn/[a-z0-9-]+-\d{15,}\.htm$"),
    layouts=(LAYOUT,),
    checked_against_saved_pages=True,
    homepage="https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
    notes="Official press: bodies may end with the './.' mark. Lead keeps the '(Chinhphu.vn) - ' prefix.",
)
