"""Báo Đầu tư (baodautu.vn), finance and stock-market section. Checked against 1 saved page (2026).
No JSON-LD and no article:published_time: the date comes from the byline line
'Nguyên Minh - 07/03/2026 08:47'. Older pages: ``<section URL>/p<n>``."""

from crawler.sources.base import Layout, Source, css, regex
from crawler.sources.vn._paging import PagedListing

LAYOUT = Layout(
    title=css("div.title-detail", "h1.title-detail", "h1"),
    lead=css("div.sapo_detail"),
    body=css("div#content_detail_news"),
    published=css("span.post-time", ".author-share-top", pattern=r"(\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2})"),
    authors=css(".author-share-top a.author", "a.author", many=True),
    section=css("div.col630 > div.text-uppercase", ".fs16.text-uppercase"),
    tags=css(".tag_detail a.tag_detail_item", many=True, pattern=r"#?\s*(.+)"),
    captions=css("#content_detail_news table.MASTERCMS_TPL_TABLE td", "#content_detail_news figcaption", many=True),
    drop=(".list_news_relation_top", ".news_relate_one", ".share_detail", ".box_comment", ".banner_ads"),
)


def _listing(path: str) -> PagedListing:
    base = f"https://baodautu.vn/{path}/"
    return PagedListing(
        base,
        article_links="article a[href], .desc_list_news_home a[href], li a[href]",
        next_template=base + "p{page}",
        page_pattern=r"/p(\d+)/?$",
    )


SOURCE = Source(
    name="baodautu",
    region="national",
    domains=("baodautu.vn",),
    feeds=("https://baodautu.vn/rssMain.html",),
    sitemaps=("https://baodautu.vn/sitemap.xml",),
    listings=(_listing("tai-chinh-chung-khoan-d6"), _listing("dau-tu-tai-chinh-d6"), _listing("bat-dong-san-d8")),
    article_url=regex(r"^https?://baodautu\.vn/(?:[a-z0-9-]+/)?[a-z0-9-]+-d\d{4,}\.html$"),
    layouts=(LAYOUT,),
    checked_against_saved_pages=True,
    homepage="https://baodautu.vn/tai-chinh-chung-khoan-d6/",
    notes="rssMain.html is the site's RSS index page, linked from every page; its feeds are listed there. "
          "og:title is truncated; the title is div.title-detail.",
)
