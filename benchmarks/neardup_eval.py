"""Evaluation of the near-duplicate stage on real text (the sets of ``benchmarks/neardup_corpus.py``).

Run: ``python -m benchmarks.neardup_eval`` (``--quick`` skips the parameter sweep, the LSH
comparison and the 1M-article test). Prints every figure of ``docs/NEARDUP.md`` and writes
``benchmarks/results/neardup-<time>.json``.

The rule (``pipelines.neardup_signature.is_copy``) has two paths, and each threshold is chosen with the
same discipline: zero merges on every negative pair, with a margin.

- *sentence share* (exact: 32-bit unit hashes, no sampling error): the margin is one sentence.
  The threshold is the lowest of a 0.01 grid that no rewrite pair reaches *even with one more of
  its sentences copied verbatim* (the unit of either body that raises the pair's share most,
  added to the other body);
- *estimated Jaccard* (b-bit MinHash, sampling error): the lowest of the grid that no rewrite
  pair's estimate reaches and at which the expected number of merges among all rewrite pairs,
  given each pair's exact Jaccard and the binomial error of the estimate, is <= 0.01.

Parameters by rule: the highest recall; among those within ``RECALL_TIE`` of it, the smallest
sketch; then the highest recall.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy.stats import binom  # a datasketch dependency

from benchmarks.neardup_corpus import (  # noqa: F401  (re-exported: the tests and older scripts import them here)
    COMPOSITES,
    EDITS,
    SHARED,
    Doc,
    load_all,
    load_fundus,
    load_gold,
    load_same_story,
    positives,
    same_story_pairs,
)
from pipelines import neardup_signature as nd

RESULTS = Path(__file__).resolve().parent / "results"
GRID = [round(x, 2) for x in np.arange(0.30, 1.001, 0.01)]
MAX_EXPECTED_FALSE_MERGES = 0.01
RECALL_TIE = 0.01
KINDS = list(EDITS) + list(COMPOSITES)


# ---------------------------------------------------------------------- signatures, once
class Sigs:
    """Signatures of every text for one signature shape (shingle, permutations, seed, unit words)."""

    def __init__(self, p: nd.Params):
        self.p = p
        self.cache: dict[str, nd.Signature] = {}
        self.sets: dict[str, set] = {}

    def get(self, key: str, body: str) -> nd.Signature:
        if key not in self.cache:
            self.cache[key] = nd.signature(body, self.p)
            self.sets[key] = set(nd.shingles(nd.tokens(body), self.p.shingle))
        return self.cache[key]

    def jaccard(self, a: str, b: str) -> float:
        A, B = self.sets[a], self.sets[b]
        return len(A & B) / max(1, len(A | B))


def _with(sig: nd.Signature, p: nd.Params) -> nd.Signature:
    return sig if sig.lead == p.lead else dataclasses.replace(sig, lead=p.lead)


def _packed(sig: nd.Signature, p: nd.Params) -> np.ndarray:
    return nd.pack(nd.sketch(sig, p), p)


def share_plus_one(a: nd.Signature, b: nd.Signature, p: nd.Params) -> float:
    """The pair's share if one more of its sentences were copied verbatim: the unit of either body
    (lead left out) that raises the share most, added to the other body. 0 when even then fewer
    than ``min_shared_units`` units would be shared."""
    ua = dict(zip(a.unit_hashes[a.lead :].tolist(), a.unit_words[a.lead :].tolist()))
    ub = dict(zip(b.unit_hashes[b.lead :].tolist(), b.unit_words[b.lead :].tolist()))
    shared = ua.keys() & ub.keys()
    m, wa, wb = sum(ua[h] for h in shared), a.words, b.words
    best = m / max(wa, wb, 1) if len(shared) >= p.min_shared_units else 0.0
    if len(shared) + 1 >= p.min_shared_units:
        for src, w_src, w_dst in ((ua, wa, wb), (ub, wb, wa)):
            for h, w in src.items():
                if h not in shared:
                    best = max(best, (m + w) / max(w_src, w_dst + w, 1))
    return min(1.0, best)


def pairwise(docs: list[Doc], pos, p: nd.Params, sigs: Sigs | None = None) -> dict:
    """Every rewrite pair and every copy with its original: exact shingle Jaccard, estimated
    Jaccard, sentence share and shared units (exact), and for the rewrite pairs the share with one
    more copied sentence; for copies, whether the index would make the original a candidate (they
    share a unit) and whether either body is too short to be compared."""
    sigs = sigs or Sigs(p)
    by_id = {d.id: d for d in docs}
    neg = []
    for a, b in same_story_pairs(docs):
        sa, sb = _with(sigs.get(a.id, a.body), p), _with(sigs.get(b.id, b.body), p)
        s, k = nd.share(sa, sb)
        neg.append({"pair": (a.id, b.id), "exact": sigs.jaccard(a.id, b.id), "share": s, "k": k,
                    "share_plus_one": share_plus_one(sa, sb, p),
                    "est": float(nd.packed_similarity(_packed(sa, p), _packed(sb, p)[None, :], p)[0])})
    copies = []
    for n, (kind, base, body) in enumerate(pos):
        s0 = _with(sigs.get(base, by_id[base].body), p)
        s1 = _with(sigs.get(f"copy:{n}", body), p)
        s, k = nd.share(s0, s1)
        copies.append({"kind": kind, "base": base, "exact": sigs.jaccard(base, f"copy:{n}"), "share": s, "k": k,
                       "est": float(nd.packed_similarity(_packed(s1, p), _packed(s0, p)[None, :], p)[0]),
                       "candidate": bool(np.isin(nd.index_keys(s1, p), nd.index_keys(s0, p)).any()),
                       "short": min(s0.shingles, s1.shingles) < p.min_shingles})
    return {"neg": neg, "copies": copies}


# ---------------------------------------------------------------------- thresholds
def exceed_probability(j: float, t: float, p: nd.Params) -> float:
    """P(estimated similarity >= t) for two bodies of exact Jaccard ``j``: each of the ``num_perm``
    b-bit values agrees with probability j + (1 - j) 2^-b."""
    a = 1.0 / (1 << p.sig_bits)
    need = int(np.ceil(p.num_perm * (t * (1 - a) + a) - 1e-9))
    return float(binom.sf(need - 1, p.num_perm, j + (1 - j) * a))


def select_threshold(neg_exact: list[float], neg_est: list[float], p: nd.Params) -> float | None:
    """Estimated-Jaccard path: the lowest threshold of the grid that no rewrite pair's estimate
    reaches and at which the expected number of merges (sampling error of the estimate included)
    stays below ``MAX_EXPECTED_FALSE_MERGES``."""
    top = max(neg_est, default=0.0)
    for t in GRID:
        if t > top and sum(exceed_probability(j, t, p) for j in neg_exact) <= MAX_EXPECTED_FALSE_MERGES:
            return t
    return None


def select_share(neg_plus_one: list[float]) -> float:
    """Sentence-share path: the lowest threshold of the grid above every rewrite pair's share
    with one more copied sentence."""
    top = max(neg_plus_one, default=0.0)
    return next(t for t in GRID if t > top + 1e-9)


def caught(c: dict, p: nd.Params) -> bool:
    """Would the index find this copy (a candidate, long enough, and a copy by the rule)?"""
    return c["candidate"] and not c["short"] and bool(nd.is_copy(c["share"], c["k"], c["est"], p))


def recall_at(copies: list[dict], p: nd.Params) -> dict[str, float]:
    kinds: dict[str, list[bool]] = {}
    for c in copies:
        kinds.setdefault(c["kind"], []).append(caught(c, p))
    out = {k: round(float(np.mean(v)), 4) for k, v in kinds.items()}
    out["all"] = round(float(np.mean([x for v in kinds.values() for x in v])), 4)
    return out


def negatives_merged(neg: list[dict], p: nd.Params) -> int:
    return int(sum(bool(nd.is_copy(n["share"], n["k"], n["est"], p)) for n in neg))


def calibrate(pw: dict, p: nd.Params) -> nd.Params | None:
    """``p`` with both thresholds chosen by the rule (None when the Jaccard path has none)."""
    t2 = select_threshold([n["exact"] for n in pw["neg"]], [n["est"] for n in pw["neg"]], p)
    if t2 is None:
        return None
    return dataclasses.replace(p, share=select_share([n["share_plus_one"] for n in pw["neg"]]), threshold=t2)


# ---------------------------------------------------------------------- the sweep
def sweep(docs, pos, base: nd.Params, log=print) -> list[dict]:
    """Every (b bits, lead left out, units required) around ``base``: thresholds by the rule,
    recall, bytes."""
    rows, sigs = [], Sigs(base)
    for bits in (1, 2, 4, 8):
        for lead in (0, 1):
            for kmin in (1, 2, 3):
                t0 = time.perf_counter()
                p = dataclasses.replace(base, sig_bits=bits, lead=lead, min_shared_units=kmin)
                pw = pairwise(docs, pos, p, sigs)
                cal = calibrate(pw, p)
                rec = recall_at(pw["copies"], cal) if cal else {}
                share_only = recall_at(pw["copies"], dataclasses.replace(cal, threshold=9.0)) if cal else {}
                jac_only = recall_at(pw["copies"], dataclasses.replace(cal, share=9.0)) if cal else {}
                row = {"tag": p.tag, "sig_bits": bits, "lead": lead, "min_shared_units": kmin,
                       "sketch_bytes": p.sketch_bytes, "share": cal and cal.share, "threshold": cal and cal.threshold,
                       "recall": rec, "recall_share_only": share_only.get("all"), "recall_jaccard_only": jac_only.get("all"),
                       "neg_max_share": round(max(n["share"] for n in pw["neg"]), 4),
                       "neg_max_share_plus_one": round(max(n["share_plus_one"] for n in pw["neg"]), 4),
                       "neg_max_est": round(max(n["est"] for n in pw["neg"]), 4),
                       "seconds": round(time.perf_counter() - t0, 1)}
                rows.append(row)
                log(f"  {bits} bit, lead {lead}, >= {kmin} units: share >= {row['share']}, J >= {row['threshold']}  "
                    f"recall {rec.get('all')} (share only {row['recall_share_only']}, J only {row['recall_jaccard_only']})")
    return rows


def choose(rows: list[dict]) -> dict:
    """The highest recall; among those within RECALL_TIE of it, the smallest sketch; then the
    highest recall."""
    ok = [r for r in rows if r["threshold"] is not None]
    best = max(r["recall"]["all"] for r in ok)
    near = [r for r in ok if r["recall"]["all"] >= best - RECALL_TIE]
    size = min(r["sketch_bytes"] for r in near)
    pick = max((r for r in near if r["sketch_bytes"] == size), key=lambda r: r["recall"]["all"])
    return {"tag": pick["tag"], "sig_bits": pick["sig_bits"], "lead": pick["lead"],
            "min_shared_units": pick["min_shared_units"], "share": pick["share"], "threshold": pick["threshold"],
            "recall": pick["recall"]["all"],
            "why": f"smallest sketch ({size} B) with recall within {RECALL_TIE} of the best ({best}), then best recall"}


def threshold_table(pw: dict, p: nd.Params) -> dict:
    """Around the chosen thresholds: each path's threshold moved, the other kept."""
    rows = {"share": [], "threshold": []}
    for t in (0.40, 0.45, 0.50, 0.55, p.share, 0.60, 0.65, 0.70):
        q = dataclasses.replace(p, share=t)
        rows["share"].append({"share": t, "rewrite_pairs_merged": negatives_merged(pw["neg"], q),
                              "with_one_more_sentence": int(sum(n["share_plus_one"] >= t for n in pw["neg"])),
                              "recall": recall_at(pw["copies"], q)["all"]})
    for t in (0.55, 0.60, 0.62, p.threshold, 0.70, 0.75, 0.80):
        q = dataclasses.replace(p, threshold=t)
        rows["threshold"].append({"threshold": t, "rewrite_pairs_merged": negatives_merged(pw["neg"], q),
                                  "expected_merges": round(sum(exceed_probability(n["exact"], t, q) for n in pw["neg"]), 4),
                                  "recall": recall_at(pw["copies"], q)["all"]})
    for key in rows:
        rows[key] = sorted({r[key]: r for r in rows[key]}.values(), key=lambda r: r[key])
    return rows


def paths(pw: dict, p: nd.Params) -> dict:
    """How the copies are caught or missed (pairwise, exact figures)."""
    out = {"share_and_jaccard": 0, "share_only": 0, "jaccard_only": 0, "missed_not_candidate": 0,
           "missed_short": 0, "missed_rule": 0}
    for c in pw["copies"]:
        s_ok = c["share"] >= p.share and c["k"] >= p.min_shared_units
        j_ok = c["est"] >= p.threshold
        if c["short"]:
            out["missed_short"] += 1
        elif not c["candidate"]:
            out["missed_not_candidate"] += 1
        elif s_ok and j_ok:
            out["share_and_jaccard"] += 1
        elif s_ok:
            out["share_only"] += 1
        elif j_ok:
            out["jaccard_only"] += 1
        else:
            out["missed_rule"] += 1
    return out


def lsh_comparison(pw: dict, docs, pos, p: nd.Params, sigs: Sigs,
                   configs=((32, 3), (16, 2), (24, 2), (32, 2), (48, 3))) -> list[dict]:
    """Candidates by MinHash LSH bands instead of shared units: of the copies the rule accepts,
    how many each band layout would make candidates, and its bytes per article (4 B key + 4 B
    row per band)."""
    by_id = {d.id: d for d in docs}
    accepted = [(n, c) for n, c in enumerate(pw["copies"]) if caught(c, p)]
    out = [{"candidates": "shared sentence unit (this index)", "found": 1.0,
            "bytes_per_article": None}]
    for bands, rows in configs:
        q = dataclasses.replace(p, bands=bands, rows=rows)
        hit = 0
        for n, c in accepted:
            k0 = nd.band_keys(sigs.get(c["base"], by_id[c["base"]].body), q)
            k1 = nd.band_keys(sigs.get(f"copy:{n}", pos[n][2]), q)
            hit += bool((k0 == k1).any())
        out.append({"candidates": f"LSH {bands} bands x {rows} rows", "found": round(hit / max(1, len(accepted)), 4),
                    "bytes_per_article": bands * 8, "p_candidate_at_0.40": round(nd.candidate_probability(0.40, q), 3)})
    return out


# ---------------------------------------------------------------------- end to end, with the index
def index_eval(docs: list[Doc], pos, p: nd.Params, extra_negatives: list[tuple[str, str]] = ()) -> dict:
    """The real index, as the pipeline uses it: every article checked, then added if new; then
    each copy looked up. Times are CPU time (a shared machine's load does not count)."""
    from pipelines.neardup_index import NearDupIndex

    idx, merges = NearDupIndex(None, p), []
    stream = [(d.id, d.body, d.cluster) for d in docs] + [(i, b, None) for i, b in extra_negatives]
    timings = {"signature": [], "lookup": [], "add": []}
    for doc_id, body, _ in stream:
        t0 = time.process_time()
        sig = nd.signature(body, p)
        t1 = time.process_time()
        if sig.shingles < p.min_shingles:
            continue
        m = idx.lookup(sig)
        t2 = time.process_time()
        if m is not None:
            merges.append((doc_id, m.article_id, round(m.similarity, 4)))
        else:
            idx.add(doc_id, sig)
        t3 = time.process_time()
        timings["signature"].append(t1 - t0), timings["lookup"].append(t2 - t1), timings["add"].append(t3 - t2)
    cluster = {d.id: d.cluster for d in docs}
    same_story = [m for m in merges if cluster.get(m[0]) and cluster.get(m[0]) == cluster.get(m[1])]
    # positives: the originals are archived first (published: the lookups go through a segment)
    idx.publish("eval")
    by_kind: dict[str, dict[str, int]] = {}
    lookups = []
    for kind, base, body in pos:
        sig = nd.signature(body, p)
        t0 = time.process_time()
        m = idx.lookup(sig) if sig.shingles >= p.min_shingles else None
        lookups.append(time.process_time() - t0)
        outcome = "fn" if m is None else ("tp" if m.article_id == base else "fp")
        c = by_kind.setdefault(kind, {"tp": 0, "fp": 0, "fn": 0})
        c[outcome] += 1
    tot = {o: sum(c[o] for c in by_kind.values()) for o in ("tp", "fp", "fn")}

    def rates(c):
        return {**c, "recall": round(c["tp"] / max(1, c["tp"] + c["fp"] + c["fn"]), 4),
                "precision": round(c["tp"] / max(1, c["tp"] + c["fp"]), 4)}

    ms = {k: round(1000 * float(np.mean(v)), 3) for k, v in timings.items()}
    ms["lookup_of_a_copy"] = round(1000 * float(np.mean(lookups)), 3)
    return {
        "negatives": {"articles": len(stream), "merged": len(merges), "merged_same_story_pairs": len(same_story),
                      "merges": merges[:20]},
        "positives": {"all": rates(tot), "by_kind": {k: rates(c) for k, c in by_kind.items()}},
        "ms_per_article": ms,
    }


# ---------------------------------------------------------------------- scale
def unit_counts(bodies: list[str], p: nd.Params) -> np.ndarray:
    """Keys each body is posted under (its units; band keys too for a body of few units)."""
    return np.array([len(nd.index_keys(nd.signature(b, p), p)) for b in bodies])


def scale_eval(p: nd.Params, n: int, counts: np.ndarray, segments: int = 1, queries: int = 2000,
               seed: int = 5, boilerplate: float = 0.05) -> dict:
    """Size and lookup time of an index of ``n`` articles: keys per article drawn from ``counts``
    (real bodies), key hashes and sketches uniform (what blake2b and MinHash give distinct
    stories), and a share ``boilerplate`` of articles carrying one of 50 site boilerplate
    sentences (so common units take their path). Lookups: new stories (no article shares a
    unit but boilerplate) and copies (70% of an indexed article's units). CPU time."""
    from pipelines.neardup_index import NearDupIndex, Segment

    rng = np.random.default_rng(seed)
    idx = NearDupIndex(None, p)
    per = n // segments
    disk, t_load, t_build, units_total = 0, 0.0, 0.0, 0
    common = rng.integers(0, 2**32, 50, dtype=np.uint32)
    sample = None
    for s in range(segments):
        lengths = rng.choice(counts, per)
        keys = rng.integers(0, 2**32, int(lengths.sum()), dtype=np.uint32)
        ends = np.cumsum(lengths)
        extra = np.flatnonzero((rng.random(per) < boilerplate) & (lengths > 1))
        keys[ends[extra] - 1] = rng.choice(common, len(extra))  # the last unit: a boilerplate line
        units_total += len(keys)
        ids = rng.integers(0, 2**63, per, dtype=np.int64).astype(np.uint64)
        uncounted = np.zeros(len(keys), bool)
        uncounted[(ends - lengths)[lengths > 0]] = True  # the leads
        t0 = time.process_time()
        seg = Segment.from_flat(f"s{s}", ids, (20 * np.maximum(lengths - p.lead, 0)).astype(np.uint32),
                                rng.integers(0, 256, (per, p.sketch_bytes), dtype=np.uint8), keys, lengths, uncounted)
        t_build += time.process_time() - t0
        data = seg.to_bytes(p)
        disk += len(data)
        t0 = time.process_time()
        idx.segments[seg.name] = Segment.from_bytes(seg.name, data, p)
        t_load += time.process_time() - t0
        if sample is None:
            sample = (keys, ends, lengths)
    keys, ends, lengths = sample

    def sig(unit_hashes):
        w = np.full(len(unit_hashes), 20, np.uint32)
        return nd.Signature(rng.integers(0, 2**32, p.num_perm, dtype=np.uint32), 500, unit_hashes, w, p.lead)

    fresh = [sig(rng.integers(0, 2**32, int(rng.choice(counts)), dtype=np.uint32)) for _ in range(queries)]
    copies = []
    for i in rng.choice(np.flatnonzero(lengths >= 4), queries):
        u = keys[ends[i] - lengths[i] : ends[i]]
        copies.append(sig(np.concatenate([u[:1], rng.permutation(u[1:])[: int(np.ceil(0.7 * (len(u) - 1)))]])))
    times = {}
    for name, qs in (("new", fresh), ("copy", copies)):
        found = 0
        t0 = time.process_time()
        for q in qs:
            found += idx.lookup(q) is not None
        times[name] = ((time.process_time() - t0) / len(qs), found / len(qs))
    return {"articles": n, "segments": segments, "keys_per_article": round(units_total / n, 1),
            "disk_bytes": disk, "memory_bytes": idx.nbytes,
            "disk_bytes_per_article": round(disk / n, 1), "memory_bytes_per_article": round(idx.nbytes / n, 1),
            "mib_per_million": round(idx.nbytes / n * 1e6 / 2**20, 1),
            "build_seconds": round(t_build, 2), "load_seconds": round(t_load, 2),
            "lookup_ms_new_story": round(1000 * times["new"][0], 4),
            "lookup_ms_copy": round(1000 * times["copy"][0], 4), "copies_found": round(times["copy"][1], 4)}


# ---------------------------------------------------------------------- the rest of the pipeline
def pipeline_costs(shared: Path, p: nd.Params, repeat: int = 3) -> dict:
    """CPU ms per article of each step on real pages (vn-pages articles + fundus pages)."""
    import gzip

    from storage.urls import article_id
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
            clock = time.process_time  # CPU time: a shared machine's load does not count
            t = [clock()]
            item = {"url": url, "hints": {}}
            item["html"], _ = decode_html(raw, "text/html")
            t.append(clock())
            item.update(extract_fields(item["html"], url, None, {}))
            t.append(clock())
            item.update(clean_fields(item))
            t.append(clock())
            item.update(resolve_dates(item, "Asia/Ho_Chi_Minh"))
            t.append(clock())
            drop_reason(item)
            t.append(clock())
            article_id(url), content_hash(item.get("body") or "")
            t.append(clock())
            sig = nd.signature(item.get("body"), p)
            if sig.shingles >= p.min_shingles and idx.lookup(sig, exclude=f"{r}:{n}") is None:
                idx.add(f"{r}:{n}", sig)
            t.append(clock())
            for name, a, b in zip(steps, t, t[1:]):
                steps[name] += b - a
    count = len(pages) * repeat
    return {"pages": len(pages), "ms_per_article": {k: round(1000 * v / count, 3) for k, v in steps.items()}}


# ---------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the sweep, the LSH comparison and the 1M test")
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
    fundus = load_fundus()
    p = nd.DEFAULT
    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "params": dataclasses.asdict(p),
              "tag": p.tag, "sets": {"vn_same_story_articles": len(ss), "same_story_pairs": len(same_story_pairs(ss)),
                                     "gold_bodies": len(gold), "fundus_pages": len(fundus), "positives": len(pos)}}
    print(f"sets: {len(ss)} vn-same-story articles ({result['sets']['same_story_pairs']} rewrite pairs), "
          f"{len(gold)} gold bodies, {len(fundus)} fundus pages, {len(pos)} syndicated copies")
    sigs = Sigs(p)
    if not args.quick:
        print("sweep (share: lowest above every rewrite pair with one more copied sentence; J: lowest with no "
              f"rewrite pair merged and expected merges <= {MAX_EXPECTED_FALSE_MERGES}):")
        result["sweep"] = sweep(docs, pos, p)
        result["choice"] = choice = choose(result["sweep"])
        print(f"selected by the rule: {choice['tag']}, >= {choice['min_shared_units']} units, share >= {choice['share']}, "
              f"J >= {choice['threshold']} ({choice['why']})")
        if (choice["tag"], choice["share"], choice["threshold"], choice["min_shared_units"]) != (
                p.tag, p.share, p.threshold, p.min_shared_units):
            print("warning: the selection differs from the shipped parameters")
    pw = pairwise(docs, pos, p, sigs)
    cal = calibrate(pw, p)
    result["calibrated"] = {"share": cal.share, "threshold": cal.threshold}
    print(f"shipped: {p.tag}, share >= {p.share} on >= {p.min_shared_units} units, or J >= {p.threshold} "
          f"(the rule gives share {cal.share}, J {cal.threshold})")
    top = sorted(pw["neg"], key=lambda n: -n["share_plus_one"])[:5]
    result["closest_rewrite_pairs"] = {
        "by_share_plus_one": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in n.items()} for n in top],
        "by_exact_jaccard": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in n.items()}
                             for n in sorted(pw["neg"], key=lambda n: -n["exact"])[:3]]}
    for n in top:
        print(f"  rewrite pair {n['pair'][0]} / {n['pair'][1]}: share {n['share']:.3f} ({n['k']} units), "
              f"+1 sentence {n['share_plus_one']:.3f}, J {n['exact']:.3f} (est {n['est']:.3f})")
    result["threshold_table"] = tt = threshold_table(pw, p)
    for r in tt["share"]:
        print(f"  share >= {r['share']:.2f}: rewrite pairs merged {r['rewrite_pairs_merged']}, with one more sentence "
              f"{r['with_one_more_sentence']}, recall {r['recall']}")
    for r in tt["threshold"]:
        print(f"  J >= {r['threshold']:.2f}: rewrite pairs merged {r['rewrite_pairs_merged']}, expected "
              f"{r['expected_merges']:.4f}, recall {r['recall']}")
    result["paths"] = paths(pw, p)
    print(f"how copies are caught (pairwise): {result['paths']}")
    if not args.quick:
        result["lsh_comparison"] = lsh_comparison(pw, docs, pos, p, sigs)
        for r in result["lsh_comparison"]:
            print(f"  candidates by {r['candidates']}: {r['found']} of the accepted copies, "
                  f"{r['bytes_per_article']} B/article")
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
    counts = unit_counts([d.body for d in docs] + [b for _, b in fundus], p)
    result["keys_per_article"] = {"mean": round(float(counts.mean()), 1), "median": float(np.median(counts)),
                                  "p95": float(np.quantile(counts, 0.95))}
    print(f"keys per article (real bodies): {result['keys_per_article']}")
    scale = [scale_eval(p, 100_000, counts, 1), scale_eval(p, 100_000, counts, 10)]
    if not args.quick:
        scale.append(scale_eval(p, args.scale, counts, 1))
    result["scale"] = scale
    for s in scale:
        print(f"scale: {s['articles']:,} articles in {s['segments']} segment(s), {s['keys_per_article']} keys each: "
              f"{s['disk_bytes_per_article']} B/article on disk, {s['memory_bytes_per_article']} B in memory "
              f"({s['mib_per_million']} MiB per million); lookup {s['lookup_ms_new_story']} ms (new story), "
              f"{s['lookup_ms_copy']} ms (copy, {s['copies_found']} found); build {s['build_seconds']} s, "
              f"load {s['load_seconds']} s")
    out = Path(args.out) if args.out else RESULTS / f"neardup-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
