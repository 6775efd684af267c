"""Template of ``demo_baobinhduong``: a provincial newspaper.

HTML5 with OpenGraph and ``article:published_time``; no JSON-LD. The photo is a
``<figure>``/``<figcaption>`` (caption repeated in the image ``alt`` and
``title``); the "Tin liên quan" box sits INSIDE ``div.article__body`` between
paragraphs, and the byline is the last paragraph of the body. Discovery is by
RSS 2.0 feeds (see ``feeds.py``).
"""

from __future__ import annotations

from datetime import timedelta, timezone

from crawler.demo.corpus import slugify
from crawler.demo.furniture import MEGA_MENU, comment_form, esc, menu, padding, script_block, style_block
from crawler.demo.sites import NEWSPAPER

P = NEWSPAPER.prefix
_TZ = timezone(timedelta(hours=7))
NAV = [(P, "Trang chủ")] + [(f"{P}{s.slug}/", s.label) for s in NEWSPAPER.sections] + \
      [(f"{P}chuyen-muc/{i}/", t) for i, t in enumerate(MEGA_MENU[:18])]


def _frame(title: str, head_meta: str, crumbs, content: str, charset: str, extra: str = "") -> str:
    crumb_html = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in crumbs)
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="{charset}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head_meta}
<link rel="alternate" type="application/rss+xml" title="Báo Bình Dương - Tin mới" href="{P}rss/tin-moi.rss">
{style_block("newspaper", 320)}
{script_block("newspaper", 55)}
</head>
<body class="bbd">
<header class="site-header">
<div class="topbar"><span class="today">Báo Bình Dương điện tử</span> <a href="{P}rss/">RSS</a> <a href="{P}lien-he/">Liên hệ quảng cáo</a></div>
<a class="logo" href="{P}"><img src="{P}static/logo.svg" alt="Báo Bình Dương"></a>
<form class="search" action="{P}tim-kiem" method="get"><input name="q" placeholder="Tìm kiếm"><button>Tìm</button></form>
<nav class="main-nav">{menu(NAV, "nav")}</nav>
</header>
<nav class="breadcrumb" aria-label="breadcrumb"><ol>{crumb_html}</ol></nav>
<main class="container">
{content}
<aside class="sidebar"><div class="box most-read"><h3>Đọc nhiều</h3></div>
<div class="ad ad-300x600" id="ad-sidebar"></div></aside>
</main>
<footer class="site-footer">
<p>© Bản quyền thuộc Báo Bình Dương. Giấy phép số 123/GP-BTTTT.</p>
<p>Tổng Biên tập: Nguyễn Văn Hòa. Tòa soạn: số 1 đường Cách Mạng Tháng Tám, TP. Thủ Dầu Một, Bình Dương.</p>
<p>Ghi rõ nguồn "Báo Bình Dương" khi phát hành lại thông tin từ website này.</p>
</footer>
{extra}
</body>
</html>"""


def _meta(art, base: str, og_type: str = "article") -> str:
    url = base + art.path
    lines = [
        f'<meta name="description" content="{esc(art.lead)}">',
        f'<link rel="canonical" href="{esc(url)}">',
        f'<meta property="og:type" content="{og_type}">',
        '<meta property="og:site_name" content="Báo Bình Dương">',
        f'<meta property="og:title" content="{esc(art.title)}">',
        f'<meta property="og:description" content="{esc(art.lead)}">',
        f'<meta property="og:url" content="{esc(url)}">',
        f'<meta property="og:image" content="{base}{P}uploads/2026/{art.article_id}.jpg">',
        f'<meta property="article:published_time" content="{art.published_local:%Y-%m-%dT%H:%M:%S}+07:00">',
        f'<meta property="article:section" content="{esc(art.section)}">',
    ]
    if art.modified_utc:
        local = art.modified_utc.astimezone(_TZ)
        lines.append(f'<meta property="article:modified_time" content="{local:%Y-%m-%dT%H:%M:%S}+07:00">')
    lines += [f'<meta property="article:tag" content="{esc(t)}">' for t in art.tags]
    return "\n".join(lines)


def _related_box(related) -> str:
    items = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t, _ in related)
    return f'<div class="related-inline"><h4>Tin liên quan</h4><ul>{items}</ul></div>'


def article_html(art, base: str, related, others, pad: int = 0, charset: str = "utf-8") -> str:
    ps = [f"<p>{esc(p)}</p>" for p in art.paragraphs]
    ps.insert(min(2, len(ps) - 1), _related_box(related))
    if art.credit:
        ps.append(f'<p style="text-align:right"><strong>{esc(art.credit)}</strong></p>')
    else:
        ps.append('<p class="article__author">' + ", ".join(f"<strong>{esc(a)}</strong>" for a in art.authors) + "</p>")
    figure = ""
    if art.caption:
        figure = (f'<figure class="article__figure"><img src="{P}uploads/2026/{art.article_id}.jpg" '
                  f'alt="{esc(art.caption)}" title="{esc(art.caption)}" width="780"><figcaption>{esc(art.caption)}</figcaption></figure>')
    tags = " ".join(f'<a href="{P}tag/{esc(_tag_slug(t))}">{esc(t)}</a>' for t in art.tags)
    more = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a><time>{d:%d/%m/%Y}</time></li>' for h, t, d in others)
    content = f"""<article class="article">
<h1 class="article__title">{esc(art.title)}</h1>
<div class="article__meta"><span class="article__date">{esc(art.date_line)}</span>
<div class="share-bar"><span>Chia sẻ</span> <a class="fb" href="#">Facebook</a> <a class="zalo" href="#">Zalo</a> <a href="javascript:window.print()">In bài</a> <a href="mailto:?subject=bai-viet">Gửi email</a></div></div>
<h2 class="article__sapo">{esc(art.lead)}</h2>
<div class="article__body">
{figure}
{chr(10).join(ps)}
</div>
<div class="article__tags"><span>Từ khóa:</span> {tags}</div>
</article>
{comment_form("Ý kiến bạn đọc", "comments")}
<section class="more-news"><h3>Các tin khác</h3><ul>{more}</ul><a class="view-more" href="{P}{art.section_slug}/">Xem thêm</a></section>"""
    crumbs = [(P, "Trang chủ"), (f"{P}{art.section_slug}/", art.section)]
    return _frame(f"{art.title} | Báo Bình Dương", _meta(art, base), crumbs, content, charset, padding(pad, art.article_id))


def list_html(base: str, path: str, title: str, links) -> str:
    """Section, tag, search and home pages: a heading and a list of links."""
    items = "".join(f'<li class="item"><a href="{esc(h)}">{esc(t)}</a> <time>{d:%d/%m/%Y %H:%M}</time></li>'
                    for h, t, d in links)
    meta = (f'<link rel="canonical" href="{esc(base + path)}">\n<meta property="og:type" content="website">\n'
            f'<meta property="og:title" content="{esc(title)}">')
    content = f'<section class="list"><h1>{esc(title)}</h1><ul>{items}</ul></section>'
    return _frame(f"{title} | Báo Bình Dương", meta, [(P, "Trang chủ")], content, "utf-8")


def _tag_slug(tag: str) -> str:
    return slugify(tag)

