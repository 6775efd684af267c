"""Thanh Niên (thanhnien.vn), economy section, Ho Chi Minh City based. NOT checked against a saved
page: the rules are the VCCorp-CMS ones its current template shares with tuoitre/nld (data-role
attributes); metadata and the generic extractor fill whatever they miss."""

from crawler.sources.base import Source, regex
from crawler.sources.vn._paging import PagedListing
from crawler.sources.vn._vccorp import VCCORP

SOURCE = Source(
    name="thanhnien",
    region="ho_chi_minh_city",
    domains=("thanhnien.vn",),
    feeds=("https://thanhnien.vn/rss/kinh-te.rss",),
    sitemaps=("https://thanhnien.vn/sitemap.xml",),
    listings=(
        PagedListing(
            "https://thanhnien.vn/kinh-te.htm",
            article_links=".box-category-item a[href], h2 a[href], h3 a[href]",
            next_template="https://thanhnien.vn/timelinelist/{zone}/{page}.htm",
            zone_css="input#hdZoneId", page_pattern=r"/timelinelist/\d+/(\d+)\.htm$",
        ),
    ),
    article_url=regex(r"^https?://thanhnien\.vn/[a-z0-9-]+-\d{15,}\.htm$"),
    layouts=(VCCORP,),
    host_aliases=(("www.thanhnien.vn", "thanhnien.vn"),),
    checked_against_saved_pages=False,
    homepage="https://thanhnien.vn/kinh-te.htm",
    notes="Feed, sitemap and section URLs follow the site's published scheme; not fetched from here.",
)
