"""Retries with backoff that honour ``Retry-After`` (replaces Scrapy's RetryMiddleware).

Scrapy's RetryMiddleware re-queues a failed request at once. Here a retried
request waits first:

- a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) pauses *the whole
  host* for that long, since the server asked us, not one URL, to slow down;
  a ``Retry-After`` longer than ``RETRY_AFTER_MAX`` is not waited for: the
  request gives up at once (counted ``retry/retry_after_too_long``), so a cron
  run does not hang for hours;
- other retryable statuses and network errors wait ``RETRY_BACKOFF_BASE *
  2**(attempt-1)`` seconds (capped at ``RETRY_BACKOFF_MAX``, with jitter).

The wait happens in ``process_request`` (non-blocking sleep) before the request
reaches the downloader, so it holds no download slot.
"""

from __future__ import annotations

import logging
import random
import time
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from storage import clock

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date); None if absent or bad."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or clock.now())).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 300.0)
        self.host_pause: dict[str, float] = {}

    async def process_request(self, request, spider=None):
        host = urlparse_cached(request).netloc
        until = max(request.meta.get("retry_not_before", 0.0), self.host_pause.get(host, 0.0))
        wait = until - time.monotonic()
        if wait > 0:
            self.crawler.stats.inc_value("retry/waited_ms", int(wait * 1000))
            await sleep(wait)
        return None

    def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        stats = self.crawler.stats
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.retry_after_max:
            stats.inc_value("retry/retry_after_too_long")
            logger.warning("%s asks to come back in %.0fs (> RETRY_AFTER_MAX=%.0fs); giving up on %s",
                           urlparse_cached(request).netloc, asked, self.retry_after_max, request.url)
            return response
        new = self._retry(request, response_status_message(response.status))
        if new is None:
            return response
        if asked is not None:
            host = urlparse_cached(request).netloc
            self.host_pause[host] = max(self.host_pause.get(host, 0.0), time.monotonic() + asked)
            stats.inc_value("retry/retry_after_honoured")
            logger.info("%s answered %d with Retry-After %.0fs: pausing the host", host, response.status, asked)
            delay = asked
        else:
            delay = self._backoff(new.meta.get("retry_times", 1))
        new.meta["retry_not_before"] = time.monotonic() + delay
        return new

    def process_exception(self, request, exception, spider=None):
        new = super().process_exception(request, exception)
        if new is not None:
            new.meta["retry_not_before"] = time.monotonic() + self._backoff(new.meta.get("retry_times", 1))
        return new

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2 ** max(0, attempt - 1)))
        return delay * random.uniform(0.75, 1.25)
