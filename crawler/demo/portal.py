"""Template of ``demo_binhduong_portal``: an old-style provincial government portal.

XHTML transitional, layout tables, no JSON-LD or OpenGraph: only ``<title>``,
a description and the canonical link. The photo is a table inside the content
with its caption in the cell under the image (and again as the image ``alt``).
Discovery is by paginated section listings (``?trang=N``, "Trang sau »").
"""

from __future__ import annotations

from crawler.demo.furniture import MEGA_MENU, comment_form, esc, menu, padding, script_block, style_block
from crawler.demo.sites import PORTAL

P = PORTAL.prefix
PER_PAGE = 12
LEFT_MENU = [(P + s.slug, s.label) for s in PORTAL.sections] + [
    (P + "gioi-thieu", "Giới thiệu chung"), (P + "van-ban", "Văn bản chỉ đạo điều hành"),
    (P + "thu-tuc-hanh-chinh", "Thủ tục hành chính"), (P + "lich-cong-tac", "Lịch công tác"),
    (P + "thong-bao", "Thông báo"), (P + "hoi-dap", "Hỏi đáp trực tuyến")]


def _frame(title: str, description: str, canonical: str, crumbs: str, content: str, charset: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{esc(title)}</title>
<meta name="description" content="{esc(description)}" />
<meta name="keywords" content="Bình Dương, cổng thông tin, kinh tế, đầu tư" />
<link rel="canonical" href="{esc(canonical)}" />
<link rel="shortcut icon" href="{P}images/favicon.ico" />
{style_block("portal")}
{script_block("portal")}
</head>
<body>
<div id="wrapper">
<table id="header" width="100%" cellpadding="0" cellspacing="0"><tr>
<td class="logo"><a href="{P}"><img src="{P}images/logo.png" alt="Cổng thông tin điện tử tỉnh Bình Dương" /></a></td>
<td class="banner"><span class="site-name">CỔNG THÔNG TIN ĐIỆN TỬ TỈNH BÌNH DƯƠNG</span><br /><span class="slogan">Binh Duong Provincial Portal</span></td>
<td class="tools"><a href="{P}tim-kiem">Tìm kiếm</a> | <a href="{P}so-do-site">Sơ đồ site</a> | <a href="{P}en">English</a></td>
</tr></table>
<div id="topmenu">{menu([(P, "Trang chủ")] + [(P + "chuyen-muc-" + str(i), t) for i, t in enumerate(MEGA_MENU[:14])], "topnav")}</div>
<div id="breadcrumb">{crumbs}</div>
<table id="main" width="100%" cellpadding="0" cellspacing="0"><tr>
<td id="left" valign="top" width="200"><div class="box-left"><div class="box-title">CHUYÊN MỤC</div>{menu(LEFT_MENU, "leftnav")}</div>
<div class="box-left"><div class="box-title">LIÊN KẾT WEBSITE</div><select onchange="window.open(this.value)"><option>-- Sở, ban, ngành --</option>
{"".join(f'<option value="#so-{i}">Sở {t}</option>' for i, t in enumerate(("Công Thương", "Tài chính", "Xây dựng", "Nông nghiệp và Môi trường", "Nội vụ", "Tư pháp", "Y tế", "Giáo dục và Đào tạo")))}</select></div></td>
<td id="content" valign="top">{content}</td>
<td id="right" valign="top" width="220"><div class="box-right"><div class="box-title">THÔNG TIN CẦN BIẾT</div>
{menu([(P + "thong-tin/" + str(i), t) for i, t in enumerate(("Giá cả thị trường", "Lịch tiếp công dân", "Dự báo thời tiết", "Đường dây nóng", "Thông tin quy hoạch", "Danh bạ điện thoại"))], "rightnav")}</div></td>
</tr></table>
<div id="footer"><p>Bản quyền © 2026 Cổng thông tin điện tử tỉnh Bình Dương. Cơ quan chủ quản: UBND tỉnh Bình Dương.</p>
<p>Địa chỉ: Tầng 16, Tháp A, Trung tâm Hành chính tỉnh, phường Hòa Phú, TP. Thủ Dầu Một. Điện thoại: 0274.3822.xxx</p>
<p>Ghi rõ nguồn "Cổng thông tin điện tử tỉnh Bình Dương" khi phát hành lại thông tin từ website này.</p></div>
{extra}
</div>
</body>
</html>"""


def _crumbs(section_slug: str, section_label: str) -> str:
    return f'<a href="{P}">Trang chủ</a> &raquo; <a href="{P}{section_slug}">{esc(section_label)}</a>'


def _link_list(links, css_class: str, with_date: bool = True) -> str:
    items = "".join(
        f'<li><a href="{esc(h)}">{esc(t)}</a>' + (f' <span class="date">({d:%d/%m/%Y})</span>' if with_date else "") + "</li>"
        for h, t, d in links)
    return f'<ul class="{css_class}">{items}</ul>'


def article_html(art, base: str, related, others, pad: int = 0, charset: str = "utf-8") -> str:
    body_ps = "\n".join(f"<p style=\"text-align: justify;\">{esc(p)}</p>" for p in art.paragraphs)
    if art.credit:
        body_ps += f'\n<p style="text-align: right;"><strong>{esc(art.credit)}</strong></p>'
    photo = ""
    if art.caption:
        photo = (f'<table class="image" align="center" border="0" cellpadding="3" cellspacing="0" width="500"><tr>'
                 f'<td><img src="{P}images/news/{art.article_id}.jpg" width="500" alt="{esc(art.caption)}" /></td></tr>'
                 f'<tr><td class="image-caption"><em>{esc(art.caption)}</em></td></tr></table>')
    authors = "" if art.credit else " - ".join(f'<span class="author">{esc(a)}</span>' for a in art.authors)
    tags = ", ".join(f'<a href="{P}tu-khoa/{i}">{esc(t)}</a>' for i, t in enumerate(art.tags))
    content = f"""<div class="news-detail">
<h1 class="news-title">{esc(art.title)}</h1>
<div class="news-date">{esc(art.date_line)}</div>
<div class="toolbar"><a href="javascript:void(0)" onclick="share()">Chia sẻ</a> | <a href="javascript:window.print()">In bài</a> | <a href="mailto:?subject={esc(art.title)}">Gửi email</a> | Cỡ chữ: <a href="#" onclick="fs(1)">A+</a> <a href="#" onclick="fs(-1)">A-</a></div>
<div class="news-summary"><strong>{esc(art.lead)}</strong></div>
<div class="news-content">
{photo}
{body_ps}
</div>
<div class="news-author">{authors}</div>
<div class="news-tags">Từ khóa: {tags}</div>
</div>
<div class="tin-lien-quan"><div class="box-title">Tin liên quan</div>{_link_list(related, "related")}</div>
{comment_form("Phản hồi", "phan-hoi")}
<div class="tin-khac"><div class="box-title">Các tin khác</div>{_link_list(others, "other-news")}
<div class="xem-them"><a href="{P}{art.section_slug}">Xem thêm</a></div></div>"""
    return _frame(f"{art.title} - Cổng thông tin điện tử tỉnh Bình Dương", art.lead, base + art.path,
                  _crumbs(art.section_slug, art.section), content, charset, padding(pad, art.article_id))


def listing_html(base: str, section, page: int, last: int, items, extra_items=()) -> str:
    """``items``: (path, title, local time, lead, alias path or None)."""
    rows = []
    for h, t, d, lead, alias in list(extra_items) + list(items):
        more = f' <a class="xem-them" href="{esc(alias)}">Xem thêm</a>' if alias else ""
        rows.append(f'<tr><td class="list-item"><a class="title" href="{esc(h)}">{esc(t)}</a>'
                    f' <span class="date">({d:%d/%m/%Y %H:%M})</span><p class="sapo">{esc(lead)}</p>{more}</td></tr>')
    url = f"{P}{section.slug}"
    nav = []
    if page > 1:
        nav.append(f'<a href="{url}?trang={page - 1}">« Trang trước</a>')
    for n in range(max(1, page - 3), min(last, page + 3) + 1):
        nav.append(f"<b>{n}</b>" if n == page else f'<a href="{url}?trang={n}">{n}</a>')
    if page < last:
        nav.append(f'<a class="next" href="{url}?trang={page + 1}" title="Trang sau">Trang sau »</a>')
    content = (f'<div class="list-title">{esc(section.label)}</div><table class="list-news" width="100%">{"".join(rows)}</table>'
               f'<div class="paging">{" ".join(nav)}</div>'
               f'<div class="search-link"><a href="{P}tim-kiem?tukhoa=khu+cong+nghiep">Tìm kiếm nâng cao</a></div>')
    canonical = base + url + (f"?trang={page}" if page > 1 else "")
    return _frame(f"{section.label} - Trang {page} - Cổng thông tin điện tử tỉnh Bình Dương", section.label, canonical,
                  _crumbs(section.slug, section.label), content, "utf-8")


def simple_html(base: str, path: str, title: str, links, intro: str = "") -> str:
    """Home, search and keyword pages: a heading and a list of links."""
    content = f'<div class="list-title">{esc(title)}</div><p>{esc(intro)}</p>{_link_list(links, "list-simple")}'
    return _frame(f"{title} - Cổng thông tin điện tử tỉnh Bình Dương", title, base + path,
                  f'<a href="{P}">Trang chủ</a> &raquo; {esc(title)}', content, "utf-8")
