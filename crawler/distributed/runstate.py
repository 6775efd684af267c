"""One run's shared state in Redis, as the coordinator and the workers read and change it.

The run record (a HASH) says what to crawl and how far the run is: ``state`` goes
``seeding`` -> ``running`` -> ``done`` (the queue is drained: workers close their crawlers and
publish) or ``aborted`` (the coordinator was stopped, or gave up on Redis). Besides the queue,
leases and request filter (:mod:`.frontier`), a run keeps

- per source, every article URL found (by its 8-byte id) and its one outcome: the first worker
  to find a URL counts it (until the outcome, the URL's value names that finder, so a finder
  that dies is taken over), whichever worker fetches it gives its outcome, so the report's
  ``found = archived + duplicates + dropped`` holds for the whole run, dead workers included;
- per source and worker, the counters of the report (a JSON snapshot every few seconds);
- the claims of article ids and content hashes (:mod:`.claims`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from crawler.distributed.keys import Keys, bucket_of, url_key

logger = logging.getLogger(__name__)

SEEDING, RUNNING, DONE, ABORTED = "seeding", "running", "done", "aborted"
ACTIVE = (SEEDING, RUNNING)


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RunState:
    def __init__(self, link, scripts, keys: Keys, run_id: str, config):
        self.link = link
        self.client = link.client
        self.scripts = scripts
        self.keys = keys
        self.rk = keys.run(run_id)
        self.run_id = run_id
        self.config = config
        self.ttl_ms = int(config.run_max_age * 1000)

    # ------------------------------------------------------------------ the record
    def create(self, fields: dict) -> None:
        pipe = self.client.pipeline()
        pipe.hset(self.rk.record, mapping={k: (v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()})
        pipe.pexpire(self.rk.record, self.ttl_ms)
        pipe.set(self.keys.current, self.run_id)
        self.link.call(pipe.execute)

    def record(self) -> dict[str, str] | None:
        raw = self.link.call(self.client.hgetall, self.rk.record)
        return {_s(k): _s(v) for k, v in raw.items()} if raw else None

    def state(self) -> str | None:
        value = self.link.call(self.client.hget, self.rk.record, "state")
        return _s(value) if value is not None else None

    def set(self, **fields) -> None:
        self.link.call(self.client.hset, self.rk.record, mapping={k: str(v) for k, v in fields.items()})

    # ------------------------------------------------------------------ found URLs and outcomes
    def bucket(self, source: str, article_id: str) -> tuple[str, bytes]:
        key = url_key(article_id)
        return f"{self.rk.found(source)}:{bucket_of(key, self.config.buckets)}", key

    def first_find(self, source: str, article_id: str, worker: str = "") -> bool:
        """Record that ``worker`` found ``article_id`` of ``source``: True when it is the run's first
        finder, or takes over from a finder that died before the article had an outcome (``FIND``
        in :mod:`.redisio`). ``worker=""`` (the coordinator) is never taken over."""
        bucket, field = self.bucket(source, article_id)
        return int(self.link.call(self.scripts.find, keys=[bucket],
                                  args=[field, self.ttl_ms, worker, self.keys.hb_prefix])) == 1

    def outcome(self, source: str, article_id: str, reason: str) -> None:
        bucket, field = self.bucket(source, article_id)
        self.link.call(self.scripts.outcome, keys=[bucket], args=[field, reason, self.ttl_ms])

    def found_table(self, source: str) -> tuple[int, Counter]:
        """``(URLs found, Counter of their outcomes)`` over the whole run."""
        pipe = self.client.pipeline(transaction=False)
        for b in range(self.config.buckets):
            pipe.hvals(f"{self.rk.found(source)}:{b}")
        found, outcomes = 0, Counter()
        for values in self.link.call(pipe.execute):
            found += len(values)
            outcomes.update(_s(v) for v in values if v and not v.startswith(b"@"))
        return found, outcomes

    # ------------------------------------------------------------------ report counters
    def put_partial(self, source: str, who: str, data: dict, pipe=None) -> None:
        """Store one worker's report counters for a source (into ``pipe`` when given, else now)."""
        own = pipe is None
        if own:
            pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.rk.partials(source), who, json.dumps(data, default=str))
        pipe.pexpire(self.rk.partials(source), self.ttl_ms)
        if own:
            self.link.call(pipe.execute)

    def partials(self, source: str) -> dict[str, dict]:
        raw = self.link.call(self.client.hgetall, self.rk.partials(source))
        return {_s(k): json.loads(v) for k, v in raw.items()}

    # ------------------------------------------------------------------ claims
    def claim(self, article_id: str, content_hash: str, worker: str) -> tuple[str, str | None]:
        status, kept = self.link.call(self.scripts.claim, keys=[self.rk.claims_url, self.rk.claims_hash],
                                      args=[article_id, content_hash, worker, self.keys.hb_prefix, self.ttl_ms])
        status, kept = _s(status), _s(kept)
        return status, (kept or None)

    # ------------------------------------------------------------------ workers
    def join(self, worker: str, sources: list[str], info: dict, lease_ttl: float) -> None:
        pipe = self.client.pipeline()
        pipe.set(self.keys.heartbeat(worker), json.dumps(info), px=int(lease_ttl * 1000))
        pipe.sadd(self.rk.workers, worker)
        pipe.hset(self.rk.served, worker, ",".join(sources))
        for key in (self.rk.workers, self.rk.served):
            pipe.pexpire(key, self.ttl_ms)
        self.link.call(pipe.execute)

    def mark_idle(self, worker: str, source: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(self.rk.idle, f"{worker}|{source}")
        pipe.pexpire(self.rk.idle, self.ttl_ms)
        self.link.call(pipe.execute)

    def leave(self, worker: str, result: dict) -> None:
        """A worker is done with the run: its result is recorded, and nobody waits for it any more."""
        pipe = self.client.pipeline()
        pipe.hset(self.rk.finished, worker, json.dumps(result, default=str))
        pipe.pexpire(self.rk.finished, self.ttl_ms)
        pipe.srem(self.rk.workers, worker)
        pipe.delete(self.keys.heartbeat(worker))
        self.link.call(pipe.execute)

    def quiesce(self, sources: list[str]) -> dict:
        """Hand back the requests of dead workers, then say whether the run is drained."""
        queued, live, leased, busy, reaped, dead = self.link.call(
            self.scripts.quiesce, keys=[self.rk.workers, self.rk.served, self.rk.idle, self.rk.dead],
            args=[self.keys.hb_prefix, self.rk.base, *sources])
        return {"queued": int(queued), "live": int(live), "leased": int(leased), "busy": int(busy),
                "reaped": int(reaped), "dead": [_s(w) for w in dead],
                "drained": int(queued) == 0 and int(leased) == 0 and int(busy) == 0}

    def workers(self) -> list[str]:
        return sorted(_s(w) for w in self.link.call(self.client.smembers, self.rk.workers))

    def finished(self) -> dict[str, dict]:
        raw = self.link.call(self.client.hgetall, self.rk.finished)
        return {_s(k): json.loads(v) for k, v in raw.items()}

    def dead(self) -> dict[str, int]:
        raw = self.link.call(self.client.hgetall, self.rk.dead)
        return {_s(k): int(v) for k, v in raw.items()}

    # ------------------------------------------------------------------ the end
    def expire(self, seconds: float) -> int:
        """Give every key of the run a time to live of ``seconds``; returns how many keys."""
        n = 0
        pipe = self.client.pipeline(transaction=False)
        for key in self.client.scan_iter(match=self.rk.pattern, count=1000):
            pipe.pexpire(key, int(seconds * 1000))
            n += 1
            if n % 1000 == 0:
                pipe.execute()
        pipe.execute()
        return n
