"""Layer 3: the main text of a page without site knowledge.

Readability-style, on the tree the other layers share (nothing is parsed or
copied again, nothing in the tree is changed):

1. boilerplate subtrees are recognised once: non-content tags (``nav``,
   ``footer``, ``aside``, ``form``, ``script``...) and elements whose class, id or
   role says comments, sharing, related links, ads, newsletter...;
2. every text block (``p``, headings, list items, quotes, leaf ``div``) outside
   them scores its parent (fully) and grandparent (half) by length and commas;
3. the best container, discounted by its link density, wins; siblings that
   score close to it (articles split in several ``div``) join it;
4. its paragraphs are read in order, dropping link-heavy blocks (teaser lists),
   very short furniture lines and the title ``h1``.

Most of the work runs in lxml's C code (XPath, ``string()``); Python only looks at
the few hundred text blocks of a page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from pipelines.extraction.tree import body_of, compiled_xpath, squash

SKIP_TAGS = frozenset(
    "script style noscript template iframe svg button select option textarea input nav footer "
    "head object embed canvas video audio map dialog menu figure figcaption picture".split()
)
BLOCK_TAGS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre table tr td th tbody thead "
    "figure figcaption header hr br center address details summary".split()
)
_NEGATIVE = re.compile(
    r"comment|disqus|share|sharing|social|shariff|related|recommend|more-?stories|read-?more|readmore|"
    r"newsletter|subscribe|signup|paywall-?(?:box|teaser)|promo|sponsor|advert|\bads?\b|\bad-|-ad\b|adslot|"
    r"banner|sidebar|side-bar|widget|breadcrumb|pagination|pager|\btags?\b|tag-?list|keyword|footer|"
    r"masthead|\bnav\b|navbar|navigation|menu|popup|modal|cookie|consent|byline|author-?box|author-bio|"
    r"meta-?data|toolbar|rating|vote|poll|outbrain|taboola|teaser-?list|most-?read|trending|"
    r"caption|credit|legende|copyright|rss|jump-?link|skip-?link|hidden|visually-?hidden|sr-only|screen-?reader|"
    r"infobox|info-?box|factbox|toggle|accordion|expand|collaps|timestamp|dateline|"
    r"more-?from|more-?on|you-?may|also-?like|next-?article|prev-?article|article-?footer|"
    r"gallery|slideshow|carousel|lightbox|picbox|image-?box|photo|media-?credit",
)
_POSITIVE = re.compile(
    r"article-?body|articlebody|article__body|article-?content|article-?text|story-?body|story-?content|"
    r"entry-?content|post-?content|post-?body|main-?content|body-?text|text-?body|content-?body|"
    r"detail-?content|fck_detail|news-?content|rich-?text|paragraph|\bprose\b",
)
# Both are written in lower case and read lower-cased marks (_marks): the same answers on the 51,408
# distinct class strings of ../shared/data's pages as re.IGNORECASE, four times faster (Python's re
# tries each alternative of a long case-insensitive alternation at every position without a prefilter)
# Furniture comes in containers: links, list items, images and inline tags are not looked at one by one.
MARKED_TAGS = ("div", "section", "ul", "ol", "header", "table", "p", "figure", "dl", "span", "article", "details")
TEXT_BLOCK_TAGS = ("p", "pre", "blockquote", "h2", "h3", "h4", "h5", "li", "dd", "td", "figcaption", "div")
# a div holding one of these is a container, not a text block
_DIV_CONTAINS = frozenset("p div ul ol table section article h2 h3 figure blockquote".split())
_X_TEXT = compiled_xpath("string()")
_X_LONG_TEXTS = compiled_xpath("descendant::text()[string-length(normalize-space(.)) > 120]")
_X_VISIBLE_TEXT = compiled_xpath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)
_X_LEN = compiled_xpath("string-length(normalize-space(.))")
_FURNITURE = re.compile(
    r"^(?:advertisement|anzeige|werbung|publicité|pubblicità|publicidad|quảng cáo|read more|read also|see also|"
    r"mehr zum thema|lesen sie auch|auch interessant|related|share|teilen|tweet|follow us|"
    r"copyright\b|©|all rights reserved|alle rechte vorbehalten|bild:|foto:|photo:|image:|getty images|"
    r"xem thêm|tin liên quan|chia sẻ|\(c\))",
    re.I,
)
_ROLE_NEGATIVE = {"navigation", "banner", "contentinfo", "complementary", "dialog", "search", "menu", "menubar"}
MIN_BLOCK = 25


def _marks(el) -> str:
    """Class and id in lower case, with utility-class variants dropped ('print:max-w-full' -> 'max-w-full')."""
    marks = " ".join(filter(None, (el.get("class"), el.get("id")))).lower()
    if ":" in marks:
        marks = " ".join(token.rsplit(":", 1)[-1] for token in marks.split())
    return marks


@lru_cache(maxsize=8192)
def _furniture_marks(marks: str) -> bool:
    """Class/id words that say furniture (cached: a page repeats a few hundred class strings)."""
    return bool(_NEGATIVE.search(marks)) and not _POSITIVE.search(marks)


@lru_cache(maxsize=8192)
def _marks_weight(marks: str) -> float:
    weight = 0.0
    if _POSITIVE.search(marks):
        weight += 25
    if _NEGATIVE.search(marks):
        weight -= 25
    return weight


def _long_text_counts(tree) -> dict:
    """element -> number of long text runs (> 120 characters) inside it."""
    counts: dict = defaultdict(int)
    for text in _X_LONG_TEXTS(body_of(tree)):
        parent = text.getparent()
        if parent is None or parent.tag in ("script", "style", "noscript", "template"):
            continue
        counts[parent] += 1
        for ancestor in parent.iterancestors():
            counts[ancestor] += 1
    return counts


def boilerplate(tree) -> set:
    """Every element inside a subtree that is not article text (the subtree roots included)."""
    return furniture(tree)[0]


def furniture(tree) -> tuple[set, set]:
    """``(bad, suspect)``: elements inside subtrees that are not article text, and elements inside
    subtrees whose markup says furniture but hold too much text to be dropped outright (their text
    does not help a container win the climb in :func:`best_container`).

    A subtree whose markup says furniture is believed only when it holds little
    running text (sites wrap whole articles in 'hidden-xs', 'sidebar-layout' or
    ad-container classes)."""
    long_texts = _long_text_counts(tree)

    def _soft(el) -> bool:
        return long_texts.get(el, 0) < 3

    body = body_of(tree)
    roots = set(body.iter(*SKIP_TAGS))
    suspect_roots: list = []
    for el in body.iter("aside"):
        if _soft(el):
            roots.add(el)
    for el in body.iter(*MARKED_TAGS):
        attrib = el.attrib
        if not attrib or el in roots:
            continue
        if el.get("hidden") is not None or el.get("aria-hidden") == "true" and el.tag in ("div", "section", "ul"):
            if _soft(el):
                roots.add(el)
            continue
        if (el.get("role") or "").lower() in _ROLE_NEGATIVE:
            if _soft(el):
                roots.add(el)
            continue
        marks = _marks(el)
        if marks and _furniture_marks(marks):
            if _soft(el):
                roots.add(el)
            else:
                suspect_roots.append(el)
    bad: set = set()
    for root in roots:
        if root not in bad:
            bad.update(root.iter())
    suspect: set = set()
    for root in suspect_roots:
        if root not in suspect:
            suspect.update(root.iter())
    return bad, suspect


def _class_weight(el) -> float:
    marks = _marks(el)
    return _marks_weight(marks) if marks else 0.0


def _link_density(el, text_len: float) -> float:
    if text_len <= 0:
        return 0.0
    linked = 0
    for a in el.iter("a"):
        linked += len(" ".join(_X_TEXT(a).split()))
    return min(1.0, linked / text_len)


def best_container(tree, bad: set, suspect: frozenset | set = frozenset()):
    """The element holding the main text, and the scored candidates (for the sibling step)."""
    scores: dict = defaultdict(float)
    mass: dict = defaultdict(float)
    texts: dict = {}
    for block in body_of(tree).iter(*TEXT_BLOCK_TAGS):
        if block in bad:
            continue
        if block.tag == "div" and any(child.tag in _DIV_CONTAINS for child in block):
            # a container; its own loose text ('<div>text<br>text<div>...</div>text</div>') still counts
            text = squash((block.text or "") + " ".join(c.tail or "" for c in block))
            if len(text) < 100:
                continue
        else:
            text = squash("".join(_X_VISIBLE_TEXT(block)))
        if len(text) < MIN_BLOCK or _link_density(block, len(text)) > 0.5:
            continue
        texts[block] = text
        commas = text.count(",") + text.count("，") + text.count("、") + text.count("،")
        score = 1.0 + min(commas, 10) + min(len(text) / 100.0, 10.0)
        if block not in suspect:
            for ancestor in block.iterancestors():
                mass[ancestor] += score
        parent = block.getparent()
        if parent is None:
            continue
        scores[parent] += score
        grand = parent.getparent()
        if grand is not None and grand.tag != "html":
            scores[grand] += score / 2
    if not scores:
        return None, {}
    best, best_score = None, 0.0
    final: dict = {}
    for el, score in scores.items():
        score = (score + _class_weight(el)) * (1 - _link_density(el, _X_LEN(el)))
        final[el] = score
        if score > best_score:
            best, best_score = el, score
    # Paragraphs wrapped one by one ('<div class="text-block"><p>'): climb while the parent holds
    # clearly more of the page's running text and is not a link list.
    while best is not None:
        parent = best.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        if mass[parent] < 1.3 * mass[best] and mass[parent] > mass[best]:
            break  # the parent adds some text, not enough to be the article: stay
        if _link_density(parent, _X_LEN(parent)) > 0.5:
            break
        final[parent] = max(final.get(parent, 0.0), final[best])
        best = parent
    final["__mass__"] = mass
    return best, final


_SENTENCE_END = re.compile(r"[.!?…:;\"”»)\]。！？]$")
_TAIL_HEADING = re.compile(
    r"^(?:more (?:from|on|stories|news)|more \w+$|related|read (?:more|also|next)|see also|recommended|"
    r"mehr zum thema|mehr aus|lesen sie auch|auch interessant|weitere artikel|das könnte sie|"
    r"tin liên quan|xem thêm|tin cùng chuyên mục|các tin khác|đọc thêm|"
    r"à lire aussi|lire aussi|leggi anche|lee también|les også|läs också|relaterte)\b",
    re.I,
)
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$")
_CREDIT_END = re.compile(
    r"(?:\b(?:Bildrechte|Foto|Fotos|Photo|Photos|Image|Credit|Credits|Bild|Ảnh|Nguồn ảnh)\s*:\s*[^.!?]{1,60}|"
    r"\((?:AP|AFP|Reuters|dpa|EPA)[^)]{0,40}\))\s*$"
)
HEADINGS = frozenset("h2 h3 h4 h5 h6".split())


def _paragraphs(container, bad: set, title: str | None) -> list[str]:
    """Paragraphs of ``container`` in order: link-heavy blocks, furniture lines, short label lines
    (no sentence end, not a heading) dropped; a 'More from ...' heading ends the text."""
    out: list[str] = []
    parts: list[str] = []
    linked = [0]
    state = {"done": False, "seen": 0, "total": float(_X_LEN(container)) or 1.0}

    def flush(heading: bool = False):
        text = squash("".join(parts))
        parts.clear()
        link_chars = linked[0]
        linked[0] = 0
        if not text or state["done"]:
            return
        if link_chars > (0.5 if len(text) < 120 else 0.7) * len(text):
            return
        if len(text) < 60 and _FURNITURE.match(text):
            return
        if title and text == title:
            return
        if len(text) < 80 and _TAIL_HEADING.match(text):
            if len(out) >= 3 and state["seen"] > 0.5 * state["total"]:
                state["done"] = True  # 'More from ...' in the last part: the rest is links
            return
        state["seen"] += len(text)
        if len(text) < 40 and not heading and not _SENTENCE_END.search(text):
            return
        if _URL_ONLY.match(text) or (len(text) < 300 and _CREDIT_END.search(text)):
            return  # a bare link; a photo caption ending in its credit
        out.append(text)

    def walk(node, in_link: bool):
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or node in bad or tag in SKIP_TAGS or state["done"]:
            return
        if tag == "h1":
            flush()
            return
        block = tag in BLOCK_TAGS or tag in HEADINGS
        if block:
            flush()
        link = in_link or tag == "a"
        if node.text:
            parts.append(node.text)
            if link:
                linked[0] += len(node.text.strip())
        for child in node:
            walk(child, link)
            if child.tail:
                parts.append(child.tail)
                if link:
                    linked[0] += len(child.tail.strip())
        if block:
            flush(heading=tag in HEADINGS or _bold_only(node))

    walk(container, False)
    flush()
    return out


def _bold_only(node) -> bool:
    """A paragraph that is one bold run: a subheading written as '<p><strong>...</strong></p>'."""
    if node.tag != "p" or (node.text or "").strip() or len(node) != 1:
        return False
    child = node[0]
    return child.tag in ("strong", "b") and not (child.tail or "").strip()


CHUNK_MIN = 0.1  # a chunk holds at least this share of the best container's text


def _chunks(tree, best, bad: set, mass: dict) -> list:
    """``best`` and the other parts of the same article: elements with exactly its tag and class
    elsewhere on the page (bodies split around ads or media: 'article__body' chunks, story stacks)."""
    cls = best.get("class")
    if not cls:
        return [best]
    inside = set(best.iter())
    ancestors = set(best.iterancestors())
    out = []
    for el in body_of(tree).iter(best.tag):
        if el is best:
            out.append(el)
            continue
        if el.get("class") != cls or el in bad or el in inside or el in ancestors or mass.get(el, 0.0) <= 0:
            continue
        if mass.get(el, 0.0) < CHUNK_MIN * mass.get(best, 0.0):
            continue
        if _link_density(el, _X_LEN(el)) > 0.3:
            continue
        out.append(el)
    # a chunk nested in another chunk is read with it
    return [el for el in out if not any(a in out for a in el.iterancestors())]


def generic_paragraphs(tree, title: str | None = None, bad: set | None = None) -> list[str]:
    """The main text of the page as paragraphs ([] when nothing article-like is found)."""
    suspect: set = set()
    if bad is None:
        bad, suspect = furniture(tree)
    best, scores = best_container(tree, bad, suspect)
    if best is None:
        return []
    mass = scores.pop("__mass__", {})
    parent = best.getparent()
    chosen = _chunks(tree, best, bad, mass)
    if len(chosen) == 1 and parent is not None:
        threshold = max(10.0, scores[best] * 0.2)
        chosen = []
        for sibling in parent:
            if sibling is best or (scores.get(sibling, 0.0) >= threshold and sibling not in bad):
                chosen.append(sibling)
    paras: list[str] = []
    for el in chosen:
        paras.extend(_paragraphs(el, bad, title))
    return paras


def generic_body(tree, title: str | None = None) -> str | None:
    """Main text of the page, paragraphs joined by a blank line, or None."""
    paras = generic_paragraphs(tree, title)
    return "\n\n".join(paras) or None
