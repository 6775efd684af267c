"""The seen-URL rows of runs that recovery published (a run killed before it wrote its file).

Which URLs an archived row stands for is the sources' business (their canonical URLs and ids), so
this is the crawler's; the file is written through :mod:`storage.seen`.
"""

from __future__ import annotations

import logging

from storage.seen import SeenRecorder

logger = logging.getLogger(__name__)

RECOVERED_CONSUMER = "seen"


def _source_finder():
    """``source_for(name, url)``: the declared source resolved as it was for ``url``. Ids are a
    run's own: a demo source's URLs name that run's server address."""
    from urllib.parse import urlsplit

    from crawler.sources import registry

    sources: dict[tuple[str, str], object] = {}

    def source_for(name: str, url: str):
        decl = registry().get(name)
        base = ""
        if decl.uses_base:
            parts = urlsplit(url)
            base = f"{parts.scheme}://{parts.netloc}"
        if (name, base) not in sources:
            sources[(name, base)] = decl.resolve(base or None)
        return sources[(name, base)]

    return source_for


def carried_outcomes(carried) -> dict[tuple[str, str], tuple[str, dict]]:
    """``{(source, id of the found URL): (outcome, row)}`` of the rows a killed process of a run
    journaled (``storage.run.Run.carried``), for the rerun that continues that run."""
    from crawler.sources import registry

    source_for = _source_finder()
    names = set(registry().names())
    out = {}
    for outcome, row in carried:
        if row.get("source") in names and row.get("url"):
            out[(row["source"], source_for(row["source"], row["url"]).article_id(row["url"]))] = (outcome, row)
    return out


def recovered_recorder(archive, record: dict) -> SeenRecorder:
    """The seen-URL rows of a run killed before it wrote its file, from the rows recovery published
    for it (``archive.recovered_runs``): each archived article's URLs and each copy's URL. Without
    them the next run fetches those copies again and records each a second time in ``duplicates``."""
    from zoneinfo import ZoneInfo

    from crawler.sources import registry

    source_for = _source_finder()
    recorder = SeenRecorder()
    names = set(registry().names())
    articles = archive.recovered_rows("articles", record, ["source", "url", "canonical_url", "article_id",
                                                            "published_at"])
    for row in articles.to_pylist():
        if row["source"] not in names:
            continue
        src = source_for(row["source"], row["url"])
        published = row["published_at"]
        day = published.astimezone(ZoneInfo(src.timezone)).date() if published is not None else None
        ids = {row["article_id"], src.article_id(row["url"]), src.article_id(row["canonical_url"] or row["url"])}
        recorder.record(ids, row["source"], "archived", "archived", day)
    duplicates = archive.recovered_rows("duplicates", record, ["source", "duplicate_url", "method"])
    for row in duplicates.to_pylist():
        if row["source"] not in names:
            continue
        src = source_for(row["source"], row["duplicate_url"])
        recorder.record({src.article_id(row["duplicate_url"])}, row["source"], "duplicate",
                        f"duplicate_{row['method']}")
    return recorder


def complete_recovered(archive) -> int:
    """Write the seen-URL file of every run recovery published that has none (create-only under the
    run's own name, which it never wrote), before the file of seen URLs is loaded; returns how many."""
    written = 0
    for record in archive.recovered_runs(RECOVERED_CONSUMER):
        recorder = recovered_recorder(archive, record)
        if recorder.write(archive.backend, record["run_id"]):
            written += 1
            logger.warning("seen URLs of recovered run %s: %d written", record["run_id"], len(recorder))
        archive.recovered_done(record["run_id"], RECOVERED_CONSUMER)
    return written
