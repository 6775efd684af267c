"""One segment of a run -> its dedupe decisions and its files. Pure functions of the journal.

Given the same journal records, ``plan_files`` always yields the same files with the same rows,
so a segment re-published after a crash produces byte-identical files under the same names
(``part-<run_id>-<k>.parquet``) and the create-only publish of an existing name is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from .rows import duplicate_row, hash64, partition_of
from .state import DedupeState


_NO_TIME = datetime.max.replace(tzinfo=timezone.utc)


def keep_order(row: dict) -> tuple:
    """Which of a story's copies in one segment is kept: the first published (an undated copy
    last), then by source and article id, then the URL without its host. A fixed order, not the
    crawl's, so the same pages give the same archive whatever order they were fetched in, and a
    rerun that continues a killed run keeps what a clean run keeps."""
    published = row.get("published_at")
    parts = urlsplit(row.get("url") or "")
    return (published is None, published or _NO_TIME, row.get("source") or "", row["article_id"],
            parts.path, parts.query, row.get("url") or "")


def decide(rows: list[tuple[int, str, dict]], state: DedupeState, near=None) -> dict[str, list]:
    """Which article rows of a segment are copies of one archived (by others, by an earlier
    segment) or kept in this segment: ``{seq: [method, kept_article_id, similarity]}`` for rows to
    move to ``duplicates``.

    Rows are taken in :func:`keep_order`, whatever order they were accepted in. A first version
    whose article_id is archived or kept is a ``url`` duplicate; a row whose content_hash is under
    another id an ``exact`` one; ``near`` (optional, the crawl's near-duplicate index: ``match(row)
    -> (kept_id, similarity) | None`` and ``keep(row)``) finds the ``near`` ones among the rest.
    """
    demote: dict[str, list] = {}
    urls: set[int] = set()
    hashes: dict[int, str] = {}
    articles = sorted(((seq, row) for seq, dataset, row in rows if dataset == "articles"),
                      key=lambda item: keep_order(item[1]))
    for seq, row in articles:
        uk, hk = hash64(row["article_id"]), hash64(row["content_hash"])
        if (row.get("version") or 1) <= 1 and (uk in urls or state.has_url_key(uk)):
            demote[str(seq)] = ["url", row["article_id"], 1.0]
            continue
        owner = hashes.get(hk) or state.owner_of_hash_key(hk)
        if owner is not None and owner != row["article_id"]:
            demote[str(seq)] = ["exact", owner, 1.0]
            continue
        if near is not None and (row.get("version") or 1) <= 1:
            found = near.match(row)
            if found is not None:
                demote[str(seq)] = ["near", found[0], round(float(found[1]), 4)]
                continue
            near.keep(row)
        urls.add(uk)
        hashes[hk] = row["article_id"]
    return demote


def redirects(rows, demote, state: DedupeState) -> dict[str, str]:
    """``{article_id: kept}`` for rows of this segment that became copies and whose id is neither
    kept in the segment nor archived: duplicates that named that id must name the kept copy."""
    kept_ids = {r["article_id"] for seq, d, r in rows if d == "articles" and str(seq) not in demote}
    out = {}
    for seq, dataset, row in rows:
        if dataset == "articles" and str(seq) in demote:
            kept = demote[str(seq)][1]
            aid = row["article_id"]
            if aid != kept and aid not in kept_ids and not state.has_url_key(hash64(aid)):
                out[aid] = kept
    return out


def as_duplicate(row: dict, method: str, kept: str, similarity: float = 1.0) -> dict:
    return duplicate_row(kept, row["url"], row["source"], row.get("title"), similarity, method, row["run_id"],
                         row["crawled_at"])


def kept_articles(rows, demote) -> list[dict]:
    return [r for seq, d, r in rows if d == "articles" and str(seq) not in demote]


def plan_files(run_id: str, segment: int, rows, demote, final: bool,
               first_final: bool = True, redirect: dict | None = None) -> dict[str, tuple[str, list]]:
    """``{key: (dataset, rows)}`` for a segment; runs rows only in the final segment."""
    groups: dict[str, tuple[str, list]] = {}
    for seq, dataset, row in rows:
        if dataset == "runs" and not final:
            continue
        if dataset == "articles" and str(seq) in demote:
            method, kept, *sim = demote[str(seq)]  # journals written before 2026-12 have no similarity
            dataset, row = "duplicates", as_duplicate(row, method, kept, *sim)
        if dataset == "duplicates" and redirect and row["article_id"] in redirect:
            row = {**row, "article_id": redirect[row["article_id"]]}
        if dataset == "runs":
            name = f"part-{run_id}.parquet" if first_final else f"part-{run_id}-{segment:05d}.parquet"
        else:
            name = f"part-{run_id}-{segment:05d}.parquet"
        key = f"{dataset}/{partition_of(dataset, row)}/{name}"
        groups.setdefault(key, (dataset, []))[1].append(row)
    return dict(sorted(groups.items()))
