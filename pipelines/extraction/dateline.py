"""The visible date line of a page, found without site rules.

Pages without machine-readable dates still print one ("Veröffentlicht am 13.
Mai 2026 um 15:44", "Thứ bảy, 07/03/2026 - 08:07", "erstellt: 01. April 2025").
Candidates are short elements whose class, id or itemprop says date/time/
publish, holding digits, outside navigation and footers; those after the
first ``<h1>`` come first (teasers of other articles sit before it or in
lists further down).
"""

from __future__ import annotations

import re
import unicodedata

from pipelines.extraction.tree import compiled_xpath, text_of

_X_AFTER_H1 = compiled_xpath("(//h1)[1]/following::*[@class or @id or @itemprop]")
_X_BEFORE_H1 = compiled_xpath("(//h1)[1]/preceding::*[@class or @id or @itemprop]")
_X_ALL = compiled_xpath("//body//*[@class or @id or @itemprop]")
LABELS = ("Datum", "Date", "Published", "Publié le", "Veröffentlicht", "Fecha", "Data", "Ngày đăng", "Ngày", "Đăng lúc",
          "Cập nhật", "Erschienen", "Publicado")
# in both Unicode forms: the page is not composed as a whole (pipelines/decode.py)
_LABEL_FORMS = tuple(dict.fromkeys(f for w in LABELS for f in (w, unicodedata.normalize("NFD", w))))
_X_LABELS = compiled_xpath(
    "//body//*[self::strong or self::b or self::dt or self::span or self::label or self::em]"
    "[" + " or ".join(f"normalize-space(translate(., ':', ''))='{w}'" for w in _LABEL_FORMS) + "]"
)
_MARK = re.compile(r"date|time|publish|posted|dateline|byline|meta|lineinfo|ngay|thoi-gian|zeit|datum|fecha|data", re.I)
_NOT = re.compile(r"update|modif|picker|comment|timeline|times|timer|weather|video|duration|runtime", re.I)
_DIGITS = re.compile(r"\d{1,4}[./:-]\d{1,2}|\d{4}")
_SKIP_ANCESTORS = {"nav", "footer", "aside", "li", "form", "select", "option", "script", "style"}


def _lines(elements, limit: int) -> list[str]:
    out: list[str] = []
    for el in elements:
        if not isinstance(el.tag, str):
            continue
        marks = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("itemprop"))))
        if not _MARK.search(marks) or _NOT.search(marks):
            continue
        text = text_of(el)
        if not text or len(text) > 120 or not _DIGITS.search(text):
            continue
        if any(a.tag in _SKIP_ANCESTORS for a in el.iterancestors() if isinstance(a.tag, str)):
            continue
        if text not in out:
            out.append(text)
            if len(out) >= limit:
                break
    return out


_X_DATE_ATTRS = compiled_xpath(
    "//body//@*[starts-with(name(), 'data-') and (contains(name(), 'publish') or contains(name(), 'deploy-d')"
    " or contains(name(), 'pubdate') or contains(name(), 'posted'))]"
)


def attribute_dates(tree, limit: int = 2) -> list[str]:
    """``data-publish-date="..."``, ``data-deploy-dt="2026.01.29 18:40"``: dates kept in data attributes."""
    out: list[str] = []
    for value in _X_DATE_ATTRS(tree):
        value = str(value).strip()
        if 8 <= len(value) <= 40 and _DIGITS.search(value) and value not in out:
            out.append(value)
            if len(out) >= limit:
                break
    return out


def labelled_dates(tree, limit: int = 2) -> list[str]:
    """'Datum 28.04.2023', 'Ngày đăng: 07/03/2026': a date introduced by a label element."""
    out: list[str] = []
    for label in _X_LABELS(tree):
        parent = label.getparent()
        if parent is None:
            continue
        text = text_of(parent)
        if len(text) <= 80 and _DIGITS.search(text) and text not in out:
            out.append(text)
            if len(out) >= limit:
                break
    return out


def date_lines(tree, limit: int = 3) -> list[str]:
    """Up to ``limit`` date-looking texts: labelled dates, then marked elements after the first
    ``<h1>``, then those before it."""
    found = labelled_dates(tree) + attribute_dates(tree)
    if tree.find(".//h1") is None:
        found += [t for t in _lines(_X_ALL(tree), limit) if t not in found]
        return found[:limit]
    found += [t for t in _lines(_X_AFTER_H1(tree), limit) if t not in found]
    if len(found) < limit:
        found += [t for t in _lines(_X_BEFORE_H1(tree)[::-1], limit) if t not in found]
    return found[:limit]
