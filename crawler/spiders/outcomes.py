"""What became of each article URL the spider found: its one outcome, counted and recorded.

Every article URL found gets exactly one outcome (archived, a duplicate, a drop reason, an
error, skipped as known), so the run report's numbers add up:
``found = archived + duplicates + sum(dropped)``. Outcomes come from the request's errback
(:meth:`Outcomes.article_failed`), from Scrapy's ``item_scraped`` / ``item_dropped`` signals
(the drop's reason is :attr:`pipelines.dropped.Dropped.reason`) and from discovery (skipped
as known, over ``max_articles``); each is counted and written to the seen-URL state.

A mixin of :class:`crawler.spiders.news.NewsSpider`, which owns the counters and calls
:meth:`Outcomes._settled` when nothing else is waited for from a URL.
"""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime

from crawler.failures import classify
from storage.urls import canonical, on_domains
from pipelines.dedupe import field_flags
from pipelines.dropped import is_duplicate, reason_of

logger = logging.getLogger(__name__)


class Outcomes:
    _carried_keys: dict  # URL of a carried row -> the URL this process found it as (NewsSpider.__init__)

    def article_failed(self, failure):
        reason, seen = classify(failure.value)
        request = failure.request
        found = request.meta.get("found") or request.url
        self._count(f"article/failed/{reason}")
        logger.info("article %s failed: %s", request.url, reason)
        attempts = None
        if seen == "failed":
            attempts = self.session.seen.attempts(self.source.article_id(found)) + 1
        self._finish(found, reason, seen=seen, urls=self._fetched_urls(request), attempts=attempts,
                     via=request.meta.get("via"))

    def _item_scraped(self, item, response, spider):
        found = response.meta.get("found") or response.url
        published = item.get("published_at") if isinstance(item, dict) else None
        flags = self.run.fields.pop(found, None)  # noted by the dedupe step
        if flags is not None:
            self._count_archived(flags, self._day(published))
        urls = self._fetched_urls(response.request, response)
        if isinstance(item, dict) and item.get("canonical_url"):
            urls.append(item["canonical_url"])
        self._finish(found, "archived", seen="archived", urls=urls, published=self._day(published))

    def _item_dropped(self, item, response, exception, spider):
        found = response.meta.get("found") or response.url
        self.run.fields.pop(found, None)
        reason = reason_of(exception)
        if is_duplicate(reason):
            seen = "duplicate"
        elif reason == "unchanged":
            seen = "unchanged"
        elif reason == "outside_window":
            seen = None  # a normal run must still fetch it
        else:
            seen = "not_article"
        urls = self._fetched_urls(response.request, response)
        if isinstance(item, dict) and item.get("canonical_url"):
            urls.append(item["canonical_url"])
        published = item.get("published_at") if isinstance(item, dict) else None
        self._finish(found, reason, seen=seen, urls=urls, published=self._day(published))

    def _count_archived(self, flags, day: date | None, n: int = 1) -> None:
        """The run report's completeness and the drift rule's daily count (articles per local
        publication day) of ``n`` archived articles (-1: one archived is a copy after all)."""
        self.completeness["archived"] += n
        for name, ok in zip(("title", "body", "date", "authors"), flags):
            self.completeness[name] += n * int(ok)
        if day is not None:
            self.archived_days[day] += n

    def _resumed(self, found: str, outcome: str, row: dict) -> None:
        """A URL the killed process of this run journaled (the run continues): its outcome then."""
        day = self._day(row.get("published_at"))
        if outcome == "archived":
            self._count_archived(field_flags(row), day)
            self._carried_keys[row["url"]] = found
            self._finish(found, "archived", seen="archived", urls=[found], published=day)
        else:
            self._finish(found, outcome, seen="duplicate", urls=[found], published=day)

    def _demoted(self, row: dict, method: str) -> None:
        """An article this spider archived was found a copy when its segment was published
        (storage.publish.decide): counted and recorded as that duplicate instead."""
        found = self._carried_keys.get(row["url"], row["url"])
        key = self._key(found)
        if self.outcome.get(key) != "archived":
            return
        reason = sys.intern(f"duplicate_{method}")
        day = self._day(row.get("published_at"))
        self.outcome[key] = reason
        self.outcomes["archived"] -= 1
        self.outcomes[reason] += 1
        self._count_archived(field_flags(row), day, -1)
        if not self.dry_run:
            self.session.recorder.record({self.source.article_id(found)}, self.name, "duplicate", reason, day,
                                         url=found)

    def _day(self, published) -> date | None:
        if isinstance(published, datetime) and published.tzinfo is not None:
            return published.astimezone(self.tz).date()
        return None

    def _fetched_urls(self, request, response=None) -> list[str]:
        src = self.source
        urls = [request.meta.get("found") or request.url, request.url, *request.meta.get("redirect_urls", ())]
        if response is not None:
            urls.append(response.url)
        return [canonical(u, src.strip_params, src.host_aliases) for u in urls]

    def _finish(self, found: str, reason: str, seen: str | None = None, urls=(), published=None,
                attempts=None, via=None) -> None:
        """Give the found article ``found`` its one outcome (later calls for it are ignored)."""
        key = self._key(found)
        if key in self.outcome:
            return
        self.outcome[key] = reason = sys.intern(reason)
        self.outcomes[reason] += 1
        if seen is not None and not self.dry_run:
            ids = {self.source.article_id(u) for u in [found, *urls] if on_domains(u, self.source.domains)}
            self.session.recorder.record(ids, self.name, seen, reason, published, attempts, url=found, via=via)
        self._settled(found, published)
        if key in self._in_flight:  # an article request is done: discovery may release another
            self._in_flight.discard(key)
            self._refill()

    def _count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def _event(self, name: str, n: int = 1) -> None:
        self.events[name] += n
        self._count(f"events/{name}", n)

    def _settled(self, found: str, published: date | None) -> None:
        """``found`` has its outcome (navigation may now go on)."""

    def _key(self, url: str) -> int:
        """The key of ``url`` in the spider's per-URL bookkeeping (``found``, ``outcome``)."""
        raise NotImplementedError

    def _refill(self) -> bool:
        """An article request finished: discovery may release more (NewsSpider)."""
        return False
