"""The drift rule: has a source fallen below its own recent median?

One rule, used by the run report (a source it flags is ``degraded``, so ``crawlall`` exits 1) and
by ``scrapy archive report`` (a visible alert): both give it the same ``runs`` rows and the same
articles per local day, so they agree.

A source's latest run (``latest``, a ``runs`` row) is compared with its own history. ``earlier`` are
its earlier ``runs`` rows, oldest first; only those whose status was ``ok`` or ``degraded`` count (a
failed run says nothing about the site's pages), and at least ``min_history`` of them are needed for
any verdict. Two measures:

- completeness, per run (title, body, date, authors): the median share over the last
  ``history_runs`` earlier runs that archived at least ``min_articles`` articles; the latest run (at
  least ``min_articles`` archived too) is flagged when its share is more than ``completeness_drop``
  (share points) below that median. A field a run did not record (``completeness_authors`` of runs
  written before it existed) is NULL and left out; a source that never has authors has a median of
  0 and is never flagged for them.
- count, per local day: ``daily`` maps a local day (the source's time zone ``tz``) to the articles of
  the source published that day that the archive holds, this run's included (what the report draws
  as "articles per day"). The judged day ``D`` is the day before the local day the latest run
  started on (the last day that was over when it started). ``D`` is flagged when its count is below
  ``(1 - count_drop)`` times the median count of the ``history_days`` days before it (days without
  an article count 0), once that median is ``count_min_median`` or more. Only an *unrestricted*
  latest run (no ``-a since/until`` window, no rerun of given URLs) is judged: a backfill of last
  year says nothing about yesterday. Articles without a publication date are on no day, so a source
  whose pages lose their date loses its daily count too.

With fewer than ``min_history`` judged earlier runs, ``daily`` None (the archive could not be read)
or a median below ``count_min_median`` there is no verdict, never an alert.

Which runs the run report lets the rule mark ``degraded`` (an ``ok`` run, or one ``incomplete`` only by
the fixed ``min_completeness`` floor, which ``degraded`` then replaces) and why: ``crawler.runreport.drift_judged``.
The settings: ``DEGRADED_HISTORY_RUNS``, ``DEGRADED_MIN_HISTORY``, ``DEGRADED_COMPLETENESS_DROP``,
``DEGRADED_HISTORY_DAYS``, ``DEGRADED_COUNT_DROP``, ``DEGRADED_COUNT_MIN_MEDIAN`` and
``COMPLETENESS_MIN_ARTICLES`` (``crawler/settings.py``; out of range: ``ValueError``, exit 2).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

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
    runs: int              # earlier runs (completeness) or days (count) the median is taken over
    day: date | None = None  # count: the judged local day

    def __str__(self) -> str:
        if self.metric == "count":
            return (f"{self.day}: {self.value:g} articles < {self.threshold:g} (median {self.median:g} of the "
                    f"{self.runs} days before)")
        return (f"{self.metric} completeness {self.value:.0%} < {self.threshold:.0%} (median {self.median:.0%} "
                f"of the last {self.runs} runs)")


def restricted(row: dict) -> bool:
    """A backfill window or a rerun of given URLs: its count says nothing about the site's output."""
    from crawler.runkind import crawl_kind

    return crawl_kind(row) == "restricted"


def _zone(tz) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else (tz or timezone.utc)


@dataclass(frozen=True)
class DriftRule:
    history_runs: int = 7
    min_history: int = 3
    completeness_drop: float = 0.2
    history_days: int = 7
    count_drop: float = 0.5
    count_min_median: float = 5
    min_articles: int = 10

    def __post_init__(self):
        if self.history_runs < 1 or self.history_days < 1 or self.min_history < 1:
            raise ValueError("DEGRADED_HISTORY_RUNS, DEGRADED_HISTORY_DAYS and DEGRADED_MIN_HISTORY must be "
                             f"1 or more (got {self.history_runs}, {self.history_days}, {self.min_history})")
        if not 0 <= self.count_drop <= 1 or not 0 <= self.completeness_drop <= 1:
            raise ValueError("DEGRADED_COUNT_DROP and DEGRADED_COMPLETENESS_DROP are shares between 0 and 1 "
                             f"(got {self.count_drop}, {self.completeness_drop})")

    @classmethod
    def from_settings(cls, settings) -> "DriftRule":
        return cls(history_runs=settings.getint("DEGRADED_HISTORY_RUNS", 7),
                   min_history=settings.getint("DEGRADED_MIN_HISTORY", 3),
                   completeness_drop=settings.getfloat("DEGRADED_COMPLETENESS_DROP", 0.2),
                   history_days=settings.getint("DEGRADED_HISTORY_DAYS", 7),
                   count_drop=settings.getfloat("DEGRADED_COUNT_DROP", 0.5),
                   count_min_median=settings.getfloat("DEGRADED_COUNT_MIN_MEDIAN", 5),
                   min_articles=settings.getint("COMPLETENESS_MIN_ARTICLES", 10))

    def judged_day(self, latest: dict, tz="UTC") -> date:
        """``D``: the local day before the one ``latest`` started on, in the source's zone ``tz``."""
        started = latest["started_at"]
        if isinstance(started, datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=timezone.utc)  # runs rows are UTC
        return started.astimezone(_zone(tz)).date() - timedelta(days=1)

    def count_days(self, latest: dict, tz="UTC") -> tuple[date, date]:
        """The first and last local day whose count the count rule reads for ``latest``."""
        judged = self.judged_day(latest, tz)
        return judged - timedelta(days=self.history_days), judged

    def assess(self, earlier: list[dict], latest: dict, daily: dict[date, int] | None = None,
               tz="UTC") -> list[Alert]:
        """The alerts of ``latest`` against ``earlier`` rows of the same source and its ``daily`` counts."""
        judged = [r for r in earlier if r.get("status") in JUDGED and r.get("run_id") != latest.get("run_id")]
        if len(judged) < self.min_history:
            return []
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
        if daily is not None and not restricted(latest):
            day = self.judged_day(latest, tz)
            before = [daily.get(day - timedelta(days=i), 0) for i in range(1, self.history_days + 1)]
            median = statistics.median(before)
            floor = median * (1 - self.count_drop)
            count = daily.get(day, 0)
            if median >= self.count_min_median and count < floor:
                alerts.append(Alert(latest["source"], "count", count, median, floor, len(before), day))
        return alerts
