"""XML the demo sites announce articles with: RSS 2.0 feeds and sitemaps.

Items are ``(url, title, local naive datetime, description)`` tuples; all
times are Asia/Ho_Chi_Minh (+07:00, no daylight saving).
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822(local: datetime) -> str:
    return f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local:%Y %H:%M:%S} +0700"


def iso(local: datetime) -> str:
    return f"{local:%Y-%m-%dT%H:%M:%S}+07:00"


def rss(title: str, link: str, description: str, items) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
             f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>",
             f"<description>{escape(description)}</description><language>vi-VN</language>",
             "<copyright>Báo Bình Dương</copyright><ttl>15</ttl>"]
    if items:
        parts.append(f"<lastBuildDate>{rfc822(max(i[2] for i in items))}</lastBuildDate>")
    for url, item_title, when, desc in items:
        safe = desc.replace("]]>", "]]&gt;")
        parts.append(
            f"<item><title>{escape(item_title)}</title><link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid>'
            f'<description><![CDATA[<a href="{url}"><img src="{url}.jpg" width="120"/></a>{safe}]]></description>'
            f"<pubDate>{rfc822(when)}</pubDate></item>")
    parts.append("</channel></rss>\n")
    return "\n".join(parts).encode("utf-8")


def billion_laughs_rss(link: str) -> bytes:
    """A feed whose title expands to 10**9 'lol's in a parser that resolves entities."""
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(ents) + "\n]>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<rss version="2.0"><channel>'
            f"<title>&lol9;</title><link>{escape(link)}</link><description>Tin mới</description>"
            f"<item><title>&lol9;</title><link>{escape(link)}</link></item></channel></rss>\n").encode()


def sitemap_index(entries) -> bytes:
    """``entries``: (loc, lastmod local datetime or None)."""
    rows = [f"<sitemap><loc>{escape(loc)}</loc>" + (f"<lastmod>{iso(m)}</lastmod>" if m else "") + "</sitemap>"
            for loc, m in entries]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</sitemapindex>\n").encode("utf-8")


def urlset(entries) -> bytes:
    """``entries``: (loc, lastmod local datetime)."""
    rows = [f"<url><loc>{escape(loc)}</loc><lastmod>{iso(m)}</lastmod><changefreq>never</changefreq></url>"
            for loc, m in entries]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n").encode("utf-8")


def news_sitemap(entries, publication: str) -> bytes:
    """``entries``: (loc, title, published local datetime)."""
    rows = [f"<url><loc>{escape(loc)}</loc><news:news><news:publication><news:name>{escape(publication)}</news:name>"
            f"<news:language>vi</news:language></news:publication>"
            f"<news:publication_date>{iso(when)}</news:publication_date><news:title>{escape(title)}</news:title>"
            f"</news:news></url>" for loc, title, when in entries]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(rows) + "\n</urlset>\n").encode("utf-8")
