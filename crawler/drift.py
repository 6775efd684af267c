"""The drift rule: has a source fallen below its own recent median?

One rule, used by the run report (a source it flags is ``degraded``, so ``crawlall`` exits 1) and
by ``scrapy archive report`` (a visible alert): both give it the same ``runs`` rows, so they agree.

A source's latest run is compared with its earlier runs (``earlier``, oldest first; only runs whose
status was ``ok`` or ``degraded``: a failed run says nothing about the site's pages):

- completeness (title, body, date, authors): over the last ``history_runs`` earlier runs that archived at
  least ``min_articles`` articles, the median share; the latest run (at least ``min_articles``
  archived too) is flagged when its share is more than ``completeness_drop`` (share points) below it
  (a field a runs row did not record, ``completeness_authors`` before it existed, is NULL: left out);
- count: over the last ``history_runs`` earlier *unrestricted* runs (no ``-a since/until`` window,
  no rerun of given URLs), the median of ``articles_archived``, which for a nightly crawl is the
  source's daily count of new articles; the latest unrestricted run is flagged when it archived
  less than ``(1 - count_drop)`` times that median, once the median is ``count_min_median`` or more.

Each needs ``min_history`` earlier runs; with fewer there is no verdict.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

FIELDS = ("title", "body", "date", "authors")
JUDGED = ("ok", "degraded")
DEGRADED = "degraded"


@dataclass(frozen=True)
class Alert:
    source: str
    metric: str            # "count", or the completeness field ("title", "body", "date", "authors")
    value: float
    median: float
    threshold: float
    runs: int              # earlier runs the median is taken over

    def __str__(self) -> str:
        if self.metric == "count":
            return (f"archived {self.value:g} < {self.threshold:g} (median {self.median:g} of the last "
                    f"{self.runs} runs)")
        return (f"{self.metric} completeness {self.value:.0%} < {self.threshold:.0%} (median {self.median:.0%} "
                f"of the last {self.runs} runs)")


def restricted(row: dict) -> bool:
    """A backfill window or a rerun of given URLs: its count says nothing about the site's output."""
    from crawler.runkind import crawl_kind

    return crawl_kind(row) == "restricted"


@dataclass(frozen=True)
class DriftRule:
    history_runs: int = 7
    min_history: int = 3
    completeness_drop: float = 0.2
    count_drop: float = 0.5
    count_min_median: float = 5
    min_articles: int = 10

    @classmethod
    def from_settings(cls, settings) -> "DriftRule":
        return cls(history_runs=settings.getint("DEGRADED_HISTORY_RUNS", 7),
                   min_history=settings.getint("DEGRADED_MIN_HISTORY", 3),
                   completeness_drop=settings.getfloat("DEGRADED_COMPLETENESS_DROP", 0.2),
                   count_drop=settings.getfloat("DEGRADED_COUNT_DROP", 0.5),
                   count_min_median=settings.getfloat("DEGRADED_COUNT_MIN_MEDIAN", 5),
                   min_articles=settings.getint("COMPLETENESS_MIN_ARTICLES", 10))

    def assess(self, earlier: list[dict], latest: dict) -> list[Alert]:
        """The alerts of ``latest`` (a ``runs`` row) against ``earlier`` rows of the same source."""
        judged = [r for r in earlier if r.get("status") in JUDGED and r.get("run_id") != latest.get("run_id")]
        alerts: list[Alert] = []
        sized = [r for r in judged if (r.get("articles_archived") or 0) >= self.min_articles]
        if (latest.get("articles_archived") or 0) >= self.min_articles:
            for field in FIELDS:
                column = f"completeness_{field}"
                values = [r[column] for r in sized if r.get(column) is not None][-self.history_runs:]
                share = latest.get(column)
                if share is None or len(values) < self.min_history:
                    continue
                median = statistics.median(values)
                floor = median - self.completeness_drop
                if share < floor - 1e-9:
                    alerts.append(Alert(latest["source"], field, share, median, floor, len(values)))
        if not restricted(latest):
            counts = [r.get("articles_archived") or 0 for r in judged if not restricted(r)][-self.history_runs:]
            if len(counts) >= self.min_history:
                median = statistics.median(counts)
                floor = median * (1 - self.count_drop)
                archived = latest.get("articles_archived") or 0
                if median >= self.count_min_median and archived < floor:
                    alerts.append(Alert(latest["source"], "count", archived, median, floor, len(counts)))
        return alerts
