"""Cổng thông tin Đảng bộ TP.HCM (hcmcpv.org.vn): city policy and economy news. NOT checked against a
saved page: metadata and the generic extractor only."""

from crawler.sources.base import Layout, Listing, Source, regex

SOURCE = Source(
    name="hcmcpv",
    region="ho_chi_minh_city",
    domains=("hcmcpv.org.vn",),
    sitemaps=("https://www.hcmcpv.org.vn/sitemap.xml",),
    listings=(Listing("https://www.hcmcpv.org.vn/tin-tuc/kinh-te", article_links="a[href]",
                      next_page="a[rel=next], li.next a, a.next"),),
    article_url=regex(r"^https?://(?:www\.)?hcmcpv\.org\.vn/tin-tuc/[a-z0-9-]+-\d{6,}$"),
    layouts=(Layout(drop=(".related", ".tin-lien-quan", ".comment", ".share")),),
    host_aliases=(("hcmcpv.org.vn", "www.hcmcpv.org.vn"),),
    checked_against_saved_pages=False,
    homepage="https://www.hcmcpv.org.vn/tin-tuc/kinh-te",
    notes="Official portal: dates are printed as 'dd/mm/yyyy HH:MM'; official texts end with './.'.",
)
