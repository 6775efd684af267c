"""robots.txt, with a stated policy for when it cannot be read (RFC 9309, section 2.3.1).

- 2xx: obeyed (Scrapy's Protego parser; our User-Agent token is ``newsarchive``).
- 4xx (404, 403, 410...): "unavailable": no restriction, as the RFC says.
- 5xx after the retries, or no answer at all (timeout, refused, reset):
  "unreachable": the RFC says to assume complete disallow, so nothing on that
  host is requested this run. Each refused request fails as
  ``robots_unreachable`` (not remembered: the next run asks again), the stat
  ``robotstxt/unreachable`` is set and the source's run status is ``failed``,
  so cron reports it.

Scrapy's own middleware treats every failure as "allow all" and logs a
traceback; this subclass changes only that.
"""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.failures import RobotsUnreachable

logger = logging.getLogger(__name__)


class DisallowAll:
    """The parser used for a host whose robots.txt is unreachable."""

    def __init__(self, netloc: str, why: str):
        self.netloc = netloc
        self.why = why

    def allowed(self, url, user_agent) -> bool:
        return False


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp, request):
        if isinstance(rp, DisallowAll):
            self._stats.inc_value("robotstxt/refused_unreachable")
            raise RobotsUnreachable(f"robots.txt of {rp.netloc} unreachable ({rp.why}): not crawling {request.url}")
        return super().process_request_2(rp, request)

    async def robot_parser(self, request):
        """Scrapy's, but a failed robots.txt download is one log line, not a traceback."""
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            url = urlparse_cached(request)
            robotsreq = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                                meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                resp = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(resp, netloc, request)
            except Exception as exc:  # noqa: BLE001 - every failure has a policy below
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unreachable(netloc, f"HTTP {response.status}")
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        if isinstance(exc, IgnoreRequest):  # our own safety rules refused it: the page is refused too
            return super()._robots_error(exc, netloc)
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc).__name__}")
        self._unreachable(netloc, type(exc).__name__)

    def _unreachable(self, netloc: str, why: str) -> None:
        logger.error("robots.txt of %s unreachable (%s): nothing on that host is crawled this run", netloc, why)
        self._stats.set_value("robotstxt/unreachable", 1)
        pending = self._parsers[netloc]
        self._parsers[netloc] = DisallowAll(netloc, why)
        if hasattr(pending, "callback"):
            pending.callback(self._parsers[netloc])
