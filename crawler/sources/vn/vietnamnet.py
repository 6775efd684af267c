"""VietNamNet (vietnamnet.vn), business section. Checked against 1 saved page (2026)."""

from crawler.sources.base import Layout, Listing, Source, css, regex

LAYOUT = Layout(
    title=css("h1.content-detail-title", "h1"),
    lead=css("h2.content-detail-sapo", "div.content-detail-sapo"),
    body=css("div#maincontent", "div.maincontent"),
    published=css("div.bread-crumb-detail__time", "div.publish-date"),
    authors=css("p.article-detail-author__info", "span.name", many=True),
    section=css("div.bread-crumb-detail ul li:nth-child(2) a", "div.bread-crumb-detail a:not([href='/'])"),
    tags=css("div.tag-cloud a", "ul.tag-list a", many=True),
    captions=css("div#maincontent figcaption", many=True),
    drop=("div#maincontent .vnn-ads", "div#maincontent .article-relate", "div#maincontent [class*=box-relate]",
          "div#maincontent .insert-wiki-content"),
)

SOURCE = Source(
    name="vietnamnet",
    region="national",
    domains=("vietnamnet.vn",),
    feeds=("https://vietnamnet.vn/kinh-doanh.rss", "https://vietnamnet.vn/kinh-doanh/tai-chinh.rss"),
    sitemaps=("https://vietnamnet.vn/sitemap.xml",),
    listings=(
        Listing("https://vietnamnet.vn/kinh-doanh",
                article_links="h3.horizontalPost__main-title a[href], h3.verticalPost__main-title a[href], h2 a[href]",
                next_page="li.pagination-next a"),
    ),
    article_url=regex(r"^https?://vietnamnet\.vn/(?:[a-z0-9-]+/)?[a-z0-9-]+-\d{6,}\.html$"),
    layouts=(LAYOUT,),
    checked_against_saved_pages=True,
    homepage="https://vietnamnet.vn/kinh-doanh",
    notes="Pages are numbered from 0: the page after /kinh-doanh is /kinh-doanh-page1.",
)
