"""The settings of distributed mode, read once and checked at start-up (docs/DISTRIBUTED.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from crawler.distributed import enabled

EXIT_REDIS = 5  # the shared queue (Redis) failed: unreachable too long, or it lost the run's state


class ConfigError(ValueError):
    """A distributed-mode setting is missing or malformed; the message names it."""


def masked(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Config:
    redis_url: str
    prefix: str = "newsarchive"
    lease_ttl: float = 30.0  # a worker whose heartbeat is this old is dead: its requests go back to the queue
    poll: float = 1.0  # how often idle workers look for requests and the coordinator checks the run
    prefetch: int = 4  # requests one source's crawler in one worker holds at once
    run_ttl: float = 86400.0  # per-run keys are kept this long after the run (report, debugging)
    run_max_age: float = 7 * 86400.0  # ... and expire after this long even if nobody ends the run
    buckets: int = 16384  # hashes per source and run that hold request fingerprints / found URLs
    redis_timeout: float = 120.0  # how long an unreachable Redis is waited for before the run fails
    worker_wait: float = 600.0  # the coordinator fails when no worker is alive for this long
    finish_wait: float = 600.0  # how long the coordinator waits for workers to publish at the end

    @property
    def display_url(self) -> str:
        return masked(self.redis_url)

    @classmethod
    def from_settings(cls, settings) -> "Config":
        """Raises :class:`ConfigError` naming the setting at fault."""
        if not enabled(settings):
            raise ConfigError("DISTRIBUTED is off: set DISTRIBUTED=1 (and REDIS_URL) for distributed mode")
        url = (settings.get("REDIS_URL") or "").strip()
        if not url:
            raise ConfigError("DISTRIBUTED=1 needs REDIS_URL (e.g. redis://10.0.0.5:6379/0)")
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"REDIS_URL={masked(url)!r}: expected redis://, rediss:// or unix://")
        prefix = str(settings.get("DISTRIBUTED_PREFIX") or cls.prefix)
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prefix):
            raise ConfigError(f"DISTRIBUTED_PREFIX={prefix!r}: letters, digits, '_', '.', '-' only")

        def number(name: str, default: float, low: float, kind=float):
            raw = settings.get(name)
            try:
                value = kind(raw) if raw not in (None, "") else default
            except (TypeError, ValueError):
                raise ConfigError(f"{name}={raw!r}: expected a number") from None
            if value < low:
                raise ConfigError(f"{name}={raw!r}: must be at least {low}")
            return value

        return cls(
            redis_url=url,
            prefix=prefix,
            lease_ttl=number("DISTRIBUTED_LEASE_TTL", cls.lease_ttl, 2.0),
            poll=number("DISTRIBUTED_POLL_INTERVAL", cls.poll, 0.1),
            prefetch=number("DISTRIBUTED_PREFETCH", cls.prefetch, 1, int),
            run_ttl=number("DISTRIBUTED_RUN_TTL", cls.run_ttl, 60.0),
            run_max_age=number("DISTRIBUTED_RUN_MAX_AGE", cls.run_max_age, 3600.0),
            buckets=number("DISTRIBUTED_FILTER_BUCKETS", cls.buckets, 1, int),
            redis_timeout=number("DISTRIBUTED_REDIS_TIMEOUT", cls.redis_timeout, 1.0),
            worker_wait=number("DISTRIBUTED_WORKER_WAIT", cls.worker_wait, 1.0),
            finish_wait=number("DISTRIBUTED_FINISH_WAIT", cls.finish_wait, 1.0),
        )
