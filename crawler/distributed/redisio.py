"""The Redis connection, the Lua scripts that make each shared step atomic, and the circuit
breaker that keeps a Redis outage from freezing a worker's reactor.

Every script touches keys of one run only; several build key names from their arguments,
so distributed mode needs one Redis server (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import logging
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisDown(Exception):
    """Redis does not answer (now, or it did not a moment ago and is not asked again yet)."""


def connect(config) -> redis.Redis:
    """A client with short timeouts (at most 5 s, a third of the lease): a worker's reactor thread
    never waits on Redis long enough to lose its lease. No automatic retry: a script whose answer
    was lost may have run (a claim retried would find its own claim and call the article a
    duplicate of itself); :class:`Link` fails the call, and each caller knows what a lost answer
    means (a lost lease is handed back by ``DistributedScheduler.reconcile``)."""
    timeout = max(0.5, min(5.0, config.lease_ttl / 3))
    return redis.Redis.from_url(config.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 0), health_check_interval=30)


def server_id(client) -> str:
    """The Redis server's ``run_id``: it changes whenever the server restarts."""
    return str(client.info("server").get("run_id", ""))


class Link:
    """Calls into Redis through a circuit breaker: after a failure, calls fail at once
    (:class:`RedisDown`) until ``retry_after`` seconds have passed, then one is tried again."""

    def __init__(self, client, retry_after: float = 1.0, verify=None):
        self.client = client
        self.retry_after = retry_after
        self.verify = verify  # called once Redis answers again: False = it lost our data, stay away
        self.lost = False
        self.down_since: float | None = None
        self.last_error = ""
        self._next = 0.0

    @property
    def up(self) -> bool:
        return self.down_since is None

    def down_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def call(self, fn, *args, **kwargs):
        if self.lost:
            raise RedisDown(self.last_error)
        if self.down_since is not None and time.monotonic() < self._next:
            raise RedisDown(self.last_error)
        try:
            if self.down_since is not None and self.verify is not None and not self.verify():
                # back, but without what we wrote (restarted empty): write nothing more to it
                self.lost = True
                self.last_error = "Redis answers again but lost this run's data"
                raise RedisDown(self.last_error)
            result = fn(*args, **kwargs)
        except REDIS_ERRORS as exc:
            now = time.monotonic()
            if self.down_since is None:
                self.down_since = now
                logger.warning("Redis does not answer (%s: %s); retrying every %.0fs", type(exc).__name__, exc,
                               self.retry_after)
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._next = now + self.retry_after
            raise RedisDown(self.last_error) from exc
        if self.down_since is not None:
            logger.warning("Redis answers again after %.1fs", time.monotonic() - self.down_since)
            self.down_since = None
        return result


# ---------------------------------------------------------------------- scripts
# Pop the best request of a queue into this worker's lease hash (field "source|n|score"), take
# this crawler off the idle set, and (re)register the worker: one step, so a request is always
# either queued or leased by a worker the coordinator watches - also a worker that was taken
# for dead (its heartbeat lapsed) and comes back.
# KEYS: queue, lease, idle, workers. ARGV: lease field prefix, idle member, worker.
POP_LEASE = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #got == 0 then return false end
redis.call('ZREM', KEYS[1], got[1])
local field = ARGV[1] .. '|' .. got[2]
redis.call('HSET', KEYS[2], field, got[1])
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
return {got[1], field}
"""

# Hand leased requests back to their queues: the given fields, or all of the lease hash.
REQUEUE = """
local fields = {}
if #ARGV > 1 then
  for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
else
  fields = redis.call('HKEYS', KEYS[1])
end
local n = 0
for _, f in ipairs(fields) do
  local data = redis.call('HGET', KEYS[1], f)
  if data then
    local src, score = string.match(f, '^(.*)|[^|]*|([^|]*)$')
    redis.call('ZADD', ARGV[1] .. src, score, data)
    redis.call('HDEL', KEYS[1], f)
    n = n + 1
  end
end
return n
"""

# Is the run drained? Requeues the leases of workers whose heartbeat expired (they died) first.
# KEYS: workers, served, idle, dead. ARGV: heartbeat prefix, run key base, sources...
# Returns {queued, live workers, leased, busy crawlers, requests handed back, {dead workers}}.
QUIESCE = """
local queued = 0
for i = 3, #ARGV do queued = queued + redis.call('ZCARD', ARGV[2] .. ':q:' .. ARGV[i]) end
local live, leased, busy, reaped = 0, 0, 0, 0
local dead = {}
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lease = ARGV[2] .. ':lease:' .. w
  if redis.call('EXISTS', ARGV[1] .. w) == 1 then
    live = live + 1
    leased = leased + redis.call('HLEN', lease)
    local served = redis.call('HGET', KEYS[2], w)
    if served then
      for src in string.gmatch(served, '[^,]+') do
        if redis.call('SISMEMBER', KEYS[3], w .. '|' .. src) == 0 then busy = busy + 1 end
      end
    end
  else
    local n = 0
    local all = redis.call('HGETALL', lease)
    for j = 1, #all, 2 do
      local src, score = string.match(all[j], '^(.*)|[^|]*|([^|]*)$')
      redis.call('ZADD', ARGV[2] .. ':q:' .. src, score, all[j + 1])
      n = n + 1
    end
    redis.call('DEL', lease)
    redis.call('SREM', KEYS[1], w)
    redis.call('HINCRBY', KEYS[4], w, n)
    reaped = reaped + n
    queued = queued + n
    dead[#dead + 1] = w
  end
end
return {queued, live, leased, busy, reaped, dead}
"""

# Add a field if absent (the request filter); a new bucket gets the run's maximum age.
# KEYS: bucket. ARGV: field, ttl ms, value. Returns 1 when added, 0 when it was there.
ADD = """
local n = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3])
if n == 1 and redis.call('HLEN', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
"""

# Record a found article URL for this worker, unless it is found already. Until its outcome is
# given the value is "@<worker>": the finder, whose callback has yet to queue the request. The
# claim of a finder whose heartbeat expired is taken over (its callback may have died between
# this claim and queueing the request; the page that found the URL was handed back and is read
# again, and without the take-over nobody would ask for the article). The coordinator claims
# with an empty worker: it queues its requests at once and is never taken over.
# KEYS: bucket. ARGV: field, ttl ms, worker, heartbeat prefix. Returns 1 for this worker's find.
FIND = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  if string.sub(v, 1, 1) ~= '@' then return 0 end
  local owner = string.sub(v, 2)
  if owner == '' or owner == ARGV[3] or redis.call('EXISTS', ARGV[4] .. owner) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], '@' .. ARGV[3])
if not v and redis.call('HLEN', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""

# Queue a request unless the run's filter saw it (no field: not filtered); one round trip.
# KEYS: filter bucket, queue. ARGV: field or '', ttl ms, score, request. Returns 1 if queued.
PUSH = """
if ARGV[1] ~= '' then
  if redis.call('HSETNX', KEYS[1], ARGV[1], '') == 0 then return 0 end
  if redis.call('HLEN', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
"""

# The one outcome of a found URL: the first one given wins ("@<finder>" is no outcome yet).
# KEYS: bucket. ARGV: field, outcome, ttl ms.
OUTCOME = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and v ~= '' and string.sub(v, 1, 1) ~= '@' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if not v and redis.call('HLEN', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"""

# Claim an article id and a content hash for this worker, atomically across workers.
# A claim of a worker whose heartbeat expired is taken over (its request was handed back).
# KEYS: url claims, hash claims. ARGV: article id, content hash, worker, heartbeat prefix, ttl ms.
CLAIM = """
local function alive(w) return w == ARGV[3] or redis.call('EXISTS', ARGV[4] .. w) == 1 end
local u = redis.call('HGET', KEYS[1], ARGV[1])
if u and alive(u) then return {'url', ARGV[1]} end
local h = redis.call('HGET', KEYS[2], ARGV[2])
if h then
  local kept, owner = string.match(h, '^(.*)|([^|]*)$')
  if kept ~= ARGV[1] and alive(owner) then return {'exact', kept} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1] .. '|' .. ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return {'new', ''}
"""


class Scripts:
    """The scripts registered on one client (redis-py loads them again after a server restart)."""

    def __init__(self, client):
        self.pop_lease = client.register_script(POP_LEASE)
        self.requeue = client.register_script(REQUEUE)
        self.quiesce = client.register_script(QUIESCE)
        self.add = client.register_script(ADD)
        self.find = client.register_script(FIND)
        self.push = client.register_script(PUSH)
        self.outcome = client.register_script(OUTCOME)
        self.claim = client.register_script(CLAIM)
