"""Cổng thông tin điện tử tỉnh Bình Dương (binhduong.gov.vn): provincial economy and investment news.
NOT checked against a saved page: metadata and the generic extractor only."""

from crawler.sources.base import Layout, Listing, Source, regex

SOURCE = Source(
    name="binhduong_gov",
    region="binh_duong",
    domains=("binhduong.gov.vn",),
    sitemaps=("https://www.binhduong.gov.vn/sitemap.xml",),
    listings=(Listing("https://www.binhduong.gov.vn/kinh-te", article_links="a[href]",
                      next_page="a[rel=next], li.next a, a.next"),),
    article_url=regex(r"^https?://(?:www\.)?binhduong\.gov\.vn/(?:[a-z0-9-]+/)+[a-z0-9-]+-\d{3,}\.html$"),
    layouts=(Layout(drop=(".related", ".other-news", ".comment", ".share")),),
    host_aliases=(("binhduong.gov.vn", "www.binhduong.gov.vn"),),
    checked_against_saved_pages=False,
    homepage="https://www.binhduong.gov.vn/kinh-te",
    notes="Government portal: date lines like 'Cập nhật: 08:30 ngày 26/11/2026'.",
)
