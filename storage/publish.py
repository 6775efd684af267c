"""One segment of a run -> its dedupe decisions and its files. Pure functions of the journal.

Given the same journal records, ``plan_files`` always yields the same files with the same rows,
so a segment re-published after a crash produces byte-identical files under the same names
(``part-<run_id>-<k>.parquet``) and the create-only publish of an existing name is a no-op.
"""

from __future__ import annotations

from .rows import duplicate_row, hash64, partition_of
from .state import DedupeState


def decide(rows: list[tuple[int, str, dict]], state: DedupeState) -> dict[str, list]:
    """Which article rows of a segment are already archived (by others, or earlier in this run).

    Returns ``{seq: [method, kept_article_id]}`` for rows to move to ``duplicates``.
    A first version whose article_id is archived is a ``url`` duplicate; any row whose
    content_hash is archived under another id is an ``exact`` duplicate.
    """
    demote: dict[str, list] = {}
    urls: set[int] = set()
    hashes: dict[int, str] = {}
    for seq, dataset, row in rows:
        if dataset != "articles":
            continue
        uk, hk = hash64(row["article_id"]), hash64(row["content_hash"])
        if (row.get("version") or 1) <= 1 and (uk in urls or state.has_url_key(uk)):
            demote[str(seq)] = ["url", row["article_id"]]
            continue
        owner = hashes.get(hk) or state.owner_of_hash_key(hk)
        if owner is not None and owner != row["article_id"]:
            demote[str(seq)] = ["exact", owner]
            continue
        urls.add(uk)
        hashes[hk] = row["article_id"]
    return demote


def redirects(rows, demote, state: DedupeState) -> dict[str, str]:
    """``{article_id: kept}`` for rows of this run that lost their text to an archived copy and
    whose id is archived nowhere: duplicates that named that id must name the kept copy."""
    kept_ids = {r["article_id"] for seq, d, r in rows if d == "articles" and str(seq) not in demote}
    out = {}
    for seq, dataset, row in rows:
        if dataset == "articles" and str(seq) in demote:
            method, kept = demote[str(seq)]
            aid = row["article_id"]
            if method == "exact" and aid not in kept_ids and not state.has_url_key(hash64(aid)):
                out[aid] = kept
    return out


def as_duplicate(row: dict, method: str, kept: str) -> dict:
    return duplicate_row(kept, row["url"], row["source"], row.get("title"), 1.0, method, row["run_id"],
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
            method, kept = demote[str(seq)]
            dataset, row = "duplicates", as_duplicate(row, method, kept)
        if dataset == "duplicates" and redirect and row["article_id"] in redirect:
            row = {**row, "article_id": redirect[row["article_id"]]}
        if dataset == "runs":
            name = f"part-{run_id}.parquet" if first_final else f"part-{run_id}-{segment:05d}.parquet"
        else:
            name = f"part-{run_id}-{segment:05d}.parquet"
        key = f"{dataset}/{partition_of(dataset, row)}/{name}"
        groups.setdefault(key, (dataset, []))[1].append(row)
    return dict(sorted(groups.items()))
