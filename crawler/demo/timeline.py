"""The demo world's timeline: the days its articles are dated, counted back from the demo's "today".

The demo sites publish over the ``N_DAYS`` days that end the day before ``today`` (in Vietnam's time),
so ``make demo`` shows the news of the last weeks on any day and no demo article is ever dated after
the crawl that fetches it. ``today`` is ``DEMO_TODAY`` (``YYYY-MM-DD``) when set, else today on the
product's clock (:mod:`storage.clock`, which ``NEWSARCHIVE_NOW`` sets). The demo server and every
crawl of it must agree on it: the monthly feeds and sitemaps are named after these months, so tests
set ``DEMO_TODAY`` once for every process they start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from storage import clock

N_DAYS = 86
TZ_VN = timezone(timedelta(hours=7))     # Vietnam keeps +07:00 all year
ENV = "DEMO_TODAY"


class TimelineError(ValueError):
    """``DEMO_TODAY`` is not a ``YYYY-MM-DD`` date."""


def demo_today() -> date:
    """``DEMO_TODAY`` if set, else today in Vietnam on the product's clock."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return clock.today(TZ_VN)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TimelineError(f"{ENV}={value!r}: expected a date as YYYY-MM-DD") from None


@dataclass(frozen=True)
class Timeline:
    today: date
    start: datetime                             # midnight (naive, Vietnam's time) of the first day
    n_days: int
    # (year, month, index of its first day in the window) of every month the window touches, then the
    # month after it as an end mark
    months: tuple[tuple[int, int, int], ...]

    @property
    def last_day(self) -> date:
        return self.start.date() + timedelta(days=self.n_days - 1)

    def month_names(self) -> tuple[str, ...]:
        """``YYYY-MM`` of every month holding demo articles (what the monthly feeds are named)."""
        return tuple(f"{y}-{m:02d}" for y, m, _ in self.months[:-1])


def timeline(today: date | None = None, n_days: int = N_DAYS) -> Timeline:
    today = today or demo_today()
    last = today - timedelta(days=1)
    first = last - timedelta(days=n_days - 1)
    months = []
    y, m = first.year, first.month
    while True:
        index = max(0, (date(y, m, 1) - first).days)
        months.append((y, m, index))
        if (y, m) > (last.year, last.month):
            break
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return Timeline(today=today, start=datetime(first.year, first.month, first.day), n_days=n_days,
                    months=tuple(months))
