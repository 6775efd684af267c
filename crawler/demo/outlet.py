"""Template of ``demo_kinhte``: a national economic outlet.

Modern markup with JSON-LD ``NewsArticle`` (and ``BreadcrumbList``),
OpenGraph, a ``<time datetime>`` carrying the date line, the photo caption in a
``div.caption`` and again in a gallery strip under the article. Discovery is by
a sitemap index with monthly sitemaps and a Google News sitemap (``feeds.py``).
"""

from __future__ import annotations

import json
from datetime import timedelta

from crawler.demo.corpus import slugify
from crawler.demo.furniture import MEGA_MENU, comment_form, esc, menu, padding, script_block, style_block
from crawler.demo.sites import OUTLET

P = OUTLET.prefix
NAV = [(P, "Trang chủ")] + [(f"{P}{s.slug}.htm", s.label) for s in OUTLET.sections] + \
      [(f"{P}muc/{i}.htm", t) for i, t in enumerate(MEGA_MENU)]


def _frame(title: str, head_meta: str, content: str, charset: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="{charset.upper()}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{esc(title)}</title>
{head_meta}
{style_block("outlet", 380)}
{script_block("outlet", 60)}
</head>
<body>
<div class="top-bar"><span>Kinh tế Việt - Thông tin kinh tế, tài chính, đầu tư</span> <a href="{P}dang-nhap.htm">Đăng nhập</a></div>
<header class="header"><a class="logo" href="{P}"><img src="{P}img/logo.png" alt="Kinh tế Việt"></a>
<nav class="menu">{menu(NAV, "menu__list")}</nav></header>
{content}
<footer class="footer"><div class="footer__nav">{menu(NAV[:12], "footer__list")}</div>
<p>Copyright © 2026 Kinh tế Việt. Giấy phép hoạt động báo điện tử số 456/GP-BTTTT.</p>
<p>Trụ sở: số 10 đường Tràng Thi, Hà Nội. Văn phòng đại diện phía Nam: số 5 đường Nguyễn Huệ, TP.HCM.</p>
<p>Không được sao chép, phát hành lại nội dung khi chưa có sự đồng ý bằng văn bản của Kinh tế Việt.</p></footer>
{extra}
</body>
</html>"""


def _jsonld(art, base: str, video: bool) -> str:
    url = base + art.path
    published = f"{art.published_local:%Y-%m-%dT%H:%M:%S}+07:00"
    modified = published
    if art.modified_utc:
        modified = f"{(art.modified_utc + timedelta(hours=7)):%Y-%m-%dT%H:%M:%S}+07:00"
    if video:
        doc = {"@context": "https://schema.org", "@type": "VideoObject", "name": art.title,
               "description": art.lead, "uploadDate": published, "thumbnailUrl": f"{base}{P}img/video.jpg",
               "contentUrl": f"{base}{P}media/{art.article_id}.mp4"}
    else:
        doc = {"@context": "https://schema.org", "@type": "NewsArticle",
               "mainEntityOfPage": {"@type": "WebPage", "@id": url},
               "headline": art.title, "description": art.lead, "datePublished": published, "dateModified": modified,
               "author": [{"@type": "Person", "name": a} for a in art.authors],
               "publisher": {"@type": "Organization", "name": "Kinh tế Việt",
                             "logo": {"@type": "ImageObject", "url": f"{base}{P}img/logo.png"}},
               "articleSection": art.section, "keywords": ", ".join(art.tags),
               "image": [f"{base}{P}img/{art.article_id}.jpg"]}
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Trang chủ", "item": base + P},
        {"@type": "ListItem", "position": 2, "name": art.section, "item": f"{base}{P}{art.section_slug}.htm"}]}
    return "\n".join(f'<script type="application/ld+json">{json.dumps(d, ensure_ascii=False)}</script>'
                     for d in (doc, crumbs))


def _meta(art, base: str, video: bool) -> str:
    url = base + art.path
    return "\n".join([
        f'<meta name="description" content="{esc(art.lead)}">',
        f'<meta name="keywords" content="{esc(", ".join(art.tags))}">',
        f'<link rel="canonical" href="{esc(url)}">',
        f'<meta property="og:type" content="{"video.other" if video else "article"}">',
        f'<meta property="og:title" content="{esc(art.title)}">',
        f'<meta property="og:description" content="{esc(art.lead)}">',
        f'<meta property="og:url" content="{esc(url)}">',
        '<meta property="og:site_name" content="Kinh tế Việt">',
        _jsonld(art, base, video),
    ])


def article_html(art, base: str, related, others, pad: int = 0, charset: str = "utf-8") -> str:
    video = art.kind == "video"
    ps = "\n".join(f"<p>{esc(p)}</p>" for p in art.paragraphs)
    if art.credit:
        ps += f'\n<p class="text-right"><strong>{esc(art.credit)}</strong></p>'
    photo = gallery = ""
    if video:
        photo = (f'<div class="video-player" data-src="{P}media/{art.article_id}.mp4"><video controls '
                 f'poster="{P}img/video.jpg"></video></div>')
    elif art.caption:
        photo = (f'<div class="photo"><img src="{P}img/{art.article_id}.jpg" alt="Ảnh minh họa" width="680">'
                 f'<div class="caption">{esc(art.caption)}</div></div>')
        gallery = (f'<div class="gallery-strip"><a href="{P}anh/{art.article_id}.htm"><img src="{P}img/{art.article_id}-t.jpg" '
                   f'alt=""><span>{esc(art.caption)}</span></a></div>')
    authors = "" if art.credit else ", ".join(
        f'<a class="author" href="{P}tac-gia/{_slug(a)}.htm">{esc(a)}</a>' for a in art.authors)
    tags = "".join(f'<a class="tag" href="{P}chu-de/{esc(_slug(t))}.htm">{esc(t)}</a>' for t in art.tags)
    rel = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t, _ in related)
    more = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a> <span class="time">{d:%H:%M %d/%m}</span></li>'
                   for h, t, d in others)
    content = f"""<div class="breadcrumbs"><a href="{P}">Trang chủ</a> / <a href="{P}{art.section_slug}.htm">{esc(art.section)}</a></div>
<div class="detail">
<div class="detail__cate"><a href="{P}{art.section_slug}.htm">{esc(art.section)}</a></div>
<h1 class="detail__title">{esc(art.title)}</h1>
<div class="detail__meta"><time class="detail__time" datetime="{art.published_local:%Y-%m-%dT%H:%M:%S}+07:00">{esc(art.date_line)}</time>
<span class="detail__author">{authors}</span></div>
<div class="detail__sapo">{esc(art.lead)}</div>
<div class="detail__content">
{photo}
{ps}
</div>
{gallery}
<div class="detail__tags">{tags}</div>
<div class="detail__share"><a href="#">Chia sẻ</a> <a href="javascript:window.print()">In bài</a> <a href="mailto:?">Gửi email</a></div>
<div class="box-related"><h3>Tin liên quan</h3><ul>{rel}</ul></div>
{comment_form("Ý kiến bạn đọc", "box-comment")}
<div class="box-other"><h3>Các tin khác</h3><ul>{more}</ul><a class="more" href="{P}{art.section_slug}.htm">Xem thêm</a></div>
</div>"""
    return _frame(f"{art.title} - Kinh tế Việt", _meta(art, base, video), content, charset, padding(pad, art.article_id))


def list_html(base: str, path: str, title: str, links) -> str:
    items = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a> <span class="time">{d:%d/%m/%Y}</span></li>' for h, t, d in links)
    meta = f'<link rel="canonical" href="{esc(base + path)}">\n<meta property="og:type" content="website">'
    content = f'<div class="list-page"><h1>{esc(title)}</h1><ul class="list">{items}</ul></div>'
    return _frame(f"{title} - Kinh tế Việt", meta, content, "utf-8")


def _slug(tag: str) -> str:
    return slugify(tag)
