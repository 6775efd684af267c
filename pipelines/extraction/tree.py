"""The one parse of a page, and how text is read out of it.

Every extraction layer works on the tree that :func:`parse_html` returns; no
layer parses again. :func:`blocks` turns an element into paragraphs the way a
reader sees them: block elements (``p``, ``div``, ``li``, headings, ``br``)
separate paragraphs, inline elements do not.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cssselect import HTMLTranslator
from lxml import etree

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_WS = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZW = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")

BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody thead tfoot "
    "tr td th ul br caption center".split()
)
SKIP_TAGS = frozenset("script style noscript template iframe svg button select option textarea input head".split())
_translator = HTMLTranslator()


_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, default_doctype=False)


def parse_html(html: str):
    """Parse once, into plain ``lxml.etree`` elements (no per-node Python class lookup as with
    ``lxml.html``: every layer walks the tree, so this matters). Tolerates an XML declaration and
    an empty or fragmentary page; the result always has ``<html>`` and ``<body>``."""
    html = _XML_DECL.sub("", html, count=1)
    root = None
    if html.strip():
        try:
            root = etree.fromstring(html, _PARSER)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            root = None
    if root is None or not isinstance(root.tag, str):
        root = etree.fromstring("<html><body></body></html>", _PARSER)
    if root.find("body") is None:
        etree.SubElement(root, "body")
    return root


def body_of(tree):
    """The ``<body>`` element (parse_html guarantees one)."""
    if tree.tag == "body":
        return tree
    body = tree.find("body")
    return body if body is not None else tree


@lru_cache(maxsize=2048)
def css_xpath(selector: str) -> etree.XPath:
    """A compiled XPath for a CSS selector (cached: source rules are few and reused)."""
    return etree.XPath(_translator.css_to_xpath(selector))


@lru_cache(maxsize=1024)
def compiled_xpath(expr: str) -> etree.XPath:
    return etree.XPath(expr)


def select(node, selector: str) -> list:
    return css_xpath(selector)(node)


def squash(text: str) -> str:
    """One line: zero-width characters dropped, every run of white space one space."""
    return _WS.sub(" ", _ZW.sub("", text)).replace("\n", " ").strip()


def _tag(el) -> str:
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else ""


def blocks(el, skip: frozenset[str] = SKIP_TAGS) -> list[str]:
    """The paragraphs of ``el``: text split at block elements, each squashed to one line."""
    parts: list[str] = []

    def walk(node):
        tag = _tag(node)
        if tag in skip or not tag:
            # comments / processing instructions: keep only what follows them
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    if _tag(el) in skip:
        return []
    walk(el)
    out = []
    for piece in "".join(parts).split("\n"):
        line = squash(piece)
        if line:
            out.append(line)
    return out


def text_of(el) -> str:
    """All text of ``el`` on one line."""
    if isinstance(el, str):
        return squash(el)
    return " ".join(blocks(el))


def drop(nodes) -> None:
    """Remove elements from their tree, keeping their tail text."""
    for node in nodes:
        parent = node.getparent()
        if parent is None:
            continue
        if node.tail:
            previous = node.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)
