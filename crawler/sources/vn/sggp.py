"""Sài Gòn Giải Phóng (sggp.org.vn), the Ho Chi Minh City Party newspaper, economy section. NOT
checked against a saved page: no field rules, only furniture drops; JSON-LD/OpenGraph and the
generic extractor read the articles."""

from crawler.sources.base import Layout, Listing, Source, regex

SOURCE = Source(
    name="sggp",
    region="ho_chi_minh_city",
    domains=("sggp.org.vn",),
    feeds=("https://www.sggp.org.vn/rss/kinhte-3.rss",),
    sitemaps=("https://www.sggp.org.vn/sitemap.xml",),
    listings=(Listing("https://www.sggp.org.vn/kinhte/", article_links="article a[href], h2 a[href], h3 a[href]",
                      next_page="a.next, li.next a, a[rel=next]"),),
    article_url=regex(r"^https?://(?:www\.)?sggp\.org\.vn/[a-z0-9-]+-post\d+\.html$"),
    layouts=(Layout(drop=(".article__related", ".related-news", ".box-related", ".article__tag", ".comment")),),
    host_aliases=(("sggp.org.vn", "www.sggp.org.vn"),),
    checked_against_saved_pages=False,
    homepage="https://www.sggp.org.vn/kinhte/",
)
