"""Page furniture shared by the demo templates: inline styles and scripts, padding, escaping.

Real Vietnamese news pages weigh 60-300 KB, most of it menus, inline CSS,
analytics and ad scripts. These helpers make the demo pages just as noisy and
heavy, deterministically (a function of the site name and the article id).
"""

from __future__ import annotations

import html
import random
from functools import lru_cache

esc = html.escape

_PROPS = ("margin:0 auto", "padding:4px 8px", "color:#1a1a1a", "font-size:14px", "line-height:1.6",
          "border-bottom:1px solid #e5e5e5", "display:flex", "background:#f7f7f7", "text-decoration:none",
          "font-weight:700", "float:left", "width:100%", "max-width:1140px", "position:relative", "overflow:hidden")


@lru_cache(maxsize=8)
def style_block(site: str, rules: int = 260) -> str:
    """A long inline stylesheet, different per site."""
    rng = random.Random(f"css:{site}")
    parts = [f"/* {site} theme, generated */"]
    for i in range(rules):
        sel = f".{site[:3]}-{rng.choice(('box', 'nav', 'item', 'col', 'ttl', 'img', 'ad', 'ft'))}-{i}"
        props = ";".join(rng.sample(_PROPS, rng.randint(2, 5)))
        parts.append(f"{sel}{{{props}}}")
    return "<style type=\"text/css\">\n" + "\n".join(parts) + "\n</style>"


@lru_cache(maxsize=8)
def script_block(site: str, slots: int = 40) -> str:
    """Analytics and ad-slot configuration, the way news sites inline them."""
    rng = random.Random(f"js:{site}")
    slot_defs = ",\n".join(
        f'  {{"id":"ad-{site}-{i}","size":[{rng.choice((300, 728, 970))},{rng.choice((90, 250, 600))}],'
        f'"zone":"{rng.randrange(10**7, 10**8)}","lazy":{str(rng.random() < 0.5).lower()}}}'
        for i in range(slots))
    return (
        "<script type=\"text/javascript\">\n"
        "window.dataLayer = window.dataLayer || [];\n"
        "function gtag(){dataLayer.push(arguments);}\n"
        f"gtag('js', new Date()); gtag('config', 'G-{rng.randrange(10**9, 10**10)}');\n"
        f"var adSlots = [\n{slot_defs}\n];\n"
        "(function(){var d=document,s=d.createElement('script');s.async=true;"
        "s.src='/static/ads.js?v=20261101';d.getElementsByTagName('head')[0].appendChild(s);})();\n"
        "</script>"
    )


@lru_cache(maxsize=1)
def _pad_pool() -> str:
    rng = random.Random("pad")
    words = ("var", "function", "return", "adSlot", "googletag", "display", "push", "cmd", "sizeMapping",
             "addSize", "build", "defineSlot", "setTargeting", "zone", "banner", "true", "false", "null",
             "window", "document", "querySelector", "lazyload", "tin", "moi", "kinh", "te", "doanh", "nghiep",
             "binh", "duong", "dau", "tu", "xuat", "khau", "ngan", "hang", "khu", "cong", "nghiep")
    out, size = [], 0
    while size < (1 << 17):
        token = rng.choice(words) + rng.choice(("(", ".", ",", ":", "=", ";", " ", "_")) + \
            (str(rng.randrange(10**6)) if rng.random() < 0.3 else "")
        out.append(token)
        size += len(token)
    return "".join(out)


def padding(nbytes: int, key: int) -> str:
    """``nbytes`` of inline ad-script payload (compresses like real scripts do), varied by ``key``."""
    if nbytes <= 0:
        return ""
    pool = _pad_pool()
    start = (key * 7919) % len(pool)
    text = (pool[start:] + pool[:start]) * (nbytes // len(pool) + 1)
    return ('<script type="text/plain" id="ad-payload">' + text[:nbytes] + "</script>")


SHARE_LABELS = ("Chia sẻ", "In bài", "Gửi email")


def comment_form(heading: str, css_class: str) -> str:
    return (f'<div class="{css_class}"><h3>{esc(heading)}</h3>'
            '<form method="post" action="#"><p><label>Họ và tên</label><input type="text" name="hoten"/></p>'
            '<p><label>Email</label><input type="email" name="email"/></p>'
            '<p><label>Nội dung</label><textarea name="noidung" rows="5"></textarea></p>'
            '<p class="note">Ý kiến của bạn sẽ được biên tập trước khi đăng. Xin vui lòng gõ tiếng Việt có dấu.</p>'
            '<p><button type="submit">Gửi ý kiến</button></p></form></div>')


def menu(links, css_class: str) -> str:
    items = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in links)
    return f'<ul class="{css_class}">{items}</ul>'


MEGA_MENU = ("Thời sự", "Chính trị", "Kinh tế", "Đầu tư", "Doanh nghiệp", "Nông nghiệp", "Xã hội", "Giáo dục",
             "Y tế", "Pháp luật", "Văn hóa", "Thể thao", "Quốc tế", "Đô thị", "Bất động sản", "Du lịch",
             "Khoa học - Công nghệ", "Chuyển đổi số", "Bạn đọc", "Multimedia", "Video", "Ảnh", "Infographic",
             "Podcast", "Đời sống", "Môi trường", "Lao động - Việc làm", "Giao thông", "Tài chính", "Chứng khoán")
