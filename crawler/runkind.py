"""What a ``runs`` row says about a crawl: restricted, cut short or complete.

Read by the run report, by the session (which earlier runs may mark a sitemap or a URL unchanged)
and by the drift rule (which runs' counts say something about a site's output).
"""

from __future__ import annotations

STATUS_OK = "ok"
# notes of a run that may have missed part of a site's feeds, sitemaps or listings
DISCOVERY_GAPS = ("discovery_failed=", "refused_xml=", "refused_gzip_bomb=", "bad_gzip=")


def crawl_kind(row: dict) -> str:
    """``"restricted"`` (a window or a rerun of given URLs), ``"cut_short"`` (not ok, stopped by
    max_articles, articles left unfetched, or a feed, sitemap or listing page not read) or
    ``"complete"``: what a later run may conclude from this ``runs`` row."""
    notes = row.get("notes") or ""
    if any(word in notes for word in ("window ", "rerun of")):
        return "restricted"
    dropped = dict(row.get("dropped") or [])
    if (row["status"] not in (STATUS_OK, "degraded") or "max_articles" in dropped or "not_fetched" in dropped
            or any(gap in notes for gap in DISCOVERY_GAPS)):
        return "cut_short"
    return "complete"
