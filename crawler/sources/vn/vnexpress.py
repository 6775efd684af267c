"""VnExpress (vnexpress.net), economy sections. Checked against 3 saved pages (2023, 2025, 2026):
one template throughout (p.description, article.fck_detail, span.date)."""

from crawler.sources.base import Layout, Listing, Source, css, regex

BYLINES = ("p.author_mail", "article.fck_detail > p[style*='text-align:right']", "p.Normal[align=right]")

LAYOUT = Layout(
    title=css("h1.title-detail", "h1.title_news_detail"),
    lead=css("p.description"),
    body=css("article.fck_detail", remove=BYLINES + ("table.tplCaption img", ".box-tinlienquanv2", ".item_slide_show .block_thumb_slide_show")),
    published=css("span.date", "div.date-time"),
    authors=css(
        "p.author_mail strong", "p.author_mail",
        "article.fck_detail > p[style*='text-align:right'] strong",
        "article.fck_detail > p[style*='text-align:right']", many=True,
    ),
    section=css("ul.breadcrumb > li:last-of-type"),
    captions=css("article.fck_detail figcaption", "article.fck_detail p.Image", many=True),
    drop=(".box-tinlienquanv2", ".footer-content", "#box_comment_vne", ".social_pin", ".list-news-subfolder"),
)

SOURCE = Source(
    name="vnexpress",
    region="national",
    domains=("vnexpress.net",),
    feeds=("https://vnexpress.net/rss/kinh-doanh.rss", "https://vnexpress.net/rss/bat-dong-san.rss"),
    sitemaps=("https://vnexpress.net/google-news-sitemap.xml",),
    listings=(
        Listing("https://vnexpress.net/kinh-doanh", article_links="h3.title-news a[href], h2.title-news a[href]",
                next_page="a.next-page"),
        Listing("https://vnexpress.net/bat-dong-san", article_links="h3.title-news a[href], h2.title-news a[href]",
                next_page="a.next-page"),
    ),
    article_url=regex(r"^https?://vnexpress\.net/[a-z0-9-]+-\d{6,}\.html$"),
    layouts=(LAYOUT,),
    host_aliases=(("www.vnexpress.net", "vnexpress.net"),),
    checked_against_saved_pages=True,
    homepage="https://vnexpress.net/kinh-doanh",
    notes="Tags come from meta keywords (comma separated). The right-aligned last paragraph is the byline.",
)
