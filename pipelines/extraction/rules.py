"""Layer 1: a source's own :class:`~crawler.sources.base.Layout` rules.

``apply_layout(tree, layout)`` removes ``Layout.drop`` furniture from the tree
(in place: every later layer benefits) and reads each declared field with its
:class:`~crawler.sources.base.FieldRule`. Fields a rule does not find are simply
absent from the result, so the next layer can fill them.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from pipelines.extraction.tree import blocks, compiled_xpath, drop, select, squash, text_of

# Layout attribute -> output field
FIELD_MAP = {
    "title": "title", "lead": "lead", "body": "body", "authors": "authors", "section": "section",
    "tags": "tags", "published": "published_at_raw", "modified": "modified_at_raw",
    "canonical_url": "canonical_url", "captions": "image_captions",
}
LIST_FIELDS = {"authors", "tags", "image_captions"}


@lru_cache(maxsize=512)
def _pattern(p: str) -> re.Pattern:
    return re.compile(p, re.S)


def drop_furniture(tree, selectors) -> int:
    n = 0
    for sel in selectors:
        found = select(tree, sel)
        n += len(found)
        drop(found)
    return n


def _matches(tree, rule) -> list:
    for sel in rule.css:
        found = select(tree, sel)
        if found:
            return found
    for expr in rule.xpath:
        found = compiled_xpath(expr)(tree)
        if found:
            return found if isinstance(found, list) else [found]
    return []


def _value(node, rule, as_blocks: bool):
    """The text (or attribute) of one matched node, as a list of paragraphs when ``as_blocks``."""
    if isinstance(node, str):  # xpath returned text or an attribute
        texts = [squash(node)]
    elif rule.attr:
        texts = [squash(node.get(rule.attr) or "")]
    else:
        if rule.remove:
            node = copy.deepcopy(node)
            node.tail = None
            for sel in rule.remove:
                drop(select(node, sel))
        texts = blocks(node) if as_blocks else [text_of(node)]
    if rule.pattern:
        pat = _pattern(rule.pattern)
        kept = []
        for t in texts:
            m = pat.search(t)
            if m:
                kept.append(squash(m.group(1) if m.groups() else m.group(0)))
        texts = kept
    return [t for t in texts if t]


def read_field(tree, rule, field: str):
    """Apply one rule. Returns str, list[str] or None."""
    nodes = _matches(tree, rule)
    if not nodes:
        return None
    if field == "body":
        paras: list[str] = []
        for node in nodes if rule.many else nodes[:1]:
            paras.extend(_value(node, rule, as_blocks=True))
        return "\n\n".join(paras) or None
    if rule.many or field in LIST_FIELDS:
        values: list[str] = []
        for node in nodes if rule.many else nodes[:1]:
            for v in _value(node, rule, as_blocks=False):
                if v not in values:
                    values.append(v)
        return values or None
    for node in nodes:
        vals = _value(node, rule, as_blocks=field == "lead")
        if vals:
            return " ".join(vals) if field != "lead" else "\n\n".join(vals)
    return None


def apply_layout(tree, layout) -> dict:
    """Fields found by the layout's rules (furniture dropped from ``tree`` first)."""
    if layout is None:
        return {}
    drop_furniture(tree, layout.drop)
    out = {}
    for attr, field in FIELD_MAP.items():
        rule = getattr(layout, attr)
        if rule is None:
            continue
        value = read_field(tree, rule, field)
        if value:
            out[field] = value
    return out
