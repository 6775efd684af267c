"""The site paces of ``crawler/middlewares/pacing.py``, in Redis: one pace per site for every
worker of the deployment, so that N workers fetch from a site no faster than one process.

``PACE`` and ``PAUSE`` run on ``<p>:pace:<site>`` (one timestamp, expiring a minute after the
last reservation) with Redis's own clock, so the machines need not agree on the time. While
Redis does not answer, each worker paces its requests on its own (counted in
``pacing/unshared``, never blocked).
"""

from __future__ import annotations

import logging

from crawler.distributed import agent as agent_mod
from crawler.distributed.redisio import RedisDown
from crawler.middlewares.pacing import SitePacingMiddleware

logger = logging.getLogger(__name__)

# KEYS: the site's pace. ARGV: delay ms, ms to keep the key after the reservation. Returns ms to wait.
PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + delay, 'PX', at - now + delay + tonumber(ARGV[2]))
return at - now
"""

# KEYS: the site's pace. ARGV: pause ms, ms to keep the key. Moves the next free time to now + pause
# unless it is later already.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], at, 'PX', at - now + tonumber(ARGV[2]))
return at - now
"""

KEEP_MS = 60_000


class RedisPace:
    def __init__(self, agent, stats):
        self.link = agent.link
        self.prefix = f"{agent.config.prefix}:pace:"
        self.stats = stats
        self._pace = agent.client.register_script(PACE)
        self._pause = agent.client.register_script(PAUSE)
        self._warned = False

    def _call(self, script, site: str, seconds: float) -> int | None:
        try:
            return int(self.link.call(script, keys=[self.prefix + site], args=[int(seconds * 1000), KEEP_MS]))
        except RedisDown:
            self.stats.inc_value("pacing/unshared")
            if not self._warned:
                self._warned = True
                logger.warning("Redis does not answer: each worker paces its requests on its own until it does")
            return None

    def reserve(self, site: str, delay: float) -> float | None:
        ms = self._call(self._pace, site, delay)
        return None if ms is None else ms / 1000

    def pause(self, site: str, seconds: float) -> bool:
        return self._call(self._pause, site, seconds) is not None


class SharedPacingMiddleware(SitePacingMiddleware):
    """``SitePacingMiddleware`` of a worker (``scrapy worker`` puts it in its place)."""

    @classmethod
    def make_pace(cls, crawler):
        return RedisPace(agent_mod.current(), crawler.stats)
