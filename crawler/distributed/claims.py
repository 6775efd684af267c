"""Exact dedupe across workers: the dedupe step's claim, decided once for the whole run.

``pipelines/dedupe.py`` asks its session ``claim(article_id, content_hash)``. In a worker the
session's claims are wrapped (``ArchiveSession.wrap_claims``) by :class:`SharedClaims`:

1. what earlier runs archived: the archive's dedupe state (read only, as a dry run reads it);
2. this run, every worker: one Lua script on the run's url and hash claims (``CLAIM`` in
   :mod:`.redisio`), so two workers meeting two copies of one story at the same moment
   archive it once; a claim whose worker died (heartbeat gone) is taken over, because that
   worker's request was handed back and is fetched again;
3. the worker's own run (journal, published segments): as in a single process.

While Redis does not answer, articles wait before the dedupe step (:class:`WaitForRedisPipeline`),
so decisions stay shared through a short outage. If Redis fails between that wait and the claim,
or the worker gives the run up, step 2 is skipped and counted (``unshared``, noted in the report):
the archive stays exact anyway, because publishing a segment decides duplicates again under the
archive lock (``storage/publish.py``); only the report may then call archived a copy the archive
records as a duplicate.
"""

from __future__ import annotations

import logging

from crawler.distributed.redisio import RedisDown

logger = logging.getLogger(__name__)


class SharedClaims:
    def __init__(self, inner, agent):
        self.inner = inner
        self.agent = agent
        self.unshared = 0

    def claim(self, article_id: str, content_hash: str):
        state = self.inner.state
        if state.lookup_url(article_id):
            return "url", article_id
        owner = state.lookup_hash(content_hash)
        if owner is not None:
            return "exact", owner
        try:
            status, kept = self.agent.run.claim(article_id, content_hash, self.agent.worker_id)
        except RedisDown:
            if not self.unshared:
                logger.warning("Redis does not answer: claims are decided by this worker's archive run alone "
                               "until it does (publishing still keeps the archive exact)")
            self.unshared += 1
        else:
            if status != "new":
                return status, kept
        return self.inner.claim(article_id, content_hash)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class WaitForRedisPipeline:
    """Just before the dedupe step in a worker: while Redis does not answer, an article waits
    here (polling it), so that the exact and near-duplicate decisions stay shared across
    workers through a short outage. If the worker gives the run up (``DISTRIBUTED_REDIS_TIMEOUT``)
    waiting articles go on and are decided locally: journaled and published, never lost."""

    def __init__(self, stats, agent):
        self.stats = stats
        self.agent = agent

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.distributed import agent as agent_mod

        return cls(crawler.stats, agent_mod.current())

    async def process_item(self, item):
        from scrapy.utils.asyncio import sleep

        link, waited = self.agent.link, False
        while not self.agent.aborted:
            try:
                if link.up or link.call(link.client.ping):
                    break
            except RedisDown:
                pass
            if not waited:
                self.stats.inc_value("distributed/items_waited_for_redis")
                waited = True
            await sleep(min(0.5, self.agent.config.poll))
        return item
