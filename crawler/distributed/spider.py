"""The generic spider in a distributed run (subclassed, so ``crawler/spiders/news.py`` stays as it is).

Three differences, all about counting once for the whole run:

- an article URL another worker already found this run is not asked again here
  (``found_twice``): the run's found-URL map in Redis, one atomic claim per URL, taken over
  when the finder dies before its request is queued (``FIND`` in :mod:`.redisio`);
- each found URL's outcome (archived, a duplicate, a drop reason, an error) goes to the run's
  map too, from whichever worker fetched it;
- when the spider closes it does not write a ``runs`` row: it pushes its counters to Redis
  (the archive-run extension then publishes its archive run); the coordinator writes the one row per source of the run
  (:mod:`.report`).

The exact dedupe step's claims are wrapped by :class:`~.claims.SharedClaims`.
"""

from __future__ import annotations

import logging

from crawler.distributed import agent as agent_mod
from crawler.distributed.claims import SharedClaims
from crawler.distributed.redisio import RedisDown
from crawler.sources import registry
from crawler.spiderloader import SourceSpiderLoader
from crawler.spiders.news import NewsSpider
from storage.urls import canonical, on_domains
from storage.faults import fault

logger = logging.getLogger(__name__)


class DistributedNewsSpider(NewsSpider):
    shared = None  # the worker's agent (crawler/distributed/agent.py), or the coordinator's seeder
    stream_discovery = False  # the shared queue is the frontier: entries a worker held back would die with it

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        agent = agent_mod.current()
        spider.shared = agent
        # the archive-run extension wraps the session's claims with this when it opens the session
        spider.run.wrap_claims = lambda inner: SharedClaims(inner, agent)
        return spider

    def _article_request(self, url: str, via: str, hints: dict, force: bool = False, listing_token=None):
        src = self.source
        canon = canonical(url, src.strip_params, src.host_aliases)
        if on_domains(canon, src.domains) and self._key(canon) not in self.found:
            # asked every time, never cached here: a URL another worker found may be ours to
            # take over later, once that worker died before queueing its request
            if not self.shared.first_find(self.name, src.article_id(canon)) and not force:
                return None, "found_twice", None
            fault("distributed.after_find")  # tests: die holding a find whose request is not queued
        return super()._article_request(url, via, hints, force=force, listing_token=listing_token)

    def _finish(self, found: str, reason: str, *args, **kwargs) -> None:
        first_here = self._key(found) not in self.outcome
        super()._finish(found, reason, *args, **kwargs)
        if first_here:
            self.shared.outcome(self.name, self.source.article_id(found), reason)

    def partial(self) -> dict:
        """What the coordinator adds up for this source's ``runs`` row (besides the crawl stats)."""
        run = getattr(getattr(self, "session", None), "run", None)
        return {
            "started_at": self.started_at.isoformat(),
            "requested_articles": self.requested_articles,
            "completeness": dict(self.completeness),
            "discovery": dict(self.discovery),
            "events": dict(self.events),
            "explicit_urls": len(self.explicit_urls),
            "reason": self.__dict__.get("_close_reason"),
            "publish_delay_s": getattr(run, "publish_delay_s", None),
            "unshared_claims": getattr(getattr(getattr(self, "session", None), "_claims", None), "unshared", 0),
        }

    def closed(self, reason):
        self._close_reason = reason
        self.shared.finalizing()
        try:
            self.shared.push_partials(only=self.name)
        except RedisDown as exc:
            logger.error("%s: could not push the report counters (Redis: %s)", self.name, exc)
        # the archive-run extension publishes the run after this, with this in its manifest
        self.run.summary = {"source": self.name, "reason": reason, "distributed_run": self.shared.run_id,
                            "worker": self.shared.worker_id}


def spider_class(name: str) -> type[DistributedNewsSpider]:
    try:
        decl = registry().get(name)
    except ValueError as exc:
        raise KeyError(str(exc)) from None
    return type(f"{decl.name}_distributed_spider", (DistributedNewsSpider,), {"name": decl.name, "source_decl": decl})


class DistributedSpiderLoader(SourceSpiderLoader):
    """``SPIDER_LOADER_CLASS`` of a worker: the same sources, on :class:`DistributedNewsSpider`."""

    def load(self, spider_name: str) -> type[DistributedNewsSpider]:
        cls = self._classes.get(spider_name)
        if cls is None:
            cls = self._classes[spider_name] = spider_class(spider_name)
        return cls
