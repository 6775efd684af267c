"""Dân trí (dantri.com.vn), business section. Checked against 1 saved page (2026, the
Tailwind 'data-slot' template). The template before it (h1.title-page, div.singular-content,
time.author-time) is kept as a dated layout for archived pages."""

from datetime import date

from crawler.sources.base import Layout, Listing, Source, css, regex, xpath

CURRENT = Layout(
    title=css("article[data-slot=container] h1", "h1[data-slot=title]", "h1"),
    lead=css("h2[data-slot=sapo]", "h2.singular-sapo"),
    body=css("div[data-slot=content]", "div.singular-content"),
    published=css("article[data-slot=container] time", "time.author-time"),
    authors=css("article[data-slot=container] > div:nth-child(2) a[href*='/tac-gia/']",
                "article[data-slot=container] > div:nth-child(2) a", "div.author-name b", many=True),
    section=xpath("(//a[@data-content-name='article-breadcrumb'])[last()]", "(//ul[@class='breadcrumbs']//a)[last()]"),
    tags=css("ul[data-slot=tags] a", ".tags-wrap a", many=True),
    captions=css("div[data-slot=content] figcaption", "div.singular-content figcaption", many=True),
    drop=("div[data-slot=content] aside", ".dantri-widget", "article.article-related", ".article-related",
          "div[data-slot=content] .dt-news-related"),
)

# The template of 2020-2024 (before the data-slot redesign): same fields, other class names.
LEGACY = CURRENT.extend(
    valid_until=date(2024, 12, 31),
    title=css("h1.title-page", "h1.e-magazine__title", "h1"),
    lead=css("h2.singular-sapo", "div.singular-sapo"),
    body=css("div.singular-content", "div.e-magazine__body"),
    published=css("time.author-time", "div.author-time"),
    authors=css("div.author-name b", "div.author-wrap .author-name", many=True),
    tags=css(".tags-wrap a", many=True),
    captions=css("div.singular-content figcaption", many=True),
)

SOURCE = Source(
    name="dantri",
    region="national",
    domains=("dantri.com.vn",),
    feeds=("https://dantri.com.vn/rss/kinh-doanh.rss", "https://dantri.com.vn/rss/bat-dong-san.rss"),
    sitemaps=("https://dantri.com.vn/sitemap.xml",),
    listings=(
        Listing("https://dantri.com.vn/kinh-doanh.htm", article_links="h3.article-title a[href], article a[href]",
                next_page="div.pagination a.page-item.next"),
    ),
    article_url=regex(r"^https?://dantri\.com\.vn/[a-z0-9-]+(?:/[a-z0-9-]+)?/[a-z0-9-]+-\d{14,}\.htm$"),
    layouts=(LEGACY, CURRENT),
    host_aliases=(("m.dantri.com.vn", "dantri.com.vn"),),
    checked_against_saved_pages=True,
    homepage="https://dantri.com.vn/kinh-doanh.htm",
    notes="Lead keeps the '(Dân trí) - ' prefix as printed. The LEGACY layout is not checked by a saved page.",
)
