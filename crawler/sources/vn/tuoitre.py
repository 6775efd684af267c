"""Tuổi Trẻ (tuoitre.vn), business section (VCCorp CMS). Checked against 1 saved page (2026).
Older items load from ``/timeline/<zone>/trang-<n>.htm`` where the section page
itself is followed by ``trang-1``; the zone id is in the focus box's ``data-cd-key``."""

from crawler.sources.base import Source, css, regex
from crawler.sources.vn._paging import PagedListing
from crawler.sources.vn._vccorp import RELATED, VCCORP

LAYOUT = VCCORP.extend(
    body=css("div.detail-content[itemprop=articleBody]", "div.detail-content[data-role=content]"),
    authors=css(".detail-author .author-item-name", ".author-info .name", ".detail-author", many=True),
    section=css(".detail-cate a", "[data-role=cate-name]"),
    drop=RELATED + ("#objectPopupBody", ".detail__qc"),
)

SOURCE = Source(
    name="tuoitre",
    region="national",
    domains=("tuoitre.vn",),
    feeds=("https://tuoitre.vn/rss/kinh-doanh.rss",),
    sitemaps=("https://tuoitre.vn/sitemap.xml",),
    listings=(
        PagedListing(
            "https://tuoitre.vn/kinh-doanh.htm",
            article_links=".box-category-item a.box-category-link-title[href], .box-category-item a[href], h3 a[href]",
            next_template="https://tuoitre.vn/timeline/{zone}/trang-{page}.htm",
            zone_css="[data-cd-key*='newsposition:zoneid']", zone_attr="data-cd-key", zone_pattern=r"zoneid(\d+)",
            page_pattern=r"trang-(\d+)\.htm$", first_next=1,
        ),
    ),
    article_url=regex(r"^https?://tuoitre\.vn/(?:[a-z0-9-]+/)?[a-z0-9-]+-\d{14,}\.htm$"),
    layouts=(LAYOUT,),
    host_aliases=(("m.tuoitre.vn", "tuoitre.vn"),),
    checked_against_saved_pages=True,
    homepage="https://tuoitre.vn/kinh-doanh.htm",
    notes="Two div.detail-content exist; the second (#objectPopupBody) is an empty popup. Inline boxes "
          "(ObjectBoxContent) are the article's own reporting and are kept.",
)
