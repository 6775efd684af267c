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
from datetime import date, datetime

from crawler.failures import classify
from storage.urls import canonical, on_domains
from pipelines.dropped import is_duplicate, reason_of

logger = logging.getLogger(__name__)


class Outcomes:
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
            self.completeness["archived"] += 1
            for name, ok in zip(("title", "body", "date", "authors"), flags):
                self.completeness[name] += int(ok)
            day = self._day(published)
            if day is not None:  # the drift rule's daily count: articles per local publication day
                self.archived_days[day] += 1
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
        if found in self.outcome:
            return
        self.outcome[found] = reason
        self.outcomes[reason] += 1
        if seen is not None and not self.dry_run:
            ids = {self.source.article_id(u) for u in [found, *urls] if on_domains(u, self.source.domains)}
            self.session.recorder.record(ids, self.name, seen, reason, published, attempts, url=found, via=via)
        self._settled(found, published)

    def _count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def _event(self, name: str, n: int = 1) -> None:
        self.events[name] += n
        self._count(f"events/{name}", n)

    def _settled(self, found: str, published: date | None) -> None:
        """``found`` has its outcome (navigation may now go on)."""
