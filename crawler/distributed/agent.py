"""A worker process's link to the run it crawls (one per process, shared by its crawlers).

- Heartbeat: a thread refreshes ``<p>:hb:<worker>`` (time to live ``DISTRIBUTED_LEASE_TTL``)
  while the reactor makes progress (a reactor tick younger than the TTL) or the worker is
  publishing its last rows; a dead, hung or partitioned worker stops beating and the
  coordinator hands its leased requests back.
- Every ``DISTRIBUTED_POLL_INTERVAL`` on the reactor: read the run's state, retry what could
  not be written while Redis was away (pushed requests, acknowledgements, outcomes), push the
  report counters, and decide whether to give up (:attr:`aborted`):

  * Redis unreachable for ``DISTRIBUTED_REDIS_TIMEOUT``: ``redis_unreachable``;
  * Redis answers but the run record is gone (restarted without persistence, or flushed):
    ``redis_lost`` - nothing is written to it again;
  * the coordinator's heartbeat is gone: ``coordinator_gone``;
  * the coordinator aborted the run: ``run_aborted``.

  A Redis restart that kept the run (persistence on) is logged and the crawl goes on.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import threading
import time

from crawler.distributed.keys import Keys
from crawler.distributed.redisio import Link, RedisDown, Scripts, connect, server_id
from crawler.distributed.runstate import ABORTED, ACTIVE, DONE, RunState

logger = logging.getLogger(__name__)

_current: "Agent | None" = None


def current() -> "Agent":
    if _current is None:
        raise RuntimeError("no distributed worker in this process: the distributed scheduler and spiders "
                           "run under `scrapy worker` (DISTRIBUTED=1)")
    return _current


def install(agent: "Agent | None") -> None:
    global _current
    _current = agent


def new_worker_id() -> str:
    host = re.sub(r"[^A-Za-z0-9_-]+", "-", socket.gethostname())[:40].strip("-") or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(2)}"


class Agent:
    def __init__(self, config, run_id: str, sources: list[str], worker_id: str | None = None, client=None):
        self.config = config
        self.client = client or connect(config)
        self.link = Link(self.client, retry_after=min(1.0, config.poll), verify=self._run_still_there)
        self.scripts = Scripts(self.client)
        self.keys = Keys(config.prefix)
        self.run = RunState(self.link, self.scripts, self.keys, run_id, config)
        self.run_id = run_id
        self.sources = list(sources)
        self.worker_id = worker_id or new_worker_id()
        self.state: str | None = None
        self.aborted: str | None = None
        self.crawlers: dict[str, object] = {}  # source -> its scheduler (partials, buffered writes)
        self._pending: list = []  # writes to retry once Redis answers
        self._outcomes: list[tuple[str, str, str]] = []  # written in batches, with the acks
        self._server_id = ""
        self._last_tick = time.monotonic()
        self._last_partials = 0.0
        self._finalizing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop = None

    # ------------------------------------------------------------------ joining and leaving
    def info(self) -> dict:
        return {"host": socket.gethostname(), "pid": os.getpid(), "run": self.run_id, "sources": self.sources}

    def join(self) -> None:
        self._server_id = server_id(self.client)
        self.run.join(self.worker_id, self.sources, self.info(), self.config.lease_ttl)
        self.state = self.run.state()
        self._thread = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def start_ticking(self) -> None:
        """Called once the reactor runs (it keeps the heartbeat honest and retries writes)."""
        from twisted.internet import task

        self._loop = task.LoopingCall(self.tick)
        self._loop.start(self.config.poll, now=True)

    def finalizing(self) -> None:
        """The crawlers are closing: keep beating while the last rows are published."""
        self._finalizing = True

    def leave(self, result: dict) -> bool:
        self._stop.set()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.aborted in ("redis_lost", "redis_unreachable"):
            return False
        try:
            self.flush()
            self.run.leave(self.worker_id, result)
            return True
        except RedisDown as exc:
            logger.error("could not tell the coordinator this worker finished (Redis: %s)", exc)
            return False

    def _beat(self) -> None:
        interval = max(0.2, min(self.config.lease_ttl / 5, 5.0))
        while not self._stop.wait(interval):
            if time.monotonic() - self._last_tick > self.config.lease_ttl and not self._finalizing:
                continue  # the reactor is stuck: let the lease expire so the requests go elsewhere
            try:
                self.client.set(self.keys.heartbeat(self.worker_id), json.dumps(self.info()),
                                px=int(self.config.lease_ttl * 1000))
            except Exception as exc:  # noqa: BLE001 - the reactor tick decides what an outage means
                logger.debug("heartbeat failed: %s", exc)

    # ------------------------------------------------------------------ on the reactor
    @property
    def popping(self) -> bool:
        """Whether crawlers may take requests from the queue now."""
        return self.aborted is None and self.state in ACTIVE and self.link.up

    @property
    def closing_reason(self) -> str | None:
        """None while crawlers must stay open; else the reason they close with."""
        if self.aborted:
            return self.aborted
        if self.state == DONE:
            return "finished"
        return None

    def _run_still_there(self) -> bool:
        return bool(self.client.exists(self.run.rk.record))

    def tick(self) -> None:
        self._last_tick = time.monotonic()
        if self.aborted:
            return
        if self.link.lost:
            self._abort("redis_lost", "Redis came back without this run (restarted without persistence, or "
                        "flushed); this worker stops and publishes what it archived")
            return
        try:
            record_state = self.run.state()
            if record_state is None:
                self._abort("redis_lost", "the run's record is gone from Redis (restarted without persistence, or "
                            "flushed); this worker stops and publishes what it archived")
                return
            sid = self.link.call(server_id, self.client)
            if self._server_id and sid != self._server_id:
                logger.warning("Redis restarted and still holds run %s: carrying on", self.run_id)
            self._server_id = sid
            self.state = record_state
            if self.state == ABORTED:
                self._abort("run_aborted", "the coordinator aborted the run")
                return
            if self.state in ACTIVE and not self.link.call(self.client.exists, self.run.rk.coordinator):
                self._abort("coordinator_gone", "the coordinator's heartbeat is gone (it died?)")
                return
            self.flush()
            for crawler in list(self.crawlers.values()):
                crawler.reconcile()
            if time.monotonic() - self._last_partials >= 5.0:
                self.push_partials()
        except RedisDown:
            if self.link.down_for() >= self.config.redis_timeout:
                self._abort("redis_unreachable", f"Redis ({self.config.display_url}) did not answer for "
                            f"{self.link.down_for():.0f}s (DISTRIBUTED_REDIS_TIMEOUT)")

    def _abort(self, reason: str, message: str) -> None:
        if self.aborted is None:
            self.aborted = reason
            logger.error("run %s: %s", self.run_id, message)

    # ------------------------------------------------------------------ shared writes
    def later(self, fn) -> None:
        """Retry ``fn()`` on the next ticks until Redis takes it (an outage, not a failure)."""
        self._pending.append(fn)

    def flush(self) -> None:
        """Write what waits: requests queued while Redis was away, then in one transaction the
        outcomes given, the report counters of every crawler that acknowledges something, and
        the leases done since the last tick. A request is never acknowledged before its outcome
        and the counts it made (a discovery page read, say) are recorded: a worker that dies
        loses neither, since its unacknowledged requests are handed back and done again (a page
        counted in the last snapshot but not acknowledged may then be counted twice)."""
        for crawler in list(self.crawlers.values()):
            crawler.flush()
        while self._pending:
            self._pending[0]()
            self._pending.pop(0)
        outcomes, self._outcomes = self._outcomes, []
        acks = [(crawler, crawler.take_acks()) for crawler in list(self.crawlers.values())]
        if not outcomes and not any(fields for _, fields in acks):
            return
        pipe = self.client.pipeline(transaction=True)
        for source, article_id, reason in outcomes:
            bucket, field = self.run.bucket(source, article_id)
            self.scripts.outcome(keys=[bucket], args=[field, reason, self.run.ttl_ms], client=pipe)
        for crawler, fields in acks:
            if fields:
                self.run.put_partial(crawler.spider.name, self.worker_id, crawler.partial(), pipe=pipe)
                pipe.hdel(crawler.queue.lease_key, *fields)
        try:
            self.link.call(pipe.execute)
        except RedisDown:
            self._outcomes[:0] = outcomes
            for crawler, fields in acks:
                crawler.give_back_acks(fields)
            raise

    def first_find(self, source: str, article_id: str) -> bool:
        try:
            return self.run.first_find(source, article_id, self.worker_id)
        except RedisDown:
            self.later(lambda: self.run.first_find(source, article_id, self.worker_id))
            return True

    def outcome(self, source: str, article_id: str, reason: str) -> None:
        self._outcomes.append((source, article_id, reason))

    def push_partials(self, only: str | None = None) -> None:
        self.flush()
        self._last_partials = time.monotonic()
        for source, crawler in list(self.crawlers.items()):
            if only is None or source == only:
                self.run.put_partial(source, self.worker_id, crawler.partial())
