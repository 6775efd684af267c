"""Real-text evaluation sets of the near-duplicate stage (read in place from ../shared/data).

The sets only; ``benchmarks/neardup_eval.py`` measures the stage on them.

Negatives: ``vn-same-story`` - 628 articles in 199 clusters, each cluster one event
told by 2-5 outlets. They are rewrites, not copies: no pair may be merged.

Positives: syndicated copies of real bodies (the 628 above and the full bodies of
``vn-pages/gold-bodies.jsonl``), made with the edits syndication makes, each
edit taking its new text from another real article where it needs some:

- ``headline``: the copy's own headline printed as the first body line (another
  outlet's title of the same event);
- ``lead``: the first sentence replaced by another outlet's lead of the same event;
- ``caption``: the photo caption dropped, or replaced by another article's caption,
  or one added;
- ``credit``: a trailing credit line ("Theo TTXVN", "Nguồn: Báo Bình Dương", ...);
- ``reword``: one sentence reworded (words dropped, added, swapped);
- ``cut``: one paragraph cut (the last one, or one in the middle);
- ``furniture``: page furniture left in ("Xem thêm: ...", "Chia sẻ", copyright line).

and three composites: ``syndicated`` (headline + lead + caption + credit),
``syndicated+`` (+ reword + furniture), ``syndicated++`` (+ a paragraph cut).
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

_SENTENCE = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“(‘]?[A-ZÀ-ỸĐ0-9])")
_CAPTION = re.compile(
    r"^([^>\n]{10,200}?(?:[-–(.]\s*)?\(?Ảnh\s*:\s*[\w.]+(?:/[\w.]+)*\)?\.?)\s+(?=\S)"
)

CREDITS = [
    "Theo TTXVN", "Nguồn: Báo Bình Dương", "(Theo VOV)", "Theo Báo Chính phủ", "Nguồn: TTXVN",
    "PV (tổng hợp)", "Theo Cổng TTĐT tỉnh Đồng Nai", "Nguồn: Báo Quảng Ninh điện tử", "(TTXVN/Vietnam+)",
    "Minh Anh (TTXVN)",
]
FURNITURE = [
    "Chia sẻ", "Bình luận (0)", "Tin liên quan", "In bài viết", "TTXVN/Vietnam+",
    "Theo dõi Báo Bình Dương trên Google News",
    "Bản quyền thuộc về Báo điện tử tỉnh. Ghi rõ nguồn khi phát hành lại thông tin từ website này.",
]
# An edit that would change more than this share of a body's words is not applied (the copy
# would no longer be the same text): the variant is counted as not applicable.
MAX_EDIT_SHARE = 1 / 3
MAX_LEAD_WORDS = 50
_FILLERS = ["đã", "cũng", "vừa", "đang", "rất", "nhằm", "theo đó", "cụ thể"]
SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@dataclass
class Doc:
    id: str
    cluster: str | None
    title: str
    paragraphs: list[str]
    summary: str = ""
    caption: str | None = None  # the leading photo caption, when the body starts with one
    extra: dict = field(default_factory=dict)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def _detok(text: str) -> str:
    """Undo the word segmentation of the dataset's TITLE / SUMMARY fields."""
    text = text.replace("_", " ")
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    return re.sub(r"\(\s+", "(", text).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _paragraphs(text: str, rng: random.Random) -> tuple[list[str], str | None]:
    """A one-line body as paragraphs of 1-4 sentences; a leading caption as its own paragraph."""
    caption = None
    m = _CAPTION.match(text)
    if m:
        caption, text = m.group(1).strip(), text[m.end():]
    sents, paras = sentences(text), []
    while sents:
        n = rng.randint(1, 4)
        paras.append(" ".join(sents[:n]))
        sents = sents[n:]
    return ([caption] if caption else []) + paras, caption


def load_same_story(root: Path, seed: int = 7) -> list[Doc]:
    rng = random.Random(seed)
    docs = []
    for cdir in sorted(root.glob("cluster_*"), key=lambda p: int(p.name.split("_")[1])):
        for body_path in sorted(cdir.glob("*.body.txt")):
            doc_id = body_path.name.split(".")[0]
            info = body_path.with_name(f"{doc_id}.info.txt").read_text(encoding="utf-8")
            meta = dict(re.findall(r"^(TITLE|SUMMARY|LINK): (.*)$", info, re.M))
            paras, caption = _paragraphs(body_path.read_text(encoding="utf-8").strip(), rng)
            docs.append(Doc(f"ss:{cdir.name}/{doc_id}", cdir.name, _detok(meta.get("TITLE", "")), paras,
                            _detok(meta.get("SUMMARY", "")), caption, {"link": meta.get("LINK", "")}))
    return docs


def load_gold(path: Path) -> list[Doc]:
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            paras = [p.strip() for p in d["body"].split("\n\n") if p.strip()]
            docs.append(Doc(f"gold:{d['file']}", None, d.get("title") or "", paras, extra={"url": d.get("url")}))
    return docs


# ------------------------------------------------------------------ edits
class Pool:
    """Real text to draw replacement leads, headlines and captions from."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.by_cluster: dict[str, list[Doc]] = {}
        for d in docs:
            if d.cluster:
                self.by_cluster.setdefault(d.cluster, []).append(d)
        self.captions = [d.caption for d in docs if d.caption]

    def other(self, doc: Doc, rng: random.Random) -> Doc:
        """Another outlet's article of the same event when there is one, else any other article."""
        same = [d for d in self.by_cluster.get(doc.cluster or "", []) if d.id != doc.id]
        return rng.choice(same) if same else rng.choice([d for d in self.docs if d.id != doc.id])


def _words(text: str) -> int:
    return len(text.split())


def _body_start(paras: list[str], doc: Doc) -> int:
    return 1 if doc.caption and paras and paras[0] == doc.caption else 0


def edit_headline(paras, doc, rng, pool):
    return [pool.other(doc, rng).title or doc.title] + paras


def edit_lead(paras, doc, rng, pool):
    i = _body_start(paras, doc)
    if i >= len(paras):
        return paras
    first = sentences(paras[i])
    if _words(first[0]) > _words(" ".join(paras)) * MAX_EDIT_SHARE:
        return None  # the "lead" would be most of the story: not a syndication edit
    other = pool.other(doc, rng)
    new_lead = (sentences(other.summary) or sentences(other.paragraphs[-1]) or [""])[0]
    if _words(new_lead) > MAX_LEAD_WORDS:  # a lead is a sentence or two, not an article
        new_lead = " ".join(new_lead.split()[:MAX_LEAD_WORDS]).rstrip(",;:") + "."
    return paras[:i] + [" ".join([new_lead] + first[1:])] + paras[i + 1 :]


def edit_caption(paras, doc, rng, pool):
    other_caption = rng.choice(pool.captions) if pool.captions else None
    if doc.caption and paras and paras[0] == doc.caption:
        if rng.random() < 0.5 or not other_caption:
            return paras[1:]  # dropped
        return [other_caption] + paras[1:]  # changed
    at = rng.randint(0, max(0, len(paras) - 1))
    return paras[:at] + [other_caption or "Ảnh minh họa"] + paras[at:]  # added


def edit_credit(paras, doc, rng, pool):
    return paras + [rng.choice(CREDITS)]


def edit_reword(paras, doc, rng, pool):
    start = _body_start(paras, doc)
    choices = [(i, j) for i in range(start, len(paras)) for j, s in enumerate(sentences(paras[i])) if len(s.split()) >= 8]
    if not choices:
        return paras
    i, j = rng.choice(choices[1:] or choices)
    sents = sentences(paras[i])
    words = sents[j].split()
    for _ in range(rng.randint(2, 4)):
        op = rng.choice(("drop", "add", "swap"))
        k = rng.randrange(1, len(words) - 2)  # the first and last words (and the full stop) stay
        if op == "drop" and len(words) > 6:
            del words[k]
        elif op == "add":
            words.insert(k, rng.choice(_FILLERS))
        else:
            words[k], words[k + 1] = words[k + 1], words[k]
    sents[j] = " ".join(words)
    return paras[:i] + [" ".join(sents)] + paras[i + 1 :]


def edit_cut(paras, doc, rng, pool):
    start = _body_start(paras, doc)
    total = _words(" ".join(paras))
    cuttable = [i for i in range(start + 1, len(paras)) if _words(paras[i]) <= total * MAX_EDIT_SHARE]
    if len(paras) - start < 3 or not cuttable:
        return None  # no paragraph a syndicator would cut without cutting the story
    last = len(paras) - 1
    i = last if last in cuttable and rng.random() < 0.6 else rng.choice(cuttable)
    return paras[:i] + paras[i + 1 :]


def edit_furniture(paras, doc, rng, pool):
    lines = rng.sample(FURNITURE, 2) + ["Xem thêm: " + (pool.other(doc, rng).title or "Tin mới")]
    head, tail = lines[:1], lines[1:]
    return head + paras + tail


EDITS = {
    "headline": edit_headline, "lead": edit_lead, "caption": edit_caption, "credit": edit_credit,
    "reword": edit_reword, "cut": edit_cut, "furniture": edit_furniture,
}
COMPOSITES = {
    "syndicated": ("headline", "lead", "caption", "credit"),
    "syndicated+": ("headline", "lead", "caption", "credit", "reword", "furniture"),
    "syndicated++": ("headline", "lead", "caption", "credit", "reword", "furniture", "cut"),
}
# Order edits are applied in (the lead before the headline goes on top of it, the cut before the tail).
_ORDER = ("cut", "reword", "lead", "caption", "headline", "credit", "furniture")


def make_copy(doc: Doc, kinds, rng: random.Random, pool: Pool) -> str:
    """The copy's body, or None when one of the edits does not apply to this article."""
    paras = list(doc.paragraphs)
    for name in _ORDER:
        if name in kinds:
            paras = EDITS[name](paras, doc, rng, pool)
            if paras is None:
                return None
    return "\n\n".join(p for p in paras if p)


def positives(docs: list[Doc], seed: int = 11) -> list[tuple[str, str, str]]:
    """``(kind, base doc id, copy body)`` for every base doc: each edit alone, then each composite
    (variants whose edits do not apply to a doc are left out)."""
    rng, pool, out = random.Random(seed), Pool(docs), []
    for doc in docs:
        for kind in list(EDITS) + list(COMPOSITES):
            body = make_copy(doc, COMPOSITES.get(kind, (kind,)), rng, pool)
            if body is not None:
                out.append((kind, doc.id, body))
    return out


def same_story_pairs(docs: list[Doc]) -> list[tuple[Doc, Doc]]:
    by: dict[str, list[Doc]] = {}
    for d in docs:
        if d.cluster:
            by.setdefault(d.cluster, []).append(d)
    return [(a, b) for members in by.values() for i, a in enumerate(members) for b in members[i + 1 :]]


def load_all(shared: Path = SHARED) -> tuple[list[Doc], list[Doc]]:
    """(vn-same-story docs, gold-body docs); FileNotFoundError names what is missing."""
    ss, gold = shared / "vn-same-story" / "clusters", shared / "vn-pages" / "gold-bodies.jsonl"
    for path in (ss, gold):
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: the evaluation reads ../shared/data in place")
    return load_same_story(ss), load_gold(gold)


def load_fundus(shared: Path = SHARED) -> list[tuple[str, str]]:
    """``(id, body)`` of the fundus pages with a body (41 countries, one Vietnamese): more
    negatives, real pages of other stories; empty when the folder is missing."""
    out, pairs = [], shared / "fundus-pages" / "pairs.jsonl"
    if pairs.exists():
        for line in pairs.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                if d.get("body_text"):
                    out.append((f"fundus:{d['url']}", d["body_text"]))
    return out
