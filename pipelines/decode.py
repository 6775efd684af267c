"""Step 0: bytes -> text.

``decode_html(raw, content_type)`` picks the charset from, in order, a byte
order mark, the ``Content-Type`` header and the page's own ``<meta>``
declaration, and checks every declaration against the bytes before trusting
it:

* A declared legacy charset (iso-8859-1, windows-1252, even windows-1258)
  over bytes that are valid UTF-8 and contain multi-byte sequences is a lie
  told by a misconfigured server or a copied ``<meta>``; the bytes win (text
  really written in those charsets is practically never valid UTF-8, and
  Vietnamese cannot be written in windows-1252 at all).
* ``windows-1258`` (Python codec ``cp1258``) writes tones as combining marks
  after the base letter; that text (only that text) is normalised to NFC here
  so the extractor sees the same letters as on a UTF-8 page.
* A declared UTF-8 that does not decode is retried as windows-1258 when the
  high bytes look like it, else decoded with replacement characters.

This step only decides the charset and decodes. It does NOT normalise a UTF-8
page to NFC nor repair mojibake (UTF-8 read as windows-1252 upstream:
``Viá»‡t``) over the whole page: both cost more than parsing the page (a
whole-page ``unicodedata.is_normalized`` plus ``normalize`` and the mojibake
regex, measured 3.8 ms/page on the real pages). The clean step does both on
the extracted text fields (:func:`pipelines.cleaning.rules.fix_text`).
"""

from __future__ import annotations

import codecs
import logging
import re

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from pipelines.cleaning.rules import nfc

logger = logging.getLogger(__name__)

# Charsets that servers declare by default whatever the bytes are.
WESTERN = {"cp1252", "latin_1", "iso8859_1", "iso8859_15", "ascii"}
# Bytes that only occur in UTF-8 as part of a multi-byte sequence.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# windows-1258 tone marks (0xCC, 0xD2, 0xDE, 0xEC, 0xF2) and Vietnamese letters (0xC3, 0xD0, 0xE3, 0xF0, 0xF5, 0xFD)
_CP1258_HINT = re.compile(rb"[\xcc\xd2\xde\xec\xf2][\x20-\x7f]|[a-zA-Z][\xcc\xd2\xde\xec\xf2]|[\xd0\xf0][a-zA-Z]")


def _codec(name: str | None) -> str | None:
    """Python's canonical codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    if not resolved:
        return None
    try:
        return codecs.lookup(resolved).name.replace("-", "_")
    except LookupError:
        return None


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(raw: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page. Returns ``(text, how)`` where ``how`` names the codec and the evidence."""
    if not raw:
        return "", "empty"
    bom_codec, bom = read_bom(raw)
    if bom_codec:
        codec = _codec(bom_codec) or "utf_8"
        text = raw[len(bom):].decode(codec, errors="replace")
        return text, f"{codec}:bom"

    header = _codec(http_content_type_encoding(content_type or ""))
    meta = _codec(html_body_declared_encoding(raw[:4096]))
    declared, evidence = (header, "header") if header else (meta, "meta") if meta else (None, "none")
    utf8 = _strict(raw, "utf_8")
    has_multibyte = _UTF8_MULTIBYTE.search(raw) is not None

    if declared and declared != "utf_8" and utf8 is not None and has_multibyte:
        # Text in a legacy charset is almost never also valid UTF-8 with multi-byte sequences;
        # a declaration (header default, copied meta tag) is wrong far more often than that.
        return utf8, f"utf_8:{evidence}-lied({declared})"
    if declared and declared != "utf_8":
        if declared == "cp1258" or (declared in WESTERN and _CP1258_HINT.search(raw) and utf8 is None):
            text = _strict(raw, "cp1258")
            if text is not None:
                return _finish_cp1258(text), f"cp1258:{evidence}"
        text = _strict(raw, declared)
        if text is not None:
            return text, f"{declared}:{evidence}"
        # declared charset fails on these bytes
        if utf8 is not None:
            return utf8, f"utf_8:{evidence}-failed({declared})"
        return raw.decode(declared, errors="replace"), f"{declared}:{evidence}-replaced"
    if utf8 is not None:
        return utf8, f"utf_8:{evidence}"
    if _CP1258_HINT.search(raw):
        text = _strict(raw, "cp1258")
        if text is not None:
            return _finish_cp1258(text), "cp1258:sniffed"
    return raw.decode("utf_8", errors="replace"), f"utf_8:{evidence}-replaced"


def _finish_cp1258(text: str) -> str:
    """windows-1258 text, composed: the codec itself yields base letter + combining tone."""
    return nfc(text)


class DecodePipeline:
    """Adds ``html`` (str) from ``raw_body`` and ``content_type``."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_item(self, item):
        if "html" not in item:
            item["html"], how = decode_html(item.get("raw_body") or b"", item.get("content_type"))
            logger.debug("decoded %s as %s", item.get("url"), how)
        return item
