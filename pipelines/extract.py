"""Step 1: layered field extraction from the decoded page.

``extract_fields(html, url, source, hints)`` parses the page once and reads
each field from the first layer that has it:

1. the source's :class:`~crawler.sources.base.Layout` rules (``rules``), with
   ``Layout.drop`` furniture removed from the shared tree first;
2. JSON-LD (``jsonld``), then ``<meta>``/OpenGraph (``meta``), then ``<time>`` (``time``);
3. what discovery said (feed/sitemap ``hints``: ``feed``);
4. where no rule gave the body, :func:`generic_choice`: our generic extractor
   (``generic``), confirmed by the publisher's JSON-LD ``articleBody`` where it
   agrees, else beside trafilatura (``trafilatura``, on an ``lxml.html`` parse the
   peers share); where those two disagree jusText (``justext``) votes and the text
   the others agree with most wins; the ``articleBody`` where it is more than twice
   the chosen text; page-level fallbacks (``generic``); htmldate's day
   (``htmldate``) when no metadata layer gave a date; the URL (``url``).

The layout is chosen with ``source.layout_for(date)`` where the date is the
page's metadata date (or the discovery hint), read before any rule runs.
``field_sources`` records the layer of every field that was found.
``published_candidates`` lists every publication-date string seen, as
``[raw, label]`` in the order above (visible date lines and a timestamp in the
URL last); :mod:`pipelines.dates` chooses among them.
"""

from __future__ import annotations

import logging
import re

from pipelines.dates import language_tag, parse_date
from pipelines.extraction.dateline import date_lines
from pipelines.extraction.generic import generic_body
from pipelines.extraction.metadata import canonical_link, read_metadata
from pipelines.extraction.peers import agreement, html_tree, htmldate_raw, justext_text, overlap, trafilatura_text
from pipelines.extraction.rules import apply_layout
from pipelines.extraction.tree import compiled_xpath, parse_html, text_of
from storage import clock

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "lead", "body", "section", "published_at_raw", "modified_at_raw", "canonical_url")
LIST_FIELDS = ("authors", "tags", "image_captions")
_X_H1 = compiled_xpath("//h1")
_X_TITLE = compiled_xpath("//title")
_TITLE_SUFFIX = re.compile(r"\s+[-|–—:]\s+[^-|–—:]{2,40}$")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
# The generic path's body (Bevendorff et al., SIGIR 2023: agreement between extractors beats any one of
# them). Our extractor and trafilatura (its own extraction without its internal fallbacks: `fast`) read
# every page; where their texts agree (shingle F1 >= AGREE) ours is kept, where they do not jusText joins
# and the text the others agree with most wins. Where the publisher's JSON-LD articleBody agrees with ours
# (CONFIRMERS) nobody else is asked. Chosen on the tune half of fundus-pages only (README "Quality of
# extraction"), among: ours first and trafilatura only where ours was empty or a JSON-LD articleBody
# could vote (0.9580, the rule before), the articleBody as the voter (0.9550), trafilatura with its
# fallbacks (0.9585), readability-lxml or trafilatura's baseline as the voter (0.9542, 0.9556), the
# three voting on every page (0.9601, for jusText's ~10-35 ms on every page instead of about a third of
# them), AGREE from 0.90 to 0.99 (0.9574 .. 0.9601), and without the articleBody's confirmation (0.9592,
# trafilatura on a fifth more pages): this rule gave 0.9594.
BODY_CANDIDATES = ("generic", "trafilatura")
CONFIRMERS = ("jsonld",)
VOTERS = ("justext",)
AGREE = 0.95
_METADATA_LABELS = frozenset({"rules", "jsonld", "meta", "time", "feed"})
_URL_DATE = re.compile(r"(?<!\d)(20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])([0-5]\d)")


def _layout_date(source, meta: dict, hints: dict):
    """A publication date good enough to pick the layout version (day precision)."""
    if source is None or len(source.layouts) < 2:
        return None
    for raw in ((meta.get("published_at_raw") or (None,))[0], hints.get("published_raw")):
        if raw:
            dt, _ = parse_date(str(raw), fetched_at=None, tz=source.timezone)
            if dt is not None:
                return dt.date()
    return None


def _generic_title(tree) -> str | None:
    for h1 in _X_H1(tree):
        t = text_of(h1)
        if len(t) > 5:
            return t
    titles = _X_TITLE(tree)
    if titles:
        t = text_of(titles[0])
        return _TITLE_SUFFIX.sub("", t) or t or None
    return None


_X_STARTS = compiled_xpath(
    "//body//*[self::p or self::div or self::h2 or self::h3 or self::span or self::strong or self::section"
    " or self::header or self::em or self::b or self::li][starts-with(normalize-space(.), $prefix)]"
)


def _visible(tree, text: str) -> bool:
    """Whether ``text`` (a lead from metadata) is printed in the page body."""
    words = text.split()
    if len(words) < 3:
        return False
    prefix = " ".join(words[:6])[:48]
    if "'" in prefix and '"' in prefix:
        return True  # cannot be quoted in XPath 1.0; give it the benefit of the doubt
    return bool(_X_STARTS(tree, prefix=prefix))


def _language(value: str | None, default: str | None) -> str | None:
    if value:
        code = re.split(r"[-_]", value.strip().lower())[0]
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    return default


def _locale(value: str | None) -> str | None:
    """The page's language tag with its region (``en_US`` -> ``en-us``), spelled as pipelines.dates
    reads it; None for anything that is not one tag."""
    tag = language_tag(value)
    return tag if re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*", tag) else None


def generic_choice(names: tuple[str, ...], make: dict, voters: tuple[str, ...] = VOTERS,
                   confirmers: tuple[str, ...] = CONFIRMERS) -> tuple[str, str | None]:
    """``(label, text)`` of the generic path's body among the candidates ``names`` (made by ``make``).

    The first candidate stands alone where one of ``confirmers`` (the publisher's articleBody) agrees
    with it (shingle F1 >= ``AGREE``). Otherwise every candidate is made. One with text: itself. Two
    that agree: the first. Two that do not: the first of ``voters`` with a text joins them and the
    candidate with the highest mean agreement with the others wins
    (:func:`~pipelines.extraction.peers.agreement`); with no voter (or none with a text), the first
    stands.
    """
    texts = {names[0]: make[names[0]]()}
    if texts[names[0]] and any(overlap(texts[names[0]], make[c]()) >= AGREE for c in confirmers):
        return names[0], texts[names[0]]
    for name in names[1:]:
        texts[name] = make[name]()
    present = {name: texts[name] for name in names if texts[name]}
    if not present:
        return names[0], None
    if len(present) == 2 and overlap(*present.values()) < AGREE:
        for voter in voters:
            said = make[voter]()
            if said:
                present[voter] = said
                break
    label, _ = agreement(present)
    return label, present[label]


def extract_fields(html: str, url: str | None = None, source=None, hints: dict | None = None, tree=None, *,
                   body_candidates: tuple[str, ...] = BODY_CANDIDATES, voters: tuple[str, ...] = VOTERS,
                   confirmers: tuple[str, ...] = CONFIRMERS, use_htmldate: bool = True) -> dict:
    """Every extracted field plus ``field_sources``; missing fields are None / [].

    ``body_candidates``: which extractors the generic path asks (the benchmark measures
    each alone); ``voters``: who settles their disagreement, ``confirmers``: who can spare
    the others (:func:`generic_choice`);
    ``use_htmldate``: whether htmldate is the last date reader before the URL.
    """
    hints = hints or {}
    peer_tree: list = []  # the peers' lxml.html parse, made at most once and only when needed

    def peers_tree():
        if not peer_tree:
            peer_tree.append(html_tree(html))
        return peer_tree[0]

    if tree is None:
        tree = parse_html(html)
    meta = read_metadata(tree)
    meta_canonical = canonical_link(tree)
    layout = source.layout_for(_layout_date(source, meta, hints)) if source is not None else None
    ruled = apply_layout(tree, layout)

    out: dict = {f: None for f in TEXT_FIELDS}
    out.update({f: [] for f in LIST_FIELDS})
    sources: dict[str, str] = {}

    def put(field, value, label):
        if value and not out.get(field):
            out[field] = value
            sources[field] = label

    for field, value in ruled.items():
        put(field, value, "rules")
    canonical = meta.get("canonical_url")
    if canonical and canonical[1] == "jsonld" and meta_canonical:
        meta["canonical_url"] = (meta_canonical, "meta")  # <link rel=canonical> beats a JSON-LD @id
    candidates: list[list[str]] = []

    def candidate(raw, label):
        if raw and str(raw).strip() and all(c[0] != raw for c in candidates):
            candidates.append([str(raw), label])

    candidate(ruled.get("published_at_raw"), "rules")
    for raw, label in meta.pop("published_candidates", ([], ""))[0]:
        candidate(raw, label)
    candidate(hints.get("published_raw"), "feed")
    for field, (value, label) in meta.items():
        if field in ("body", "language"):
            continue
        if field in LIST_FIELDS and isinstance(value, str):
            value = [value]
        put(field, value, label)
    put("title", hints.get("title"), "feed")
    put("published_at_raw", hints.get("published_raw"), "feed")
    put("modified_at_raw", hints.get("modified_raw"), "feed")

    put("title", _generic_title(tree), "generic")
    lang_value = meta.get("language", (None,))[0]
    language = _language(lang_value, getattr(source, "language", None))
    if not out["body"]:
        declared = meta.get("body", (None,))[0]
        label, found = generic_choice(body_candidates, {
            "generic": lambda: generic_body(tree, out["title"]),
            "trafilatura": lambda: trafilatura_text(peers_tree(), url),
            "justext": lambda: justext_text(peers_tree(), language),
            "jsonld": lambda: declared,
        }, voters, confirmers)
        if declared and len(declared) > 2 * len(found or ""):
            # a page rendered by JavaScript, or a body split beyond recognition: the publisher's own
            # articleBody is the better text
            put("body", declared, "jsonld")
        put("body", found, label)
    if out["lead"] and sources.get("lead") != "rules" and not _visible(tree, out["lead"]):
        # a description written for search engines and social cards, not printed on the page:
        # not the article's lead
        out["lead"] = None
        sources.pop("lead", None)
    if not any(_HAS_TIME.search(c[0]) for c in candidates):
        for line in date_lines(tree):
            candidate(line, "generic")
    if use_htmldate and not any(c[1] in _METADATA_LABELS for c in candidates):
        # htmldate searches the whole page for its original date: below our readers, and checked
        # against the URL, feed and modification dates before it is trusted (pipelines.dates)
        candidate(htmldate_raw(peers_tree(), url, clock.now()), "htmldate")
    if url:
        m = _URL_DATE.search(url)
        if m:
            candidate("{}-{}-{}T{}:{}".format(*m.groups()), "url")
    if candidates and not out["published_at_raw"]:
        put("published_at_raw", candidates[0][0], candidates[0][1])
    out["published_candidates"] = candidates

    if out["canonical_url"]:
        out["canonical_url"] = out["canonical_url"].split("#", 1)[0]
    out["language"] = language
    out["locale"] = _locale(lang_value)  # region included: the zone and date order of a page without a source
    if out["language"]:
        sources["language"] = meta["language"][1] if lang_value else "rules"
    out["field_sources"] = sources
    return out


class ExtractPipeline:
    """Adds the extracted fields to the page item (see :func:`extract_fields`)."""

    def __init__(self, source=None):
        self.source = source

    @classmethod
    def from_crawler(cls, crawler):
        return cls(source=crawler.crawl_run.source)

    def process_item(self, item):
        source = self.source
        url = item.get("response_url") or item.get("url")
        item.update(extract_fields(item.get("html") or "", url, source, item.get("hints")))
        return item
