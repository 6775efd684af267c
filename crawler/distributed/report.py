"""The ``runs`` rows of a distributed run: one per source, for every worker together.

``crawler.runreport.build_row`` builds a row from a spider's counters. Here the "spider" is
the coordinator's seeding spider of the source (it carries the run's arguments: window,
explicit URLs) with its counters replaced by the whole run's:

- URLs found and their outcomes: the run's found-URL map in Redis (each URL counted once,
  whichever workers found and fetched it, dead workers included);
- completeness, discovery, events, requests, bytes, HTTP errors: the sum of every worker's
  last snapshot (a worker that died contributes what it had pushed, at most a few seconds old;
  the row says so).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace

from crawler.runreport import build_row

COUNTERS = ("completeness", "discovery", "events")


def aggregate(seed_spider, run_id: str, settings, found: int, outcomes: Counter, partials: dict[str, dict]):
    """A stand-in for ``build_row``'s spider, and the summed crawl stats: ``(spider, stats)``."""
    agg = copy.copy(seed_spider)
    for name in COUNTERS:
        setattr(agg, name, Counter())
    agg.requested_articles = 0
    stats: Counter = Counter()
    starts, delays = [], []
    for part in partials.values():
        for name in COUNTERS:
            getattr(agg, name).update(part.get(name) or {})
        agg.requested_articles += int(part.get("requested_articles") or 0)
        stats.update({k: v for k, v in (part.get("stats") or {}).items() if isinstance(v, (int, float))})
        if part.get("started_at"):
            starts.append(datetime.fromisoformat(part["started_at"]))
        if part.get("publish_delay_s") is not None:
            delays.append(float(part["publish_delay_s"]))
    agg.found = range(found)  # build_row needs its length only
    agg.outcomes = Counter(outcomes)
    agg.started_at = min(starts) if starts else seed_spider.started_at
    agg.run = replace(agg.run, session=SimpleNamespace(
        run_id=run_id, run=SimpleNamespace(publish_delay_s=max(delays) if delays else None)))
    agg.crawler = SimpleNamespace(settings=settings)
    return agg, dict(stats)


def source_row(seed_spider, run_id: str, settings, reason: str, found: int, outcomes: Counter,
               partials: dict[str, dict], notes: list[str]) -> dict:
    agg, stats = aggregate(seed_spider, run_id, settings, found, outcomes, partials)
    row = build_row(agg, reason, stats)
    workers = sorted(w for w in partials if w != "coordinator")
    extra = [f"{len(workers)} worker(s)"]
    unshared = sum(int(p.get("unshared_claims") or 0) for p in partials.values())
    if unshared:
        extra.append(f"{unshared} claim(s) decided without Redis (the archive stays exact; counts may call a "
                     f"duplicate archived)")
    extra += notes
    row["notes"] = "; ".join(x for x in (row.get("notes"), *extra) if x)
    return row
