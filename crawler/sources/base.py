"""What a source is: a declaration, not a spider.

A :class:`Source` names a site, says where its articles are announced (feeds,
sitemaps, listing pages), which URLs are articles, and optionally how to read
each field of an article page (:class:`Layout`). The generic spider in
``crawler/spiders/news.py`` turns any declaration into a crawl.

URLs in a declaration may contain ``{base}``; it is replaced by the value of
the ``DEMO_BASE_URL`` setting (see :meth:`Source.resolve`). That is how the demo
sources follow the port of the local demo server.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable
from urllib.parse import urlsplit

from storage.urls import article_id

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class SourceError(ValueError):
    """A source declaration is invalid; the message names the source and field."""


# --------------------------------------------------------------------------- URL filters


class UrlFilter:
    """A ``str -> bool`` predicate that composes with ``&``, ``|`` and ``~``."""

    def __init__(self, fn: Callable[[str], bool], label: str):
        self._fn = fn
        self.label = label

    def __call__(self, url: str) -> bool:
        return bool(self._fn(url))

    def __and__(self, other: "UrlFilter") -> "UrlFilter":
        return UrlFilter(lambda u: self(u) and other(u), f"({self.label} & {other.label})")

    def __or__(self, other: "UrlFilter") -> "UrlFilter":
        return UrlFilter(lambda u: self(u) or other(u), f"({self.label} | {other.label})")

    def __invert__(self) -> "UrlFilter":
        return UrlFilter(lambda u: not self(u), f"~{self.label}")

    def __repr__(self) -> str:
        return f"UrlFilter({self.label})"


def regex(pattern: str) -> UrlFilter:
    """Matches when ``pattern`` is found anywhere in the URL (``re.search``)."""
    compiled = re.compile(pattern)
    return UrlFilter(lambda u: compiled.search(u) is not None, f"regex({pattern!r})")


def path_regex(pattern: str) -> UrlFilter:
    """Matches when ``pattern`` is found in the URL's path only."""
    compiled = re.compile(pattern)
    return UrlFilter(lambda u: compiled.search(urlsplit(u).path) is not None, f"path({pattern!r})")


ANY_URL = UrlFilter(lambda u: True, "any")


# --------------------------------------------------------------------------- field rules


@dataclass(frozen=True)
class FieldRule:
    """Where one field sits on a page. The first selector that matches wins.

    ``css`` / ``xpath``: selectors tried in order. ``attr``: read this attribute
    instead of the text. ``remove``: CSS selectors of descendants dropped before
    the text is taken (furniture inside the body). ``pattern``: a regex whose
    first group (or whole match) is kept from the text. ``many``: return every
    match (authors, tags, captions, paragraphs) instead of the first.
    """

    css: tuple[str, ...] = ()
    xpath: tuple[str, ...] = ()
    attr: str | None = None
    remove: tuple[str, ...] = ()
    pattern: str | None = None
    many: bool = False


def css(*selectors: str, **kw) -> FieldRule:
    return FieldRule(css=tuple(selectors), **kw)


def xpath(*selectors: str, **kw) -> FieldRule:
    return FieldRule(xpath=tuple(selectors), **kw)


FIELDS = (
    "title", "lead", "body", "authors", "section", "tags",
    "published", "modified", "canonical_url", "captions",
)


@dataclass(frozen=True)
class Layout:
    """One version of a site's page template.

    ``valid_until``: the last publication date this layout applies to (``None``
    for the current layout). When a site is redesigned, add a new Layout and set
    ``valid_until`` on the old one instead of editing it; with
    :meth:`Layout.extend` the new one overrides only the fields that changed.
    ``drop``: CSS selectors of furniture removed from the page before any field
    is read (related boxes, share bars, comment forms).
    """

    valid_until: date | None = None
    title: FieldRule | None = None
    lead: FieldRule | None = None
    body: FieldRule | None = None
    authors: FieldRule | None = None
    section: FieldRule | None = None
    tags: FieldRule | None = None
    published: FieldRule | None = None
    modified: FieldRule | None = None
    canonical_url: FieldRule | None = None
    captions: FieldRule | None = None
    drop: tuple[str, ...] = ()

    def extend(self, **changes) -> "Layout":
        """A new layout equal to this one but for ``changes``."""
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Listing:
    """A section page whose links lead to articles, with an optional next-page link.

    ``article_links``: CSS selecting the ``<a>`` elements to consider (the URL
    filter of the source still decides). ``next_page``: CSS selecting the ``<a>``
    of the next (older) page. ``max_pages``: how deep pagination may go in one run.
    """

    url: str
    article_links: str = "a[href]"
    next_page: str | None = None
    max_pages: int = 50


@dataclass(frozen=True)
class Source:
    name: str
    # a lower-case code: the province or city ("binh_duong", "ho_chi_minh_city") or "national"
    region: str
    domains: tuple[str, ...]
    language: str = "vi"
    country: str = "VN"
    timezone: str = "Asia/Ho_Chi_Minh"
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[Listing, ...] = ()
    article_url: UrlFilter = ANY_URL
    layouts: tuple[Layout, ...] = ()
    # query parameters that never change the article (tracking); stripped before dedupe
    strip_params: tuple[str, ...] = ()
    # hosts that serve the same articles (e.g. "m.example.vn") mapped to the main host
    host_aliases: tuple[tuple[str, str], ...] = ()
    # the demo sources and tests crawl 127.0.0.1; real sources never may
    allow_private: bool = False
    # share of archived articles that must have each field, or the run is flagged
    min_completeness: tuple[tuple[str, float], ...] = (("title", 0.95), ("body", 0.95), ("date", 0.9))
    # True when the site rules are checked by tests against saved real pages
    checked_against_saved_pages: bool = False
    homepage: str = ""
    notes: str = ""
    # the value ``{base}`` was replaced with (set by :meth:`resolve`)
    resolved_base: str = ""

    def __post_init__(self):
        if not NAME_RE.match(self.name):
            raise SourceError(
                f"source name {self.name!r} must match {NAME_RE.pattern} "
                "(it becomes a path segment of the archive)"
            )
        if not NAME_RE.match(self.region):
            raise SourceError(f"source {self.name!r}: region {self.region!r} must be a code like 'binh_duong'")
        if not self.domains:
            raise SourceError(f"source {self.name!r}: domains is empty")
        if not (self.feeds or self.sitemaps or self.listings):
            raise SourceError(f"source {self.name!r}: declares no feed, sitemap or listing")
        dated = [lay.valid_until for lay in self.layouts]
        if dated.count(None) > 1:
            raise SourceError(f"source {self.name!r}: more than one current layout (valid_until=None)")

    # ------------------------------------------------------------------ helpers

    def resolve(self, base_url: str | None) -> "Source":
        """Replace ``{base}`` in every URL with ``base_url`` (no trailing slash)."""
        if not self.uses_base:
            return self
        if not base_url:
            raise SourceError(
                f"source {self.name!r} needs the DEMO_BASE_URL setting "
                "(run `scrapy demo --serve-only` and pass -s DEMO_BASE_URL=http://127.0.0.1:PORT)"
            )
        base = base_url.rstrip("/")

        def sub(u: str) -> str:
            return u.replace("{base}", base)

        host = urlsplit(base).hostname or ""
        return dataclasses.replace(
            self,
            feeds=tuple(map(sub, self.feeds)),
            sitemaps=tuple(map(sub, self.sitemaps)),
            listings=tuple(dataclasses.replace(li, url=sub(li.url)) for li in self.listings),
            domains=tuple(host if d == "{base}" else d for d in self.domains),
            homepage=sub(self.homepage),
            resolved_base=base,
        )

    @property
    def uses_base(self) -> bool:
        urls = [*self.feeds, *self.sitemaps, *(li.url for li in self.listings), *self.domains]
        return any("{base}" in u for u in urls)

    def article_id(self, canonical_url: str) -> str:
        """The archive id of an article URL, independent of where ``{base}`` points.

        The demo server listens on a new port each run; hashing the URL with the
        base put back as ``{base}`` keeps ids (and so cross-run dedupe) stable.
        """
        url = canonical_url
        if self.resolved_base and url.startswith(self.resolved_base):
            url = "{base}" + url[len(self.resolved_base):]
        return article_id(url)

    def layout_for(self, published: date | None) -> Layout | None:
        """The layout in force for an article published on ``published``.

        Layouts are tried from the oldest ``valid_until`` to the current one; an
        undated article gets the current layout.
        """
        if not self.layouts:
            return None
        current = next((lay for lay in self.layouts if lay.valid_until is None), None)
        if published is not None:
            for lay in sorted((x for x in self.layouts if x.valid_until), key=lambda x: x.valid_until):
                if published <= lay.valid_until:
                    return lay
        return current or max(self.layouts, key=lambda x: x.valid_until)

    def completeness_floor(self, field_name: str) -> float:
        return dict(self.min_completeness).get(field_name, 0.0)


@dataclass
class SourceSet:
    """The registry: every declared source by name."""

    sources: dict[str, Source] = field(default_factory=dict)

    def add(self, *sources: Source) -> None:
        for src in sources:
            if src.name in self.sources:
                raise SourceError(f"source {src.name!r} is declared twice")
            self.sources[src.name] = src

    def get(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources))
            raise SourceError(f"unknown source {name!r}; known sources: {known}") from None

    def names(self) -> list[str]:
        return sorted(self.sources)
