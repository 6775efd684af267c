"""``SCHEDULER`` of a distributed worker: scrapy-redis's scheduler, adapted.

What changed from ``scrapy_redis.scheduler.Scheduler`` and why:

- built from the crawler and the worker's :mod:`.agent` (one Redis client, the run's keys),
  not from ``from_settings`` (deprecated for Scrapy components) and scrapy-redis's settings;
- the queue is :class:`~.frontier.LeasedQueue`: ``next_request`` leases, and every request
  the engine is completely done with is acknowledged (see :meth:`_ack_done`); at most
  ``DISTRIBUTED_PREFETCH`` requests are held at once, so idle workers get the rest;
- the filter is :class:`~.frontier.BucketedFilter` (per run, bounded, Scrapy's fingerprints);
- nothing is flushed when a crawler closes (the queue and filter belong to the run);
- the spider stays open while the run is active, however empty the queue looks (other
  workers may still produce requests), and closes when the coordinator says it is done
  (``spider_idle`` handler); an idle crawler tells the coordinator so, after two idle
  signals in a row with nothing taken or queued in between;
- a Redis outage does not stop the engine: pushes and acknowledgements wait in memory and are
  written when Redis answers (the agent gives the run up after ``DISTRIBUTED_REDIS_TIMEOUT``).

Acknowledging: Scrapy has no signal for "this request and all it led to are done". The
engine's slot keeps the requests in progress (``engine._slot.inprogress``) from the moment
it takes one from the scheduler until its download, callback, item pipelines and the
scheduling of the requests it yielded are over; a lease is acknowledged once its request left
that set. That attribute is private: it is checked when the crawler opens, so a Scrapy that
changed it fails at start-up, not by losing requests.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.distributed import agent as agent_mod
from crawler.distributed import serialize
from crawler.distributed.frontier import BucketedFilter, LeasedQueue
from crawler.distributed.redisio import RedisDown

logger = logging.getLogger(__name__)


class DistributedScheduler(RedisScheduler):
    def __init__(self, crawler, agent):
        super().__init__(server=agent.client, persist=True, serializer=serialize)
        self.crawler = crawler
        self.stats = crawler.stats
        self.agent = agent
        self.prefetch = agent.config.prefetch
        self._leased: dict = {}  # request -> lease field
        self._unpushed: list = []  # requests queued while Redis did not answer
        self._unacked: list[str] = []
        self._active = True  # something was taken or queued since the last idle signal
        self._idle_marked = False
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, agent_mod.current())

    @classmethod
    def from_settings(cls, settings):  # scrapy-redis's constructor: not used here
        raise NotImplementedError("DistributedScheduler is built from the crawler (from_crawler)")

    # ------------------------------------------------------------------ lifecycle
    def open(self, spider):
        self.spider = spider
        agent = self.agent
        if not hasattr(getattr(self.crawler.engine, "_slot", None), "inprogress"):
            raise RuntimeError("this Scrapy's engine has no _slot.inprogress: distributed mode cannot tell "
                               "when a request is done, so it cannot hand back a dead worker's requests safely")
        rk = agent.run.rk
        self.queue = LeasedQueue(self.server, spider, rk.queue(spider.name), serialize, link=agent.link,
                                 scripts=agent.scripts, run_keys=rk, worker=agent.worker_id)
        self.df = BucketedFilter(self.server, rk.filter(spider.name), fingerprinter=self.crawler.request_fingerprinter,
                                 link=agent.link, scripts=agent.scripts, buckets=agent.config.buckets,
                                 ttl_ms=agent.config.run_max_age * 1000,
                                 debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        agent.crawlers[spider.name] = self
        return None

    def close(self, reason):
        # Scrapy closes the scheduler once nothing is in progress, so every lease is normally done
        # by now; one that is not (an engine that changed) goes back to the queue, never acknowledged
        self._ack_done()
        fields = list(self._leased.values())
        self._leased.clear()
        try:
            if fields:
                n = self.queue.requeue(fields)
                logger.warning("%s: handed %d unfinished request(s) back to the queue", self.spider.name, n)
            self.agent.flush()
            if self.agent.closing_reason is None:
                # leaving a run that goes on: never block it by looking busy
                self.agent.run.mark_idle(self.agent.worker_id, self.spider.name)
        except RedisDown as exc:
            logger.error("%s: could not hand back %d request(s) (Redis: %s); the coordinator will once this "
                         "worker's heartbeat expires", self.spider.name, len(fields), exc)
        return None

    # ------------------------------------------------------------------ the queue
    def enqueue_request(self, request):
        self._active = True
        if self._unpushed:
            self._unpushed.append(request)
            return True
        try:
            if not self.queue.push_unless_seen(request, self.df):
                self.df.log(request, self.spider)
                return False
        except RedisDown:
            self._unpushed.append(request)
            return True
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        self._ack_done()
        if not self.agent.popping or self._unpushed or len(self._leased) >= self.prefetch:
            return None
        try:
            got = self.queue.pop_leased()
        except RedisDown:
            return None
        if got is None:
            return None
        request, field = got
        self._leased[request] = field
        self._active = True
        self._idle_marked = False
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self):
        if self.agent.aborted and self._unpushed:
            logger.error("%s: %d request(s) found while Redis was away are dropped with the run (a later run "
                         "finds them again)", self.spider.name, len(self._unpushed))
            self._unpushed.clear()
        if self._unpushed:
            return True
        if not self.agent.popping:
            return False
        try:
            return len(self.queue) > 0
        except RedisDown:
            return False

    def _ack_done(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        inprogress = slot.inprogress if slot is not None else ()
        done = [r for r in self._leased if r not in inprogress]
        if not done:
            return
        # acknowledged in batches by the agent's tick (after any request they produced is queued)
        self._unacked.extend(self._leased.pop(r) for r in done)

    def flush(self) -> None:
        """Queue what waited for Redis (called by the agent on each tick, before the acks)."""
        while self._unpushed:
            try:
                self.queue.push_unless_seen(self._unpushed[0], self.df)
            except serialize.NotSerializable as exc:  # raised at once when Redis answers; here, later
                logger.error("%s: dropped a request found while Redis was away: %s", self.spider.name, exc)
                self.stats.inc_value("scheduler/unserializable")
            self._unpushed.pop(0)

    def reconcile(self) -> None:
        """Hand back leases Redis holds for this crawler that it does not know about: a pop whose
        answer was lost with the connection (called by the agent on each tick, on the reactor, so
        every pop that returned is already in ``_leased``)."""
        known = set(self._leased.values()) | set(self._unacked)
        prefix = f"{self.spider.name}|"
        held = [f.decode() for f in self.agent.link.call(self.server.hkeys, self.queue.lease_key)]
        orphans = [f for f in held if f.startswith(prefix) and f not in known]
        if orphans:
            n = self.queue.requeue(orphans)
            logger.warning("%s: handed back %d request(s) whose lease was taken while the answer was lost",
                           self.spider.name, n)

    def take_acks(self) -> list[str]:
        """The leases to acknowledge now (none while a request waits to be queued)."""
        if self._unpushed or not self._unacked:
            return []
        fields, self._unacked = self._unacked, []
        return fields

    def give_back_acks(self, fields: list[str]) -> None:
        self._unacked[:0] = fields

    # ------------------------------------------------------------------ staying open
    def _spider_idle(self, spider):
        reason = self.agent.closing_reason
        if reason == "finished":
            return  # the run is drained: let the spider close (and publish)
        if reason is not None:
            raise CloseSpider(reason)
        if self._active:
            self._active = False
        elif not self._idle_marked:
            try:
                self.agent.run.mark_idle(self.agent.worker_id, spider.name)
                self._idle_marked = True
            except RedisDown:
                pass
        raise DontCloseSpider

    def partial(self) -> dict:
        """The report counters of this crawler (its spider's and the crawl stats)."""
        data = self.spider.partial() if hasattr(self.spider, "partial") else {}
        data["stats"] = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float))}
        return data
