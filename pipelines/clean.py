"""Step 2: text cleaning of the extracted fields.

``clean_fields(fields)`` returns the cleaned ``title``, ``lead``, ``body``,
``authors``, ``tags``, ``section`` and ``image_captions``. Every rule is a small
named function in :mod:`pipelines.cleaning.rules` with its own tests:

text (every field): entities, NFC, zero-width characters, spaces/nbsp;
body paragraphs: furniture lines and related-links tails, adjacent repeats,
the lead repeated as first paragraph, a 'Trong ảnh:' / 'Ảnh:' caption moved out of the
lead, captions kept once, the './.' end mark,
trailing credit lines ('Theo TTXVN', a lone author name) moved to ``authors``.
"""

from __future__ import annotations

from pipelines.cleaning.rules import (
    captions_once, clean_text, dedupe_adjacent, drop_furniture, drop_lead_repeat, is_furniture, lead_caption,
    lead_inside_body, move_credit_lines, normalize_author, normalize_tags, strip_end_mark,
)


def _clean_list(values) -> list[str]:
    out: list[str] = []
    for v in values or []:
        v = clean_text(v)
        if v and v not in out:
            out.append(v)
    return out


def _dedupe(values) -> list[str]:
    out: list[str] = []
    for v in values:
        if v.casefold() not in {o.casefold() for o in out}:
            out.append(v)
    return out


def clean_fields(fields: dict) -> dict:
    """The cleaned text fields (a new dict with only the keys this step owns)."""
    title = clean_text(fields.get("title"))
    lead = clean_text(fields.get("lead"))
    if lead and is_furniture(lead):
        lead = None
    body = clean_text(fields.get("body")) or ""
    authors = _clean_list(fields.get("authors"))
    captions = _clean_list(fields.get("image_captions"))

    paras = body.split("\n\n") if body else []
    paras = drop_furniture(paras)
    paras = dedupe_adjacent(paras)
    paras = drop_lead_repeat(lead, paras)
    lead, captions = lead_caption(lead, captions)  # "Trong ảnh: ..." in the lead is the photo's caption
    paras = drop_lead_repeat(lead, paras)
    if lead and (fields.get("field_sources") or {}).get("lead") != "rules" and lead_inside_body(lead, paras):
        lead = None  # a metadata summary that the body already prints
    paras, captions = captions_once(paras, captions, lead)
    paras = strip_end_mark(paras)
    paras, authors = move_credit_lines(paras, authors)
    authors = _dedupe(filter(None, map(normalize_author, authors)))
    out = {
        "title": title,
        "lead": lead,
        "body": "\n\n".join(paras) or None,
        "authors": authors,
        "tags": normalize_tags(_clean_list(fields.get("tags"))),
        "section": clean_text(fields.get("section")),
        "image_captions": captions,
    }
    # a field emptied by cleaning no longer has a source
    field_sources = dict(fields.get("field_sources") or {})
    for name, value in out.items():
        if not value:
            field_sources.pop(name, None)
    out["field_sources"] = field_sources
    return out


class CleanPipeline:
    """Replaces the text fields of the item with their cleaned versions."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_item(self, item):
        item.update(clean_fields(item))
        return item
