"""Layer 2: what the page says about itself in machine-readable form.

JSON-LD (``NewsArticle``/``Article``/... also inside ``@graph`` and lists),
OpenGraph and ``article:*`` ``<meta>``, other common ``<meta>`` names, the
canonical ``<link>`` and the first ``<time datetime>``. Each value comes back
with the label of where it was found (``jsonld`` | ``meta`` | ``time``).
"""

from __future__ import annotations

import html as htmllib
import json
import re

from pipelines.extraction.tree import compiled_xpath, squash

ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting", "report",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "livebloggposting", "webpage",
    "scholarlyarticle", "techarticle", "liveblogposting",
}
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# CDATA / comment wrappers some CMSs put around the JSON
_WRAPPER = re.compile(r"^(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>$|^<!--|-->$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")

_X_JSONLD = compiled_xpath("//script[@type='application/ld+json' or @type='application/json+ld']")
_X_META = compiled_xpath("//meta[@content]")
_X_CANONICAL = compiled_xpath("//link[@rel='canonical']/@href")
_X_OG_URL = compiled_xpath("//meta[@property='og:url']")
_X_TIME = compiled_xpath("//time[@datetime]")
_X_HTML_LANG = compiled_xpath("/html/@lang")


def _load_json(text: str):
    text = _WRAPPER.sub("", text.strip()).strip()
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines inside strings are common
    except ValueError:
        text = _CTRL.sub(" ", text)
        try:
            return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
        except ValueError:
            return None


def _walk(obj):
    """Every dict inside a JSON-LD value (lists and @graph flattened)."""
    if isinstance(obj, list):
        for x in obj:
            yield from _walk(x)
    elif isinstance(obj, dict):
        yield obj
        if "@graph" in obj:
            yield from _walk(obj["@graph"])
        main = obj.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _walk(main)


def _types(obj) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.lower()}
    if isinstance(t, list):
        return {x.lower() for x in t if isinstance(x, str)}
    return set()


def _names(value) -> list[str]:
    """Author / keyword values: a string, an object with ``name``, or a list of either."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str):
            out.append(name)
    elif isinstance(value, list):
        for v in value:
            out.extend(_names(v))
    return [squash(htmllib.unescape(x)) for x in out if x and squash(x)]


def _str(value) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str):
        value = squash(htmllib.unescape(value))
        return value or None
    return None


def jsonld_article(tree) -> dict:
    """The first JSON-LD object whose type is an article, as our fields."""
    best = None
    for script in _X_JSONLD(tree):
        data = _load_json(script.text or "")
        if data is None:
            continue
        for obj in _walk(data):
            types = _types(obj)
            if types & ARTICLE_TYPES and (obj.get("headline") or obj.get("datePublished")):
                if best is None or ("webpage" in _types(best) and "webpage" not in types):
                    best = obj
    if best is None:
        return {}
    out: dict = {}
    for field, key in (("title", "headline"), ("lead", "description"), ("published_at_raw", "datePublished"),
                       ("modified_at_raw", "dateModified"), ("section", "articleSection"),
                       ("body", "articleBody"), ("language", "inLanguage")):
        v = _str(best.get(key))
        if v:
            out[field] = v
    if isinstance(best.get("articleBody"), str) and "\n" in best["articleBody"]:
        paras = [squash(p) for p in re.split(r"\n\s*\n|\n", htmllib.unescape(best["articleBody"]))]
        out["body"] = "\n\n".join(p for p in paras if p)
    authors = _names(best.get("author"))
    if authors:
        out["authors"] = authors
    kw = best.get("keywords")
    tags = [t.strip() for t in kw.split(",")] if isinstance(kw, str) else _names(kw)
    if [t for t in tags if t]:
        out["tags"] = [t for t in tags if t]
    main = best.get("mainEntityOfPage")
    url = _str(main.get("@id") if isinstance(main, dict) else main) or _str(best.get("url"))
    if url and url.startswith("http"):
        out["canonical_url"] = url
    return out


META_KEYS = {
    "og:title": "title", "twitter:title": "title", "dc.title": "title",
    "og:description": "lead", "description": "lead", "twitter:description": "lead",
    "article:published_time": "published_at_raw", "og:article:published_time": "published_at_raw",
    "pubdate": "published_at_raw", "publishdate": "published_at_raw", "datepublished": "published_at_raw",
    "article:published": "published_at_raw", "dc.date.issued": "published_at_raw", "dc.date": "published_at_raw",
    "date": "published_at_raw", "publish-date": "published_at_raw", "sailthru.date": "published_at_raw",
    "parsely-pub-date": "published_at_raw", "cxenseparse:recs:publishtime": "published_at_raw",
    "article:modified_time": "modified_at_raw", "og:updated_time": "modified_at_raw",
    "lastmod": "modified_at_raw", "datemodified": "modified_at_raw", "last-modified": "modified_at_raw",
    "article:section": "section", "og:article:section": "section",
    "article:tag": "tags", "news_keywords": "tags", "keywords": "tags",
    "article:author": "authors", "author": "authors", "dc.creator": "authors", "parsely-author": "authors",
    "og:url": "canonical_url",
    "og:locale": "language", "content-language": "language", "language": "language",
}
_META_LISTS = {"tags", "authors"}


def meta_fields(tree) -> dict:
    """``<meta>`` values: the first one wins, except lists which accumulate."""
    out: dict = {}
    for m in _X_META(tree):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").strip().lower()
        field = META_KEYS.get(key)
        if not field:
            continue
        value = squash(htmllib.unescape(m.get("content") or ""))
        if not value:
            continue
        if field == "published_at_raw":
            out.setdefault("_published", []).append(value)
        if field in _META_LISTS:
            if field == "authors" and value.startswith("http"):
                continue
            items = [v.strip() for v in value.split(",")] if field == "tags" and key != "article:tag" else [value]
            lst = out.setdefault(field, [])
            lst.extend(v for v in items if v and v not in lst)
        elif field not in out:
            out[field] = value
    canonical = _X_CANONICAL(tree)
    if canonical and canonical[0].strip().startswith("http"):
        out["canonical_url"] = canonical[0].strip()
    lang = _X_HTML_LANG(tree)
    if lang and lang[0].strip():
        out["language"] = lang[0].strip()
    return out


def canonical_link(tree) -> str | None:
    """``<link rel=canonical>`` or ``og:url``: the page's own statement of its URL."""
    for href in _X_CANONICAL(tree):
        if href.strip().startswith("http"):
            return href.strip()
    for m in _X_OG_URL(tree):
        if (m.get("content") or "").strip().startswith("http"):
            return m.get("content").strip()
    return None


def time_fields(tree, limit: int = 3) -> dict:
    """The first ``<time datetime>`` values (machine-readable dates only)."""
    out: dict = {}
    for t in _X_TIME(tree):
        value = squash(t.get("datetime") or "")
        if not re.match(r"\d{4}-\d\d-\d\d", value):
            continue
        hint = ((t.get("class") or "") + " " + (t.get("itemprop") or "")).lower()
        if "updated" in hint or "modified" in hint:
            out.setdefault("modified_at_raw", value)
            continue
        out.setdefault("published_at_raw", value)
        published = out.setdefault("_published", [])
        if len(published) < limit:
            published.append(value)
    return out


def read_metadata(tree) -> dict[str, tuple[object, str]]:
    """field -> (value, label) with JSON-LD first, then ``<meta>``, then ``<time>``.

    ``published_candidates`` holds every publication date string found, as
    ``[(raw, label), ...]`` in that order (the dates step may prefer a later one
    that has a time of day when the first has only a day).
    """
    out: dict[str, tuple[object, str]] = {}
    candidates: list[tuple[str, str]] = []
    for label, found in (("jsonld", jsonld_article(tree)), ("meta", meta_fields(tree)), ("time", time_fields(tree))):
        for value in found.pop("_published", None) or ([found["published_at_raw"]] if "published_at_raw" in found else []):
            if value not in (c[0] for c in candidates):
                candidates.append((value, label))
        for field, value in found.items():
            if field not in out and value:
                out[field] = (value, label)
    out["published_candidates"] = (candidates, "mixed")
    return out
