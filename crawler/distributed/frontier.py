"""scrapy-redis's queue and duplicate filter, adapted (subclassed, not forked).

:class:`LeasedQueue` keeps scrapy-redis's ``PriorityQueue`` layout (one ZSET per source,
score ``-priority``) and its push, but its pop is *reliable*: scrapy-redis pops with
``ZRANGE``+``ZREMRANGEBYRANK``, so a request a worker took is gone from Redis when the worker
dies. Here one Lua script moves it into the worker's lease hash; the worker deletes the lease
(``ack``) once Scrapy is completely done with the request (downloaded, called back, its items
through every pipeline, the requests it produced queued); the leases of a worker whose
heartbeat expired go back to the queue (``QUIESCE`` in :mod:`.redisio`).

Among requests of equal priority the newest is popped first (``_encode_request``).
It also stores requests as JSON (:mod:`.serialize`) and turns the retry middleware's
``retry_not_before`` (``time.monotonic()`` of the process that queued it, meaningless on
another machine) into wall-clock time and back.

:class:`BucketedFilter` is scrapy-redis's ``RFPDupeFilter`` with three changes:

- fingerprints come from the crawler's request fingerprinter (Scrapy's ``REQUEST_FINGERPRINTER_*``
  settings), not scrapy-redis's own SHA1 of a JSON dump;
- its keys belong to one run and expire (``DISTRIBUTED_RUN_TTL`` after the run,
  ``DISTRIBUTED_RUN_MAX_AGE`` at the latest): what earlier runs fetched is skipped before any
  request by the archive's dedupe state and seen-URL files, so the filter never needs to
  outlive a run, and it does not grow with the deployment's age;
- 16 bytes of each fingerprint are one field of one of ``DISTRIBUTED_FILTER_BUCKETS`` small
  hashes, which Redis keeps as listpacks (~21 bytes per URL instead of ~88 for scrapy-redis's
  set of 40-character hex strings; measured with ``MEMORY USAGE``, see docs/DISTRIBUTED.md).
"""

from __future__ import annotations

import itertools
import time

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from crawler.distributed import serialize
from crawler.distributed.keys import bucket_of
from storage import clock

RETRY_META = "retry_not_before"
WALL_META = "_retry_not_before_wall"


class LeasedQueue(PriorityQueue):
    def __init__(self, server, spider, key, serializer=None, *, link, scripts, run_keys, worker: str = ""):
        super().__init__(server, spider, key, serializer or serialize)
        self.link = link
        self.scripts = scripts
        self.source = spider.name
        self.queue_prefix = run_keys.queue("")
        self.lease_key = run_keys.lease(worker)
        self.idle_key = run_keys.idle
        self.idle_member = f"{worker}|{self.source}"
        self.workers_key = run_keys.workers
        self.worker = worker
        self._seq = itertools.count(1)

    # ------------------------------------------------------------------ encoding
    def _encode_request(self, request):
        """8 bytes of order, then the JSON. The ZSET's score is ``-priority`` (scrapy-redis's), and
        Redis orders equal scores by member bytes: the prefix (2^64-1 minus the push time in ns)
        puts the newest first, as Scrapy's own scheduler does (LIFO memory queues). The listing
        walk relies on that order: it goes deep before it fetches a page's articles, so a run cut
        short leaves the newest articles, and the next run's first listing page still shows new
        ones and walks on. (It also keeps two equal requests from collapsing into one member.)"""
        obj = request.to_dict(spider=self.spider)
        meta = dict(obj.get("meta") or {})
        if RETRY_META in meta:  # this process's monotonic clock -> wall clock
            meta[WALL_META] = clock.time() + (float(meta.pop(RETRY_META)) - time.monotonic())
        obj["meta"] = meta
        self._last_ns = max(time.time_ns(), getattr(self, "_last_ns", 0) + 1)
        return ((1 << 64) - 1 - self._last_ns).to_bytes(8, "big") + self.serializer.dumps(obj)

    def _decode_request(self, encoded_request):
        request = super()._decode_request(encoded_request[8:])
        wall = request.meta.pop(WALL_META, None)
        if wall is not None:
            request.meta[RETRY_META] = time.monotonic() + (float(wall) - clock.time())
        return request

    # ------------------------------------------------------------------ queue
    def __len__(self):
        return self.link.call(super().__len__)

    def push(self, request):
        self.link.call(super().push, request)

    def push_unless_seen(self, request, dupefilter) -> bool:
        """Filter and queue in one round trip; False when the run's filter had seen the request."""
        bucket, field = dupefilter.slot(request) if not request.dont_filter else (self.key, b"")
        data = self._encode_request(request)
        queued = self.link.call(self.scripts.push, keys=[bucket, self.key],
                                args=[field, dupefilter.ttl_ms, -request.priority, data])
        return int(queued) == 1

    def pop(self, timeout=0):
        raise NotImplementedError("a leased queue is popped with pop_leased() and acknowledged with ack()")

    def pop_leased(self):
        """``(request, lease field)`` of the best queued request, now leased to this worker; or None."""
        got = self.link.call(self.scripts.pop_lease, keys=[self.key, self.lease_key, self.idle_key, self.workers_key],
                             args=[f"{self.source}|{next(self._seq)}", self.idle_member, self.worker])
        if not got:
            return None
        data, field = got
        return self._decode_request(data), field.decode() if isinstance(field, bytes) else field

    def ack(self, fields: list[str]) -> None:
        if fields:
            self.link.call(self.server.hdel, self.lease_key, *fields)

    def requeue(self, fields: list[str]) -> int:
        """Hand these leases back to the queue (a crawler closing before the run ends)."""
        if not fields:
            return 0
        return int(self.link.call(self.scripts.requeue, keys=[self.lease_key], args=[self.queue_prefix, *fields]))


class BucketedFilter(RFPDupeFilter):
    def __init__(self, server, key, *, fingerprinter, link, scripts, buckets: int, ttl_ms: int, debug=False):
        super().__init__(server, key, debug=debug)
        self.fingerprinter = fingerprinter
        self.link = link
        self.scripts = scripts
        self.buckets = buckets
        self.ttl_ms = int(ttl_ms)

    def request_fingerprint(self, request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def slot(self, request) -> tuple[str, bytes]:
        """``(bucket key, field)`` of a request's fingerprint."""
        fp = self.fingerprinter.fingerprint(request)[:16]
        return f"{self.key}:{bucket_of(fp, self.buckets)}", fp

    def request_seen(self, request) -> bool:
        bucket, fp = self.slot(request)
        return int(self.link.call(self.scripts.add, keys=[bucket], args=[fp, self.ttl_ms, b""])) == 0

    def close(self, reason=""):
        """Shared by every worker of the run: one worker closing never clears it (it expires)."""

    def clear(self):
        """Never cleared by a worker: the keys expire with the run."""
