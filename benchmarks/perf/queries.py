"""The query side: an archive of 1,000,000 synthetic articles, written with the project's own
Parquet writer (``storage.parquet.sort_table`` + ``write_file``, the schema of ``storage.schema``,
the ``site=/month=`` layout of ``storage.rows.partition_of``), then timed with DuckDB.

The archive: 10 sources over 12 months (2025-12 .. 2026-11), one file per source and month (a
compacted archive; a crawl flushing every 5,000 rows writes a few files per partition and run).
Titles, leads and paragraphs come from the demo corpus (``crawler.demo``); each body is 4-8
paragraphs drawn from a pool of ~20,000 so neighbouring rows do not repeat each other.

    python -m benchmarks.perf.queries OUT_DIR [--articles N]     # JSON on stdout
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SOURCES = ("vnexpress", "cafef", "dantri", "nld", "tuoitre", "vietnamnet", "baochinhphu", "baodautu",
           "demo_baobinhduong", "demo_kinhte")
START = datetime(2025, 12, 1, tzinfo=timezone.utc)
MONTHS = 12
PHRASE = "nhà ở công nhân"
QUERY_MONTH = "2026-10"
REPEATS = 5

_POOL: dict = {}


def _pool(articles: int = 3000) -> dict:
    """Titles, leads, paragraphs, authors, tags of a demo world: the text the rows are made of."""
    from crawler.demo.corpus import slugify
    from crawler.demo.world import build_world

    world = build_world(articles)
    arts = [world.articles[i] for i in range(0, len(world.articles))]
    paragraphs = sorted({p for a in arts for p in a.paragraphs})
    return {
        "titles": [a.title for a in arts], "slugs": [slugify(a.title) for a in arts], "leads": [a.lead for a in arts],
        "paragraphs": paragraphs, "words": [len(p.split()) for p in paragraphs],
        "authors": sorted({x for a in arts for x in a.authors}), "tags": sorted({x for a in arts for x in a.tags}),
        "sections": sorted({a.section for a in arts}), "captions": sorted({a.caption for a in arts if a.caption}),
    }


def _partition(task: tuple[int, int, int, int, str]) -> tuple[str, int, int]:
    """Write the file of one (source, month): rows [first, first + count) of the archive."""
    import numpy as np
    import pyarrow as pa

    from storage.parquet import sort_table, write_file
    from storage.schema import ARTICLE_SCHEMA

    si, mi, first, count, root = task
    P = _POOL
    rng = np.random.default_rng(first)
    source = SOURCES[si]
    month_start = datetime(2025 + (11 + mi) // 12, (11 + mi) % 12 + 1, 1, tzinfo=timezone.utc)
    nxt = datetime(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1, tzinfo=timezone.utc)
    span = (nxt - month_start).total_seconds()
    offsets = np.sort(rng.uniform(0, span, count))
    published = [month_start + timedelta(seconds=float(s)) for s in offsets]
    pick = rng.integers(0, len(P["titles"]), count)
    npar = len(P["paragraphs"])
    bodies, words = [], []
    for k in rng.integers(4, 9, count):
        idx = rng.integers(0, npar, k)
        bodies.append("\n\n".join(P["paragraphs"][j] for j in idx))
        words.append(int(sum(P["words"][j] for j in idx)))
    if P.get("override_bodies"):
        bodies = list(P["override_bodies"][:count])
        words = [len(b.split()) for b in bodies]
    ids = [first + i for i in range(count)]
    urls = [f"https://{source}.vn/kinh-te/{P['slugs'][t]}-{n}.html" for t, n in zip(pick, ids)]
    na = len(P["authors"])
    fs_keys = ["title", "lead", "body", "authors", "section", "tags", "published_at_raw", "canonical_url", "language"]
    fs_vals = ["rules", "rules", "rules", "rules", "rules", "meta", "jsonld", "meta", "meta"]
    columns = {
        "article_id": [hashlib.sha256(u.encode()).hexdigest()[:16] for u in urls],
        "version": pa.array(np.ones(count, dtype=np.int16)),
        "url": urls, "canonical_url": urls,
        "source": [source] * count, "region": ["Việt Nam"] * count, "country": ["VN"] * count,
        "language": ["vi"] * count,
        "title": [P["titles"][t] for t in pick], "lead": [P["leads"][t] for t in pick], "body": bodies,
        "authors": [[P["authors"][int(x) % na]] for x in rng.integers(0, na, count)],
        "section": [P["sections"][int(x)] for x in rng.integers(0, len(P["sections"]), count)],
        "tags": [[P["tags"][int(x)] for x in rng.integers(0, len(P["tags"]), 3)] for _ in range(count)],
        "image_captions": [[P["captions"][int(x)]] for x in rng.integers(0, len(P["captions"]), count)],
        "published_at": published,
        "published_at_raw": [(p + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M") for p in published],
        "published_at_offset": pa.array(np.full(count, 420, dtype=np.int16)),
        "published_at_precision": ["minute"] * count,
        "published_date": [(p + timedelta(hours=7)).date() for p in published],
        "modified_at": [None] * count, "modified_at_raw": [None] * count,
        "crawled_at": [p + timedelta(minutes=42) for p in published],
        "content_hash": [hashlib.md5(str(n).encode()).hexdigest() for n in ids],
        "word_count": pa.array(np.array(words, dtype=np.int32)),
        "field_sources": pa.MapArray.from_arrays(pa.array(np.arange(0, (count + 1) * len(fs_keys), len(fs_keys),
                                                                    dtype=np.int32)),
                                                 pa.array(fs_keys * count), pa.array(fs_vals * count)),
        "discovered_via": [("feed", "sitemap", "listing")[int(x)] for x in rng.integers(0, 3, count)],
        "http_status": pa.array(np.full(count, 200, dtype=np.int16)),
        "run_id": [p.strftime("%Y%m%dT060000Z-bench0") for p in published],
    }
    arrays = [columns[f.name] if isinstance(columns[f.name], pa.Array) else pa.array(columns[f.name], type=f.type)
              for f in ARTICLE_SCHEMA]
    table = sort_table("articles", pa.Table.from_arrays(arrays, schema=ARTICLE_SCHEMA))
    folder = Path(root) / "articles" / f"site={source}" / f"month={month_start:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    info = write_file(table, str(folder / "part-bench-0.parquet"), "articles")
    return columns["article_id"][count // 2], info.rows, info.bytes


def generate(root: Path, articles: int, workers: int = 2, pool_articles: int = 3000) -> dict:
    _POOL.update(_pool(pool_articles))
    parts = len(SOURCES) * MONTHS
    tasks, first = [], 0
    for p in range(parts):
        count = articles // parts + (1 if p < articles % parts else 0)
        tasks.append((p % len(SOURCES), p // len(SOURCES), first, count, str(root)))
        first += count
    t0 = time.monotonic()
    with mp.get_context("fork").Pool(workers) as pool:
        written = pool.map(_partition, tasks, chunksize=1)
    rows, size = sum(w[1] for w in written), sum(w[2] for w in written)
    return {"articles": rows, "files": len(written), "bytes": size, "bytes_per_article": round(size / rows, 1),
            "generate_s": round(time.monotonic() - t0, 1), "paragraph_pool": len(_POOL["paragraphs"]),
            "lookup_id": written[len(written) // 2][0]}


SAME_STORY = Path(__file__).resolve().parents[3] / "shared" / "data" / "vn-same-story" / "clusters"


def real_text_estimate(root: Path) -> dict | None:
    """Bytes per article of real Vietnamese bodies against demo-corpus bodies, same writer, same row count.

    The demo corpus is template-made and compresses far better than real news; the 628 real article
    bodies of ``../shared/data/vn-same-story`` (read in place, when present) give the factor by which
    a real archive is larger per article. Both files hold the same number of rows and the same other
    columns, so only the bodies differ.
    """
    if not SAME_STORY.is_dir():
        return None
    import pyarrow.parquet as pq

    real = [p.read_text(encoding="utf-8", errors="replace").replace(" \n", "\n\n").replace("_", " ")
            for p in sorted(SAME_STORY.glob("*/*.body.txt"))]
    if not real:
        return None
    out = {}
    for label, bodies in (("real", real), ("demo", None)):
        folder = root / f"text-{label}"
        _POOL["override_bodies"] = bodies
        _partition((0, 0, 0, len(real), str(folder)))
        files = list(folder.rglob("*.parquet"))
        size = sum(f.stat().st_size for f in files)
        body_bytes = sum(len(b.encode()) for b in pq.read_table(files[0], columns=["body"]).column("body").to_pylist())
        out[label] = {"articles": len(real), "bytes_per_article": round(size / len(real), 1),
                      "body_utf8_bytes_per_article": round(body_bytes / len(real), 1)}
    _POOL.pop("override_bodies", None)
    out["factor"] = round(out["real"]["bytes_per_article"] / out["demo"]["bytes_per_article"], 2)
    return out


def timed(sql: str, params=None) -> dict:
    """Run ``sql`` REPEATS times, each in a fresh DuckDB connection; seconds per run."""
    import duckdb

    times, rows = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        con = duckdb.connect()
        result = con.execute(sql, params or []).fetchall()
        times.append(time.perf_counter() - t0)
        con.close()
        rows = len(result)
    return {"median_s": round(statistics.median(times), 4), "first_s": round(times[0], 4),
            "max_s": round(max(times), 4), "rows": rows, "sql": " ".join(sql.split())}


def run_queries(root: Path, lookup_id: str) -> dict:
    src = f"read_parquet('{root}/articles/**/*.parquet', hive_partitioning = true)"
    return {
        "per_source_per_day_month": timed(
            f"SELECT source, CAST(published_at AS DATE) AS day, count(*) AS articles FROM {src} "
            f"WHERE month = '{QUERY_MONTH}' GROUP BY ALL ORDER BY ALL"),
        "phrase_search_month": timed(
            f"SELECT article_id, source, published_at, title FROM {src} "
            f"WHERE month = '{QUERY_MONTH}' AND contains(body, ?) ORDER BY published_at", [PHRASE]),
        "by_article_id": timed(f"SELECT * FROM {src} WHERE article_id = ?", [lookup_id]),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="1M-article archive: generate, then time DuckDB queries.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--articles", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    gen = generate(args.root, args.articles)
    queries = run_queries(args.root, gen["lookup_id"])
    real = real_text_estimate(args.root / "_text")
    json.dump({"archive": gen, "phrase": PHRASE, "month": QUERY_MONTH, "queries": queries, "real_text": real},
              sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
