"""The three bundled demo sites (served by ``crawler/demo/server.py``; ``{base}`` is its URL).

Each discovers articles a different way (listing pages, RSS feeds, a sitemap
index with a Google News sitemap) and has its own template; the field rules
below are checked against the demo world's ground truth in the tests.
"""

from crawler.demo.timeline import timeline
from crawler.sources.base import Layout, Listing, Source, css, path_regex

STRIP = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "zarsrc")
# the newspaper's monthly feeds are named after the months the demo world is dated in: the months
# before DEMO_TODAY (or today), the same the demo server computes (crawler/demo/timeline.py)
_MONTHS = timeline().month_names()

PORTAL = Source(
    name="demo_binhduong_portal",
    region="binh_duong",
    domains=("{base}",),
    homepage="{base}/binhduong-portal/",
    listings=tuple(
        Listing(url=f"{{base}}/binhduong-portal/{section}", article_links="td.list-item a",
                next_page="div.paging a.next", max_pages=2000)
        for section in ("kinh-te", "dau-tu-phat-trien")),
    article_url=path_regex(r"^/binhduong-portal/[a-z0-9-]+/[a-z0-9-]+-\d{7}\.html/?$"),
    strip_params=STRIP,
    allow_private=True,
    layouts=(Layout(
        title=css("h1.news-title"),
        lead=css("div.news-summary"),
        body=css("div.news-content > p", many=True),
        authors=css("div.news-author span.author", many=True),
        section=css("#breadcrumb a:last-child"),
        tags=css("div.news-tags a", many=True),
        published=css("div.news-date"),
        canonical_url=css('link[rel="canonical"]', attr="href"),
        captions=css("td.image-caption", many=True),
        drop=(".toolbar", ".tin-lien-quan", ".phan-hoi", ".tin-khac", "#left", "#right", "#footer", "#topmenu"),
    ),),
    notes="Old government portal: listing pages only, no metadata; one article is served as windows-1258.",
)

NEWSPAPER = Source(
    name="demo_baobinhduong",
    region="binh_duong",
    domains=("{base}",),
    homepage="{base}/baobinhduong/",
    feeds=("{base}/baobinhduong/rss/tin-moi.rss",)
    + tuple(f"{{base}}/baobinhduong/rss/{s}.rss" for s in ("kinh-te", "doanh-nghiep", "nong-nghiep"))
    + tuple(f"{{base}}/baobinhduong/rss/{s}/{m}.rss" for s in ("kinh-te", "doanh-nghiep", "nong-nghiep")
            for m in _MONTHS),
    article_url=path_regex(r"^/baobinhduong/[a-z0-9-]+/[a-z0-9-]+-a\d{7}\.html/?$"),
    strip_params=STRIP,
    allow_private=True,
    layouts=(Layout(
        title=css("h1.article__title"),
        lead=css("h2.article__sapo"),
        body=css("div.article__body > p:not(.article__author)", many=True),
        authors=css("p.article__author strong", many=True),
        section=css("nav.breadcrumb li:last-child a"),
        tags=css("div.article__tags a", many=True),
        published=css("span.article__date"),
        modified=css('meta[property="article:modified_time"]', attr="content"),
        canonical_url=css('link[rel="canonical"]', attr="href"),
        captions=css("figure.article__figure figcaption", many=True),
        drop=(".share-bar", ".related-inline", ".comments", ".more-news", ".sidebar", ".site-header",
              ".site-footer"),
    ),),
    notes="Provincial newspaper: RSS per section and month; related box inside the body; one page lies "
          "about its charset.",
)

OUTLET = Source(
    name="demo_kinhte",
    region="national",
    domains=("{base}",),
    homepage="{base}/kinhte/",
    sitemaps=("{base}/kinhte/sitemap.xml",),
    article_url=path_regex(r"^/kinhte/[a-z0-9-]+/[a-z0-9-]+-\d{7}\.htm/?$"),
    strip_params=STRIP,
    allow_private=True,
    layouts=(Layout(
        title=css("h1.detail__title"),
        lead=css("div.detail__sapo"),
        body=css("div.detail__content > p", many=True),
        authors=css("span.detail__author a.author", many=True),
        section=css("div.detail__cate a"),
        tags=css("div.detail__tags a", many=True),
        published=css("time.detail__time"),
        canonical_url=css('link[rel="canonical"]', attr="href"),
        captions=css("div.detail__content div.caption", many=True),
        drop=(".gallery-strip", ".detail__share", ".box-related", ".box-comment", ".box-other", "header.header",
              "footer.footer", ".top-bar"),
    ),),
    notes="National outlet: sitemap index (monthly + Google News), JSON-LD NewsArticle; caption repeated "
          "in a gallery strip.",
)

SOURCES = (PORTAL, NEWSPAPER, OUTLET)
