"""Reading what a site announces: RSS/Atom feeds and sitemaps.

Listing pages are read by ``crawler/listing.py`` (it shares the
HTML tree helpers of extraction and is tested on saved real listing pages).

Pure functions over bytes or text, so they are tested without a crawl. XML is
parsed with entity resolution, DTD loading and network access off, and a
document that declares entities is refused outright: a feed never needs them
and a billion-laughs sitemap must not reach the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree


class UnsafeXML(ValueError):
    """The document declares entities or a DTD subset; it is not parsed."""


@dataclass(slots=True)
class Entry:
    """One article announced by a feed or sitemap."""

    url: str
    title: str = ""
    published_raw: str = ""
    modified_raw: str = ""


@dataclass
class SitemapResult:
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[tuple[str, str]] = field(default_factory=list)  # (loc, lastmod) of child sitemaps


_ENTITY_DECL = re.compile(rb"<!ENTITY|<!DOCTYPE[^>]*\[", re.IGNORECASE)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True, remove_comments=True
)


def parse_xml(data: bytes) -> etree._Element | None:
    if _ENTITY_DECL.search(data):
        raise UnsafeXML("document declares XML entities; refused (possible entity-expansion bomb)")
    data = data.lstrip()
    if not data:
        return None
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError:
        return None
    return root


def _local(tag) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el, name: str):
    return [c for c in el.iter() if _local(c.tag) == name]


def parse_feed(data: bytes, base_url: str) -> list[Entry]:
    """Entries of an RSS 2.0, RSS 1.0 (RDF) or Atom feed; items without a link are skipped."""
    root = parse_xml(data)
    if root is None:
        return []
    out: list[Entry] = []
    for item in root.iter():
        kind = _local(item.tag)
        if kind not in ("item", "entry"):
            continue
        link = ""
        if kind == "entry":
            for ln in _children(item, "link"):
                if ln.get("rel", "alternate") == "alternate" and ln.get("href"):
                    link = ln.get("href")
                    break
        if not link:
            link_el = _child(item, "link")
            link = _text(link_el) or (link_el.get("href", "") if link_el is not None else "")
        if not link:
            guid = _child(item, "guid")
            if guid is not None and guid.get("isPermaLink", "true") != "false":
                link = _text(guid)
        if not link.strip():
            continue
        published = ""
        for name in ("pubdate", "published", "date", "issued", "updated"):
            el = _child(item, name)
            if el is not None and _text(el):
                published = _text(el)
                break
        updated = _child(item, "updated")
        out.append(
            Entry(
                url=urljoin(base_url, link.strip()),
                title=_text(_child(item, "title")),
                published_raw=published,
                modified_raw=_text(updated) if updated is not None else "",
            )
        )
    return out


def parse_sitemap(data: bytes, base_url: str) -> SitemapResult:
    """Entries of a ``urlset`` (incl. Google News ``news:`` fields) or children of a ``sitemapindex``."""
    result = SitemapResult()
    root = parse_xml(data)
    if root is None:
        return result
    kind = _local(root.tag)
    for node in root:
        name = _local(node.tag)
        loc = _text(_child(node, "loc"))
        if not loc:
            continue
        lastmod = _text(_child(node, "lastmod"))
        if kind == "sitemapindex" and name == "sitemap":
            result.sitemaps.append((urljoin(base_url, loc), lastmod))
        elif name == "url":
            news = _child(node, "news")
            title = published = ""
            if news is not None:
                title = _text(_child(news, "title"))
                published = _text(_child(news, "publication_date"))
            result.entries.append(
                Entry(url=urljoin(base_url, loc), title=title, published_raw=published, modified_raw=lastmod)
            )
    return result
