"""URL routing of the demo server: a request target in, ``Rendered(status, headers, body)`` out.

Everything is rendered on request from the world's article index; nothing is
kept but small caches. Transport-level misbehaviour (truncation, resets,
faults) is the server's business, not this module's.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from urllib.parse import parse_qs, urlsplit

from crawler.demo import feeds, newspaper, outlet, portal
from crawler.demo.model import ALIAS_QUERY, Rendered
from crawler.demo.sites import NEWSPAPER, OUTLET, PORTAL, SITES

TEMPLATES = (portal, newspaper, outlet)
HTML = "text/html; charset=utf-8"
FEED_LATEST = 200          # items in a section feed; monthly feeds hold everything
SITEMAP_PART = 5000        # URLs per monthly sitemap part
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def _ok(body, ctype=HTML, status=200) -> Rendered:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Rendered(status, {"Content-Type": ctype, "Cache-Control": "max-age=60"}, data)


def _not_found() -> Rendered:
    return _ok("<!doctype html><html><head><title>404 - Không tìm thấy trang</title></head>"
               "<body><h1>Không tìm thấy trang</h1><p>Trang bạn yêu cầu không tồn tại hoặc đã bị xóa.</p></body></html>",
               status=404)


def robots(base: str, forbid: tuple[str, ...] = ()) -> Rendered:
    lines = ["User-agent: *"] + [f"Disallow: {p}" for p in forbid] + ["Allow: /", "",
                                                                       f"Sitemap: {base}/kinhte/sitemap.xml", ""]
    return _ok("\n".join(lines), "text/plain; charset=utf-8")


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes: base letters precomposed where the code page has them, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in decomposed if c not in "\u0300\u0301\u0303\u0309\u0323")
        tones = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
        out.append((unicodedata.normalize("NFC", base) + tones).encode("cp1258", errors="xmlcharrefreplace"))
    return b"".join(out)


def links(world, si: int, ks) -> list:
    return [(world.link_path(si, k), world.head(si, k)["title"], world.local_time(si, k)) for k in ks]


def _neighbours(world, si: int, k: int):
    order, pos = world.order[si], world.rank[si][k]
    n = len(order)
    sec = world.section[si][k]
    window = [order[(pos + d) % n] for d in range(1, 60) if (pos + d) % n != pos]
    related = [x for x in window if world.section[si][x] == sec][:3]
    others = [x for x in window if x not in related][:8]
    return links(world, si, related), links(world, si, others)


def article_page(world, art, si: int, related, others, base: str) -> Rendered:
    tpl = TEMPLATES[si]
    if art.charset == "windows-1258":
        html = tpl.article_html(art, base, related, others, world.pad, charset="windows-1258")
        return Rendered(200, {"Content-Type": "text/html; charset=windows-1258"}, to_cp1258(html))
    if art.charset == "lying":
        html = tpl.article_html(art, base, related, others, world.pad, charset="iso-8859-1")
        return Rendered(200, {"Content-Type": "text/html; charset=iso-8859-1"}, html.encode("utf-8"))
    return _ok(tpl.article_html(art, base, related, others, world.pad))


def render(world, target: str, base: str) -> Rendered:
    parts = urlsplit(target)
    path, query = parts.path or "/", parse_qs(parts.query)
    if path == "/robots.txt":
        return robots(base)
    if path == "/":
        return _ok("<!doctype html><html><head><meta charset='utf-8'><title>Demo news sites</title></head><body><ul>"
                   + "".join(f'<li><a href="{s.prefix}">{s.display}</a></li>' for s in SITES) + "</ul></body></html>")
    if path.endswith((".jpg", ".png", ".gif", ".svg", ".ico")):
        return Rendered(200, {"Content-Type": "image/gif"}, GIF)
    trap = world.trap_by_path.get(path.rstrip("/"))
    if trap is not None:
        return _trap(world, trap, base)
    found = world.locate(path)
    if found:
        si, k = found
        return article_page(world, world.article(si, k), si, *_neighbours(world, si, k), base)
    if path.startswith(PORTAL.prefix[:-1]):
        return _portal(world, path, query, base)
    if path.startswith(NEWSPAPER.prefix[:-1]):
        return _newspaper(world, path, base)
    if path.startswith(OUTLET.prefix[:-1]):
        return _outlet(world, path, base)
    return _not_found()


def _trap(world, trap, base: str) -> Rendered:
    if trap.status == 404:
        return _not_found()
    if trap.status == 500:
        return _ok("<html><body><h1>500 Internal Server Error</h1><p>Lỗi hệ thống, vui lòng thử lại sau.</p></body></html>",
                   status=500)
    si = trap.si
    latest = links(world, si, world.order[si][:20])
    if trap.article is not None:
        return article_page(world, trap.article, si, latest[:3], latest[3:11], base)
    if trap.name == "search_page":
        return _ok(portal.simple_html(base, trap.path, "Kết quả tìm kiếm", latest, "Từ khóa: khu công nghiệp"))
    tpl = TEMPLATES[si]
    return _ok(tpl.list_html(base, trap.path, trap.title, latest))


# ---------------------------------------------------------------------- portal: listings


def _portal(world, path: str, query, base: str) -> Rendered:
    rest = path[len(PORTAL.prefix):].strip("/")
    si = 0
    if rest == "":
        return _ok(portal.simple_html(base, PORTAL.prefix, "Tin mới nhất", links(world, si, world.order[si][:20])))
    if rest.startswith("tu-khoa/") or rest == "tim-kiem":
        return _ok(portal.simple_html(base, path, "Tin theo từ khóa", links(world, si, world.order[si][:10])))
    for s_idx, section in enumerate(PORTAL.sections):
        if rest == section.slug:
            ks = world.sec_order[si][s_idx]
            last = max(1, -(-len(ks) // portal.PER_PAGE))
            try:
                page = int(query.get("trang", ["1"])[0])
            except ValueError:
                return _not_found()
            if not 1 <= page <= last:
                return _not_found()
            chunk = ks[(page - 1) * portal.PER_PAGE: page * portal.PER_PAGE]
            items = [(world.path_of(si, k), world.head(si, k)["title"], world.local_time(si, k), world.head(si, k)["lead"],
                      world.path_of(si, k) + ALIAS_QUERY if world.is_alias(si, k) else None) for k in chunk]
            extra = []
            if page == 1 and s_idx == 0:
                for name in ("short_page", "server_error"):
                    t = world.trap_page(name)
                    extra.append((t.path, t.title, t.local, t.article.lead, None))
            return _ok(portal.listing_html(base, section, page, last, items, extra))
    return _not_found()


# ---------------------------------------------------------------------- newspaper: feeds


def _month_slice(world, si: int, ks: list, mi: int) -> list:
    """The part of ``ks`` (newest first) published in month ``mi`` of ``world.months``."""
    minute, months = world.minute[si], world.months
    lo = bisect_left(ks, -months[mi + 1][2] * 1440 + 1, key=lambda k: -minute[k])
    hi = bisect_left(ks, -months[mi][2] * 1440 + 1, key=lambda k: -minute[k])
    return ks[lo:hi]


def _feed_items(world, si: int, ks, base: str, alias: bool) -> list:
    out = []
    for k in ks:
        h = world.head(si, k)
        path = world.path_of(si, k)
        if alias and world.is_alias(si, k):
            path += ALIAS_QUERY
        out.append((base + path, h["title"], world.local_time(si, k), h["lead"]))
    return out


def _trap_items(world, names, base: str) -> list:
    out = []
    for name in names:
        t = world.trap_page(name)
        out.append((base + t.link, t.title, t.local, t.article.lead if t.article else t.title))
    return out


def _newspaper(world, path: str, base: str) -> Rendered:
    rest = path[len(NEWSPAPER.prefix):].strip("/")
    si, P = 1, NEWSPAPER.prefix
    rss_type = "application/rss+xml; charset=utf-8"
    if rest == "":
        return _ok(newspaper.list_html(base, P, "Tin mới", links(world, si, world.order[si][:30])))
    if rest == "rss/tin-moi.rss":
        items = _trap_items(world, ("not_found", "truncated", "tag_page"), base) + \
            _feed_items(world, si, world.order[si][:50], base, False)
        return _ok(feeds.rss("Báo Bình Dương - Tin mới", base + P, "Tin mới nhất", items), rss_type)
    if rest == "rss":
        feed_links = [(f"{P}rss/{u}", u, world.local_time(si, world.order[si][0])) for u in feed_paths(world, short=True)]
        return _ok(newspaper.list_html(base, path, "RSS", feed_links))
    if rest.startswith("tag/"):
        return _ok(newspaper.list_html(base, path, "Chủ đề", links(world, si, world.order[si][:20])))
    if rest == "tim-kiem":
        return _ok(newspaper.list_html(base, path, "Tìm kiếm", links(world, si, world.order[si][:20])))
    for s_idx, section in enumerate(NEWSPAPER.sections):
        ks = world.sec_order[si][s_idx]
        traps = ("not_found", "truncated") if s_idx == 0 else ()
        if rest == section.slug:
            return _ok(newspaper.list_html(base, path, section.label, links(world, si, ks[:30])))
        if rest == f"rss/{section.slug}.rss":
            items = _trap_items(world, traps, base) + _feed_items(world, si, ks[:FEED_LATEST], base, False)
            return _ok(feeds.rss(f"Báo Bình Dương - {section.label}", base + P + section.slug + "/", section.label, items),
                       rss_type)
        for mi, (y, m, _) in enumerate(world.months[:-1]):
            if rest == f"rss/{section.slug}/{y}-{m:02d}.rss":
                items = _feed_items(world, si, _month_slice(world, si, ks, mi), base, True)
                if mi == len(world.months) - 2:
                    items = _trap_items(world, traps, base) + items
                return _ok(feeds.rss(f"Báo Bình Dương - {section.label} - {m:02d}/{y}", base + P + section.slug + "/",
                                     section.label, items), rss_type)
    return _not_found()


def feed_paths(world, short: bool = False) -> list[str]:
    """Feed paths below ``/baobinhduong/rss/`` (what the source declares)."""
    out = ["tin-moi.rss"] + [f"{s.slug}.rss" for s in NEWSPAPER.sections]
    if not short:
        out += [f"{s.slug}/{y}-{m:02d}.rss" for s in NEWSPAPER.sections for y, m, _ in world.months[:-1]]
    return out


# ---------------------------------------------------------------------- outlet: sitemaps


def sitemap_parts(world) -> list[tuple[str, int, int, object]]:
    """(file name, month index, part number, newest local time in it) of every monthly sitemap."""
    out = []
    for mi, (y, m, _) in enumerate(world.months[:-1]):
        ks = _month_slice(world, 2, world.order[2], mi)
        for part in range(1, max(1, -(-len(ks) // SITEMAP_PART)) + 1):
            first = ks[(part - 1) * SITEMAP_PART: (part - 1) * SITEMAP_PART + 1]
            newest = world.local_time(2, first[0]) if first else None
            if mi == len(world.months) - 2 and part == 1:         # the trap pages listed there are newer
                newest = max(filter(None, (newest, world.trap_page("topic_page").local)))
            out.append((f"{y}-{m:02d}.xml" if part == 1 else f"{y}-{m:02d}-{part}.xml", mi, part, newest))
    return out


def _outlet(world, path: str, base: str) -> Rendered:
    rest = path[len(OUTLET.prefix):].strip("/")
    si, P = 2, OUTLET.prefix
    xml = "application/xml; charset=utf-8"
    newest = world.local_time(si, world.order[si][0])
    if rest == "":
        return _ok(outlet.list_html(base, P, "Tin mới nhất", links(world, si, world.order[si][:30])))
    if rest == "sitemap.xml":
        entries = [(f"{base}{P}sitemaps/news.xml", max(newest, world.trap_page("video_page").local))]
        entries += [(f"{base}{P}sitemaps/{name}", newest) for name, _, _, newest in sitemap_parts(world)]
        return _ok(feeds.sitemap_index(entries), xml)
    if rest == "sitemaps/news.xml":
        minute = world.minute[si]
        cutoff = minute[world.order[si][0]] - 2 * 1440
        ks = [k for k in world.order[si][:5000] if minute[k] >= cutoff]
        video = world.trap_page("video_page")
        entries = [(base + video.path, video.title, video.local)]
        entries += [(base + world.link_path(si, k), world.head(si, k)["title"], world.local_time(si, k)) for k in ks]
        return _ok(feeds.news_sitemap(entries, "Kinh tế Việt"), xml)
    for name, mi, part, _ in sitemap_parts(world):
        if rest == f"sitemaps/{name}":
            ks = _month_slice(world, si, world.order[si], mi)[(part - 1) * SITEMAP_PART: part * SITEMAP_PART]
            entries = []
            if mi == len(world.months) - 2 and part == 1:
                entries += [(base + world.trap_page(n).path, world.trap_page(n).local) for n in ("video_page", "topic_page")]
            for k in ks:
                art_mod = world.modified_local(si, k)
                entries.append((base + world.path_of(si, k), art_mod or world.local_time(si, k)))
            return _ok(feeds.urlset(entries), xml)
    if rest.startswith("chu-de/") or rest.endswith(".htm") and "/" not in rest:
        label = next((s.label for s in OUTLET.sections if rest == s.slug + ".htm"), "Chủ đề")
        return _ok(outlet.list_html(base, path, label, links(world, si, world.order[si][:30])))
    return _not_found()
