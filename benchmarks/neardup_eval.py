"""Real-text evaluation sets of the near-duplicate stage (read in place from ../shared/data).

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


# ====================================================================== evaluation
# (everything below reads the sets above; run: python -m benchmarks.neardup_eval)
import argparse  # noqa: E402
import dataclasses  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import binom  # noqa: E402  (a datasketch dependency)

from pipelines import neardup as nd  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLD_GRID = [round(x, 2) for x in np.arange(0.40, 0.91, 0.01)]
# The threshold must keep the expected number of false merges among all rewrite pairs,
# given their exact Jaccard similarity and the sampling error of the estimate, below this.
MAX_EXPECTED_FALSE_MERGES = 0.01


def load_all(shared: Path = SHARED) -> tuple[list[Doc], list[Doc]]:
    """(vn-same-story docs, gold-body docs); FileNotFoundError names what is missing."""
    ss, gold = shared / "vn-same-story" / "clusters", shared / "vn-pages" / "gold-bodies.jsonl"
    for path in (ss, gold):
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: the evaluation reads ../shared/data in place")
    return load_same_story(ss), load_gold(gold)


def exceed_probability(j: float, t: float, p: nd.Params) -> float:
    """P(estimated similarity >= t) for two bodies of exact Jaccard ``j``: each of the ``num_perm``
    b-bit values agrees with probability j + (1 - j) 2^-b."""
    a = 1.0 / (1 << p.sig_bits)
    need = int(np.ceil(p.num_perm * (t * (1 - a) + a) - 1e-9))
    return float(binom.sf(need - 1, p.num_perm, j + (1 - j) * a))


def select_threshold(neg_exact: list[float], neg_est: list[float], p: nd.Params) -> float | None:
    """The lowest threshold of the grid at which no rewrite pair is merged and the expected number
    of merges (sampling error of the estimate included) stays below ``MAX_EXPECTED_FALSE_MERGES``."""
    top = max(neg_est, default=0.0)
    for t in THRESHOLD_GRID:
        if t > top and sum(exceed_probability(j, t, p) for j in neg_exact) <= MAX_EXPECTED_FALSE_MERGES:
            return t
    return None


class Sketches:
    """Signatures, sketches and band keys of every text under one parameter set."""

    def __init__(self, p: nd.Params):
        self.p = p
        self.cache: dict[str, tuple] = {}

    def get(self, key: str, body: str):
        if key not in self.cache:
            sig = nd.signature(body, self.p)
            self.cache[key] = (sig, nd.sketch(sig, self.p), nd.band_keys(sig, self.p))
        return self.cache[key]


def pairwise(docs: list[Doc], pos: list[tuple[str, str, str]], p: nd.Params) -> dict:
    """Exact and estimated similarity of every rewrite pair and of every copy with its original."""
    sk, by_id = Sketches(p), {d.id: d for d in docs}
    sets = {d.id: set(nd.shingles(nd.tokens(d.body), p.shingle)) for d in docs}
    neg_exact, neg_est = [], []
    for a, b in same_story_pairs(docs):
        A, B = sets[a.id], sets[b.id]
        neg_exact.append(len(A & B) / len(A | B))
        neg_est.append(float(nd.similarity(sk.get(a.id, a.body)[1], sk.get(b.id, b.body)[1][None, :], p)[0]))
    copies = []
    for n, (kind, base, body) in enumerate(pos):
        s0, q0, k0 = sk.get(base, by_id[base].body)
        s1, q1, k1 = sk.get(f"copy:{n}", body)
        est = float(nd.similarity(q1, q0[None, :], p)[0])
        short = min(s0.shingles, s1.shingles) < p.min_shingles
        copies.append({"kind": kind, "est": est, "candidate": bool((k0 == k1).any()), "short": short})
    return {"neg_exact": neg_exact, "neg_est": neg_est, "copies": copies}


def recall_at(copies: list[dict], t: float) -> dict[str, float]:
    kinds = {}
    for c in copies:
        kinds.setdefault(c["kind"], []).append(c["est"] >= t and c["candidate"] and not c["short"])
    out = {k: round(float(np.mean(v)), 4) for k, v in kinds.items()}
    out["all"] = round(float(np.mean([x for v in kinds.values() for x in v])), 4)
    return out


def sweep(docs, pos, configs: list[nd.Params], log=print) -> list[dict]:
    rows = []
    for p in configs:
        t0 = time.perf_counter()
        pw = pairwise(docs, pos, p)
        t = select_threshold(pw["neg_exact"], pw["neg_est"], p)
        rec = recall_at(pw["copies"], t) if t is not None else {}
        row = {"params": p.tag, "shingle": p.shingle, "num_perm": p.num_perm, "sig_bits": p.sig_bits,
               "threshold": t, "recall": rec, "neg_max_exact": round(max(pw["neg_exact"]), 4),
               "neg_max_est": round(max(pw["neg_est"]), 4), "sketch_bytes": p.num_perm * (1 if p.sig_bits <= 8 else 2),
               "seconds": round(time.perf_counter() - t0, 1)}
        rows.append(row)
        log(f"  {p.tag:32s} t*={t}  recall(all)={rec.get('all')}  neg max exact={row['neg_max_exact']} "
            f"est={row['neg_max_est']}  ({row['seconds']}s)")
    return rows


# Recall within this of the best counts as equal: the smaller sketch, then the longer shingle, wins
# (longer shingles match fewer common phrases across unrelated stories).
RECALL_TIE = 0.01


def choose(rows: list[dict]) -> dict:
    """The shipped parameters by rule: among the sketch sizes, the smallest whose recall (at its
    zero-false-merge threshold) is within RECALL_TIE of the best; then among shingle lengths,
    the longest within RECALL_TIE of the best."""
    ok = [r for r in rows if r["threshold"] is not None]
    best = max(r["recall"]["all"] for r in ok)
    sizes = sorted((r for r in ok if r["recall"]["all"] >= best - RECALL_TIE), key=lambda r: r["sketch_bytes"])
    size = sizes[0]["sketch_bytes"]
    same = [r for r in ok if r["sketch_bytes"] == size and r["num_perm"] == sizes[0]["num_perm"]]
    top = max(r["recall"]["all"] for r in same)
    pick = max((r for r in same if r["recall"]["all"] >= top - RECALL_TIE), key=lambda r: r["shingle"])
    return {"tag": pick["params"], "threshold": pick["threshold"], "recall": pick["recall"]["all"],
            "why": f"smallest sketch ({size} B) and longest shingle with recall within {RECALL_TIE} of the best"}


# ---------------------------------------------------------------------- end to end, with the index
def index_eval(docs: list[Doc], pos, p: nd.Params, extra_negatives: list[tuple[str, str]] = ()) -> dict:
    """The real index, as the pipeline uses it: every article checked, then added if new."""
    from pipelines.neardup_index import NearDupIndex

    idx, merges = NearDupIndex(None, p), []
    stream = [(d.id, d.body, d.cluster) for d in docs] + [(i, b, None) for i, b in extra_negatives]
    timings = {"signature": [], "lookup": [], "add": []}
    for doc_id, body, _ in stream:
        t0 = time.perf_counter()
        sig = nd.signature(body, p)
        t1 = time.perf_counter()
        if sig.shingles < p.min_shingles:
            continue
        m = idx.lookup(sig)
        t2 = time.perf_counter()
        if m is not None:
            merges.append((doc_id, m.article_id, round(m.similarity, 4)))
        else:
            idx.add(doc_id, sig)
        t3 = time.perf_counter()
        timings["signature"].append(t1 - t0), timings["lookup"].append(t2 - t1), timings["add"].append(t3 - t2)
    cluster = {d.id: d.cluster for d in docs}
    same_story = [m for m in merges if cluster.get(m[0]) and cluster.get(m[0]) == cluster.get(m[1])]
    # positives: the originals are archived first, then each copy arrives
    idx.publish("eval")
    by_kind: dict[str, dict[str, int]] = {}
    for kind, base, body in pos:
        sig = nd.signature(body, p)
        m = idx.lookup(sig) if sig.shingles >= p.min_shingles else None
        outcome = "fn" if m is None else ("tp" if m.article_id == base else "fp")
        c = by_kind.setdefault(kind, {"tp": 0, "fp": 0, "fn": 0})
        c[outcome] += 1
    tot = {o: sum(c[o] for c in by_kind.values()) for o in ("tp", "fp", "fn")}

    def rates(c):
        return {**c, "recall": round(c["tp"] / max(1, c["tp"] + c["fp"] + c["fn"]), 4),
                "precision": round(c["tp"] / max(1, c["tp"] + c["fp"]), 4)}

    return {
        "negatives": {"articles": len(stream), "merged": len(merges), "merged_same_story_pairs": len(same_story),
                      "merges": merges[:20]},
        "positives": {"all": rates(tot), "by_kind": {k: rates(c) for k, c in by_kind.items()}},
        "ms_per_article": {k: round(1000 * float(np.mean(v)), 3) for k, v in timings.items()},
    }


def threshold_table(docs, pos, p: nd.Params, grid=(0.50, 0.55, 0.58, 0.60, 0.62, 0.64, 0.66, 0.70, 0.75)) -> list[dict]:
    pw = pairwise(docs, pos, p)
    out = []
    for t in grid:
        out.append({"threshold": t, "rewrite_pairs_merged": int(sum(e >= t for e in pw["neg_est"])),
                    "expected_false_merges": round(sum(exceed_probability(j, t, p) for j in pw["neg_exact"]), 4),
                    "recall": recall_at(pw["copies"], t)})
    return out


# ---------------------------------------------------------------------- scale
def scale_eval(p: nd.Params, n: int, segments: int = 1, queries: int = 2000, seed: int = 5) -> dict:
    """Size and lookup time of an index of ``n`` articles (random signatures: band keys and
    sketches of distinct stories are uniformly distributed, which is what blake2b and MinHash give)."""
    from pipelines.neardup_index import NearDupIndex, Segment

    rng = np.random.default_rng(seed)
    idx = NearDupIndex(None, p)
    per = n // segments
    disk = 0
    t_load = 0.0
    for s in range(segments):
        ids = [format(int(x), "016x") for x in rng.integers(0, 2**63, per, dtype=np.int64)]
        seg = Segment.build(f"s{s}", ids, rng.integers(50, 2000, per).astype(np.uint32),
                            rng.integers(0, 256, (per, p.num_perm), dtype=np.uint8),
                            rng.integers(0, 2**32, (per, p.bands), dtype=np.uint32))
        data = seg.to_bytes(p)
        disk += len(data)
        t0 = time.perf_counter()
        idx.segments[seg.name] = Segment.from_bytes(seg.name, data, p)
        t_load += time.perf_counter() - t0
    sigs = [nd.Signature(rng.integers(0, 2**32, p.num_perm, dtype=np.uint32), 500) for _ in range(queries)]
    t0 = time.perf_counter()
    for s in sigs:
        idx.lookup(s)
    t_lookup = (time.perf_counter() - t0) / queries
    return {"articles": n, "segments": segments, "disk_bytes": disk, "memory_bytes": idx.nbytes,
            "disk_bytes_per_article": round(disk / n, 1), "memory_bytes_per_article": round(idx.nbytes / n, 1),
            "load_seconds": round(t_load, 2), "lookup_ms": round(1000 * t_lookup, 4)}


# ---------------------------------------------------------------------- the rest of the pipeline
def pipeline_costs(shared: Path, p: nd.Params, repeat: int = 3) -> dict:
    """ms per article of each step on real pages (vn-pages articles + fundus pages)."""
    import gzip

    from crawler.urls import article_id
    from pipelines.clean import clean_fields
    from pipelines.dates import resolve_dates
    from pipelines.decode import decode_html
    from pipelines.dedupe import content_hash
    from pipelines.extract import extract_fields
    from pipelines.neardup_index import NearDupIndex
    from pipelines.validate import drop_reason

    pages = []
    for line in (shared / "vn-pages" / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            path = shared / "vn-pages" / d["file"]
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            pages.append((d["url"], raw))
    fundus = shared / "fundus-pages"
    if (fundus / "pairs.jsonl").exists():
        for line in (fundus / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                pages.append((d["url"], gzip.decompress((fundus / d["html"]).read_bytes())))
    steps = {k: 0.0 for k in ("decode", "extract", "clean", "dates", "validate", "dedupe", "neardup")}
    idx = NearDupIndex(None, p)
    for r in range(repeat):
        for n, (url, raw) in enumerate(pages):
            t = [time.perf_counter()]
            item = {"url": url, "hints": {}}
            item["html"], _ = decode_html(raw, "text/html")
            t.append(time.perf_counter())
            item.update(extract_fields(item["html"], url, None, {}))
            t.append(time.perf_counter())
            item.update(clean_fields(item))
            t.append(time.perf_counter())
            item.update(resolve_dates(item, "Asia/Ho_Chi_Minh"))
            t.append(time.perf_counter())
            drop_reason(item)
            t.append(time.perf_counter())
            article_id(url), content_hash(item.get("body") or "")
            t.append(time.perf_counter())
            sig = nd.signature(item.get("body"), p)
            if sig.shingles >= p.min_shingles and idx.lookup(sig, exclude=f"{r}:{n}") is None:
                idx.add(f"{r}:{n}", sig)
            t.append(time.perf_counter())
            for name, a, b in zip(steps, t, t[1:]):
                steps[name] += b - a
    count = len(pages) * repeat
    return {"pages": len(pages), "ms_per_article": {k: round(1000 * v / count, 3) for k, v in steps.items()}}


# ---------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the parameter sweep and the 1M-article scale test")
    ap.add_argument("--scale", type=int, default=1_000_000, help="articles in the scale test (default 1M)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/neardup-<time>.json)")
    args = ap.parse_args(argv)
    try:
        ss, gold = load_all()
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    docs = ss + gold
    pos = positives(docs)
    p = nd.DEFAULT
    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "params": dataclasses.asdict(p),
              "tag": p.tag, "sets": {"vn_same_story_articles": len(ss), "same_story_pairs": len(same_story_pairs(ss)),
                                     "gold_bodies": len(gold), "positives": len(pos)}}
    print(f"sets: {len(ss)} vn-same-story articles ({result['sets']['same_story_pairs']} rewrite pairs), "
          f"{len(gold)} gold bodies, {len(pos)} syndicated copies")
    if not args.quick:
        print("parameter sweep (threshold = lowest with no rewrite pair merged and expected false merges "
              f"<= {MAX_EXPECTED_FALSE_MERGES}):")
        configs = [dataclasses.replace(p, shingle=k) for k in (3, 4, 5, 6, 8)]
        configs += [dataclasses.replace(p, num_perm=128, bands=32, rows=4, sig_bits=16),
                    dataclasses.replace(p, num_perm=128, bands=32, rows=4, sig_bits=8),
                    dataclasses.replace(p, num_perm=512, sig_bits=8)]
        result["sweep"] = sweep(docs, pos, configs)
        result["choice"] = choice = choose(result["sweep"])
        print(f"selected by the rule: {choice['tag']} ({choice['why']})")
        if choice["tag"] != p.tag:
            print(f"warning: the selection differs from the shipped parameters {p.tag}")
    print(f"chosen: {p.tag}, threshold {p.threshold}")
    result["threshold_table"] = threshold_table(docs, pos, p)
    for row in result["threshold_table"]:
        print(f"  t={row['threshold']:.2f}  rewrite pairs merged={row['rewrite_pairs_merged']}  "
              f"expected={row['expected_false_merges']:.4f}  recall={row['recall']['all']}")
    fundus = []
    pairs = SHARED / "fundus-pages" / "pairs.jsonl"
    if pairs.exists():
        for line in pairs.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                if d.get("body_text"):
                    fundus.append((f"fundus:{d['url']}", d["body_text"]))
    result["index"] = ie = index_eval(docs, pos, p, fundus)
    print(f"index, negatives: {ie['negatives']['articles']} articles (vn-same-story, gold, {len(fundus)} fundus) "
          f"-> {ie['negatives']['merged']} merged, {ie['negatives']['merged_same_story_pairs']} same-story pairs merged")
    a = ie["positives"]["all"]
    print(f"index, positives: recall {a['recall']}  precision {a['precision']}  (tp {a['tp']} fp {a['fp']} fn {a['fn']})")
    for kind, c in ie["positives"]["by_kind"].items():
        print(f"  {kind:13s} recall {c['recall']:.4f}  precision {c['precision']:.4f}  (n={c['tp'] + c['fp'] + c['fn']})")
    print(f"stage ms/article: {ie['ms_per_article']}")
    result["pipeline"] = pc = pipeline_costs(SHARED, p)
    print(f"pipeline ms/article on {pc['pages']} real pages: {pc['ms_per_article']}")
    scale = [scale_eval(p, 100_000, 1), scale_eval(p, 100_000, 10)]
    if not args.quick:
        scale.append(scale_eval(p, args.scale, 1))
    result["scale"] = scale
    for s in scale:
        print(f"scale: {s['articles']:,} articles in {s['segments']} segment(s): {s['disk_bytes_per_article']} B/article "
              f"on disk ({s['disk_bytes'] * 1_000_000 / s['articles'] / 2**20:.0f} MiB per million), "
              f"{s['memory_bytes_per_article']} B/article in memory, lookup {s['lookup_ms']} ms, load {s['load_seconds']} s")
    out = Path(args.out) if args.out else RESULTS / f"neardup-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
