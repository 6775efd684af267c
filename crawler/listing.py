"""Links of a section (listing) page: which are articles, which is the next page.

``listing_links(html, url, source)`` is pure: the spider calls it on a fetched
listing page, the tests on saved ones. Article URLs are absolute, without
fragment, unique, in page order, and accepted by ``source.article_url``; the
listing page itself is never one of them. The next page comes from the
listing's ``next_page`` CSS (an ``<a href>``), or, for a listing that declares a
URL template (``crawler.sources.vn._paging.PagedListing``), from the template
and the zone id found on the page.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from pipelines.extraction.tree import parse_html, select

_SKIP_HREF = ("javascript:", "mailto:", "tel:", "#", "data:")


def _norm(url: str) -> str:
    return url.split("#", 1)[0].strip()


def _same_page(a: str, b: str) -> bool:
    """Same host, path (trailing slash aside) and query: ``?trang=3`` is another page than ``?trang=2``."""
    pa, pb = urlsplit(a), urlsplit(b)
    return ((pa.hostname or "") == (pb.hostname or "") and pa.path.rstrip("/") == pb.path.rstrip("/")
            and pa.query == pb.query)


def listing_for(url: str, source):
    """The declared listing this URL belongs to: its first page, or a later page of it."""
    listings = tuple(getattr(source, "listings", ()) or ())
    for listing in listings:
        if _same_page(url, listing.url):
            return listing
    for listing in listings:  # a later page: same host and the path starts like the listing's, or a template page
        template = getattr(listing, "next_template", "")
        if template and re.search(getattr(listing, "page_pattern", r"$^"), url) and \
                urlsplit(template).path.split("{")[0] in urlsplit(url).path:
            return listing
        base = urlsplit(listing.url).path.rstrip("/").removesuffix(".htm").removesuffix(".chn")
        if base and urlsplit(url).path.startswith(base):
            return listing
    return listings[0] if listings else None


def _hrefs(tree, selector: str, page_url: str) -> list[str]:
    out = []
    for a in select(tree, selector):
        href = (a.get("href") or "").strip()
        if href and not href.lower().startswith(_SKIP_HREF):
            out.append(_norm(urljoin(page_url, href)))
    return out


def _zone(tree, listing, url: str) -> str | None:
    """The zone id: on the page, or, on a later page (which does not repeat it), in its own URL."""
    if getattr(listing, "zone_css", None):
        for el in select(tree, listing.zone_css):
            m = re.search(listing.zone_pattern, el.get(listing.zone_attr) or "")
            if m:
                return m.group(1) if m.groups() else m.group(0)
    template = getattr(listing, "next_template", "")
    if "{zone}" in template:
        pattern = re.escape(template).replace(r"\{zone\}", r"(?P<zone>\d+)").replace(r"\{page\}", r"\d+")
        m = re.fullmatch(pattern, url.split("#", 1)[0])
        if m:
            return m.group("zone")
    return None


def listing_links(html: str, url: str, source, listing=None, tree=None) -> tuple[list[str], list[str]]:
    """``(article_urls, next_urls)`` of a listing page of ``source``."""
    if tree is None:
        tree = parse_html(html)
    listing = listing or listing_for(url, source)
    accept = getattr(source, "article_url", None) or (lambda u: True)
    selector = listing.article_links if listing is not None else "a[href]"
    seen: set[str] = set()
    articles: list[str] = []
    for link in _hrefs(tree, selector, url):
        if link in seen or _same_page(link, url) or not accept(link):
            continue
        seen.add(link)
        articles.append(link)
    nexts: list[str] = []
    if listing is not None:
        if getattr(listing, "next_template", ""):
            nxt = listing.next_url(url, _zone(tree, listing, url))
            if nxt:
                nexts.append(nxt)
        if listing.next_page:
            for link in _hrefs(tree, listing.next_page, url):
                if link not in nexts and not _same_page(link, url):
                    nexts.append(link)
    return articles, nexts
