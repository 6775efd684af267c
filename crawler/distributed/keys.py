"""Every Redis key distributed mode uses, in one place (docs/DISTRIBUTED.md, "What is in Redis").

Global (``<p>`` = ``DISTRIBUTED_PREFIX``): ``<p>:current`` (the run being crawled) and
``<p>:hb:<worker>`` (a worker's heartbeat, expires after ``DISTRIBUTED_LEASE_TTL``).
Everything else belongs to one run, ``<p>:run:<run_id>...``, and expires with it.
"""

from __future__ import annotations

import hashlib


class Keys:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.current = f"{prefix}:current"
        self.hb_prefix = f"{prefix}:hb:"

    def heartbeat(self, worker: str) -> str:
        return self.hb_prefix + worker

    def run(self, run_id: str) -> "RunKeys":
        return RunKeys(self.prefix, run_id)


class RunKeys:
    """The keys of one run."""

    def __init__(self, prefix: str, run_id: str):
        self.run_id = run_id
        base = f"{prefix}:run:{run_id}"
        self.base = base
        self.record = base                      # HASH: state, sources, args, archive, ...
        self.coordinator = f"{base}:coord"      # coordinator heartbeat (expires)
        self.workers = f"{base}:workers"        # SET of worker ids that joined
        self.served = f"{base}:served"          # HASH worker -> sources it crawls (comma separated)
        self.idle = f"{base}:idle"              # SET "worker|source": that crawler found nothing to do, twice
        self.finished = f"{base}:finished"      # HASH worker -> JSON: its archive run committed (or not)
        self.dead = f"{base}:dead"              # HASH worker -> requests handed back when it was found dead
        self.claims_url = f"{base}:cu"          # HASH article_id -> worker that claimed it
        self.claims_hash = f"{base}:ch"         # HASH content_hash -> "article_id|worker"
        self.near = f"{base}:nd"                # near-duplicate index (crawler/distributed/neardup.py)
        self.pattern = f"{base}*"

    def queue(self, source: str) -> str:
        return f"{self.base}:q:{source}"         # ZSET, scrapy-redis's PriorityQueue layout

    def lease(self, worker: str) -> str:
        return f"{self.base}:lease:{worker}"     # HASH "source|n|score" -> encoded request

    def filter(self, source: str) -> str:
        return f"{self.base}:df:{source}"        # + ":<bucket>": HASH fingerprint[:16] -> ""

    def found(self, source: str) -> str:
        return f"{self.base}:found:{source}"     # + ":<bucket>": HASH url id (8 bytes) -> outcome, or "@<finder>"

    def partials(self, source: str) -> str:
        return f"{self.base}:partial:{source}"   # HASH worker (or "coordinator") -> JSON counters


def bucket_of(key: bytes, buckets: int) -> int:
    """The bucket of a fingerprint or id (its first 4 bytes, already uniform)."""
    return int.from_bytes(key[:4], "big") % buckets


def url_key(article_id: str) -> bytes:
    """8 bytes for a URL's id: the 16 hex digits of ``Source.article_id``, else a hash of it."""
    try:
        return bytes.fromhex(article_id) if len(article_id) == 16 else hashlib.blake2b(
            article_id.encode(), digest_size=8).digest()
    except ValueError:
        return hashlib.blake2b(article_id.encode(), digest_size=8).digest()
