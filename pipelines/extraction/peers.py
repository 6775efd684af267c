"""Well-kept extractors beside ours, on one ``lxml.html`` parse of the page.

Our layers share a plain ``lxml.etree`` tree (no per-node class lookup: it is
walked a lot). trafilatura, htmldate and jusText only accept ``lxml.html``
elements, so the generic path parses the page once more, into that form, and
all three read that one tree. None of them changes it: trafilatura and htmldate
copy the tree before pruning it, jusText's cleaner works on a copy.

* :func:`trafilatura_text`: trafilatura's main text (no comments; by default its
  own extraction without the fallbacks it runs internally, readability and jusText:
  jusText votes apart, pipelines.extract.VOTERS);
* :func:`justext_text`: jusText's good paragraphs, with the stop-word list of
  the page's language (language-independent settings when it has none): the voter
  where ours and trafilatura disagree;
* :func:`htmldate_raw`: htmldate's publication day (extensive search, the
  original date). Only the day: the time of day it returns comes without the
  page's offset (``14:46:12+0000`` for a page that says ``14:46:12+02:00``).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import lru_cache

import lxml.html

logger = logging.getLogger(__name__)
for _name in ("trafilatura", "htmldate", "justext", "courlan"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # their per-page warnings are not ours to log

_JUSTEXT_LANGUAGES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "ms": "Malay", "nb": "Norwegian_Bokmal", "nl": "Dutch", "nn": "Norwegian_Nynorsk", "no": "Norwegian_Bokmal",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian",
    "ur": "Urdu", "vi": "Vietnamese",
}


def html_tree(html: str):
    """The page as an ``lxml.html`` document (the peers' one parse), or None for an empty page."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def trafilatura_text(htree, url: str | None = None) -> str | None:
    """trafilatura's main text of the page, paragraphs separated by a blank line; ``fast``: without
    trafilatura's internal fallback extractors (jusText votes apart)."""
    if htree is None:
        return None
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(htree, url=url, include_comments=False, with_metadata=False,
                                          include_tables=True, fast=True)
    except Exception:  # noqa: BLE001 - a library failing on one page is a missing candidate, not a crash
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        return None
    text = getattr(doc, "text", None) if doc is not None and not isinstance(doc, dict) else (doc or {}).get("text")
    if not text:
        return None
    return "\n\n".join(line.strip() for line in text.split("\n") if line.strip())


@lru_cache(maxsize=64)
def _stoplist(language: str | None) -> frozenset:
    import justext

    name = _JUSTEXT_LANGUAGES.get((language or "").split("-")[0].lower())
    return frozenset(justext.get_stoplist(name)) if name else frozenset()


# jusText's revision of short paragraphs searches each one's neighbours one by one: its time grows with
# the square of a page's paragraphs (a page of 1,000 links and 1,000 paragraphs: 0.15 s; of 10,000 each:
# 5.7 s). The real pages of ../shared/data have 193 at the median and 1,418 at most; above this the
# voter abstains.
JUSTEXT_MAX_PARAGRAPHS = 2000


_SPACES = re.compile(r"[^\S\r\n]+")
_NEWLINE_RUN = re.compile(r" ?[\r\n][ \r\n]*")


def _normalize_whitespace(text: str) -> str:
    """``justext.utils.normalize_whitespace`` without its Python callback per whitespace run (same
    result: a run holding a line break becomes one ``\\n``, any other run one space). Two passes in C:
    every run of non-break spaces becomes one space, then a run of spaces and breaks one ``\\n``."""
    text = _SPACES.sub(" ", text)
    if "\n" in text or "\r" in text:
        text = _NEWLINE_RUN.sub("\n", text)
    return text


@lru_cache(maxsize=1)
def _paragraph_maker():
    """jusText's ``ParagraphMaker`` with the same paragraphs, made cheaper: a jusText paragraph works out
    its DOM path and XPath when it is opened (most are dropped empty) and its normalised text each time
    it is read (five times per paragraph when classified). Here the path is a copy of the open elements,
    spelled out only when asked, and the text is normalised once. ``justext_text`` returns what stock
    jusText returns (tests/test_extraction_generic.py compares them page by page)."""
    from justext.core import ParagraphMaker
    from justext.paragraph import Paragraph

    class _Paragraph(Paragraph):
        def __init__(self, path):  # Paragraph.__init__'s fields, the path kept unspelled
            self._path = list(path._elements)  # (tag, order, children): tag and order never change
            self._text = None
            self.text_nodes = []
            self.chars_count_in_links = 0
            self.tags_count = 0
            self.class_type = ""

        @property
        def dom_path(self):
            return ".".join(e[0] for e in self._path)

        @property
        def xpath(self):
            return "/" + "/".join("%s[%d]" % e[:2] for e in self._path)

        @property
        def text(self):
            if self._text is None:
                self._text = _normalize_whitespace("".join(self.text_nodes).strip())
            return self._text

        def append_text(self, text):
            text = _normalize_whitespace(text)
            self.text_nodes.append(text)
            self._text = None
            return text

    class _ParagraphMaker(ParagraphMaker):
        def _start_new_pragraph(self):  # (sic) jusText's name
            if self.paragraph and self.paragraph.contains_text():
                self.paragraphs.append(self.paragraph)
            self.paragraph = _Paragraph(self.path)

    return _ParagraphMaker


def justext_text(htree, language: str | None = None, maker=None) -> str | None:
    """jusText's good paragraphs (its defaults; without a stop-word list, its language-independent mode).
    None for a page of more than :data:`JUSTEXT_MAX_PARAGRAPHS` paragraphs. ``maker``: the paragraph
    maker (default: :func:`_paragraph_maker`'s; the tests pass jusText's own)."""
    if htree is None:
        return None
    from justext.core import classify_paragraphs, preprocessor, revise_paragraph_classification

    stoplist = _stoplist(language)
    try:
        paragraphs = (maker or _paragraph_maker()).make_paragraphs(preprocessor(htree))  # the cleaner copies
        if len(paragraphs) > JUSTEXT_MAX_PARAGRAPHS:
            logger.debug("jusText not asked: %d paragraphs", len(paragraphs))
            return None
        if stoplist:
            classify_paragraphs(paragraphs, stoplist)
        else:
            classify_paragraphs(paragraphs, stoplist, stopwords_low=0, stopwords_high=0)
        revise_paragraph_classification(paragraphs)
    except Exception:  # noqa: BLE001 - see trafilatura_text
        logger.debug("jusText failed", exc_info=True)
        return None
    text = "\n\n".join(p.text.strip() for p in paragraphs  # the h1 is the title, not the body
                         if not p.is_boilerplate and p.text.strip() and not p.dom_path.endswith("h1"))
    return text or None


# Where a page lists other pages, with their dates: navigation, asides, footers and list items that
# link elsewhere ("Tin liên quan: <a>...</a> (29/11/2026)"). A date there is another story's. And code:
# a script's numbers ("v=20261101", a build stamp) are no date of the page (JSON-LD stays).
_OTHER_PAGES = ("//nav | //aside | //footer | //li[.//a[@href]] | //style"
                " | //script[not(contains(@type, 'ld+json'))]")


def without_other_pages(htree):
    """A copy of the page without the parts that list other pages, and without code (:data:`_OTHER_PAGES`)."""
    import copy

    pruned = copy.deepcopy(htree)
    for el in pruned.xpath(_OTHER_PAGES):
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return pruned


def htmldate_raw(htree, url: str | None, latest: datetime) -> str | None:
    """htmldate's publication day, ``YYYY-MM-DD`` (none after ``latest``), or None.

    Searched in the page without the parts that list other pages (a related-stories list's dates
    are the commonest wrong answer of a whole-page search). htmldate's markup search first; its
    extensive search (any date in the text) only when that found nothing, and then not when it
    answers the 1st of a month: that is how it writes what it found only to the month
    (``YYYY-MM`` -> the 1st) or the year (a copyright line -> 1 January), which is no day."""
    if htree is None:
        return None
    from htmldate import find_date

    pruned = without_other_pages(htree)
    options = {"url": url, "original_date": True, "outputformat": "%Y-%m-%d", "max_date": latest.strftime("%Y-%m-%d")}
    try:
        found = find_date(pruned, extensive_search=False, **options)
        if not found:
            found = find_date(pruned, extensive_search=True, **options)
            if found and found.endswith("-01"):
                logger.debug("htmldate's whole-text answer %s for %s is a month or a year, not a day", found, url)
                found = None
    except Exception:  # noqa: BLE001 - see trafilatura_text
        logger.debug("htmldate failed on %s", url, exc_info=True)
        return None
    return found or None


def agreement(texts: dict[str, str]) -> tuple[str, dict[str, float]]:
    """The candidate the others agree with most: highest mean shingle F1 with the other candidates
    (the ensemble of Bevendorff et al., SIGIR 2023). ``(name, {name: mean F1})``; ties go to the
    first name given."""
    names = [n for n, t in texts.items() if t]
    if len(names) < 3:
        return (names[0] if names else next(iter(texts))), {}
    grams = {n: _shingles(texts[n]) for n in names}
    sizes = {n: sum(g.values()) for n, g in grams.items()}

    def f1(a: str, b: str) -> float:  # the shingle F1 of scoring.page_prf, without recounting
        shared = sum((grams[a] & grams[b]).values())
        return 2 * shared / (sizes[a] + sizes[b]) if sizes[a] + sizes[b] else 0.0

    scores = {n: sum(f1(n, m) for m in names if m != n) / (len(names) - 1) for n in names}
    return max(names, key=lambda n: scores[n]), scores


def overlap(a: str | None, b: str | None) -> float:
    """Shingle F1 of two texts (scoring.page_prf's F1, from the shingles :func:`agreement` reuses)."""
    if not a or not b:
        return 0.0
    ga, gb = _shingles(a), _shingles(b)
    size = sum(ga.values()) + sum(gb.values())
    return 2 * sum((ga & gb).values()) / size if size else 0.0


@lru_cache(maxsize=8)
def _shingles(text: str):
    """scoring.shingles, kept for the few texts of the page being voted on (overlap, then agreement)."""
    from pipelines.extraction.scoring import shingles

    return shingles(text)
