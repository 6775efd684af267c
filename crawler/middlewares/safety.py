"""Refuse requests the crawl must never make, redirects included.

Every request (start requests, links, redirect targets, robots.txt) passes here
before robots.txt is consulted or anything is sent:

- a scheme other than http/https is refused (``bad_scheme``);
- a host outside the source's domains is refused (``offsite``, or
  ``offsite_redirect`` when a redirect led there). Scrapy's own offsite
  middleware lets ``dont_filter`` requests and their redirects through; this
  one does not;
- a host that is, or resolves to, an address that is not public (private,
  loopback, link-local, CGNAT, multicast, reserved) is refused
  (``private_address``), unless the source says ``allow_private=True``, which
  allows it for the source's own hosts only (the demo sites on 127.0.0.1): a
  redirect from them to another private address is still refused.

Refusals raise :class:`crawler.failures.RefusedRequest`, count
``safety/refused/<reason>`` and reach the spider's errback, so the run report
lists them as drop reasons. Host names are resolved in a thread and cached for
``SAFETY_DNS_CACHE_S`` seconds; a name that does not resolve is let through (the
download then fails as ``dns_error``). Scrapy resolves the name again when it
connects, so a DNS answer that changes between the two (rebinding) is not caught
here; see docs/OPERATIONS.md.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time

from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.httpobj import urlparse_cached

from crawler.failures import RefusedRequest
from storage.urls import on_domains

logger = logging.getLogger(__name__)


def _ip(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(address) -> bool:
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return bool(ip.is_global) and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


class SafetyMiddleware:
    def __init__(self, crawler, dns_cache_s: float = 300.0):
        self.crawler = crawler
        self.dns_cache_s = dns_cache_s
        self._dns: dict[str, tuple[float, list[str]]] = {}
        self._logged: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("SAFETY_DNS_CACHE_S", 300.0))

    def _domains_and_private(self) -> tuple[tuple[str, ...], bool]:
        spider = self.crawler.spider
        source = getattr(spider, "source", None)
        if source is not None:
            return tuple(source.domains), bool(source.allow_private)
        return tuple(getattr(spider, "allowed_domains", None) or ()), False

    async def process_request(self, request, spider=None):
        parsed = urlparse_cached(request)
        host = (parsed.hostname or "").lower()
        if parsed.scheme not in ("http", "https") or not host:
            self._refuse(request, "bad_scheme", host)
        domains, allow_private = self._domains_and_private()
        literal = _ip(host)
        if domains and not on_domains(request.url, domains):
            if literal is not None and not is_public(literal):
                self._refuse(request, "private_address", host)
            self._refuse(request, "offsite_redirect" if request.meta.get("redirect_urls") else "offsite", host)
        if allow_private:
            return None
        if literal is not None:
            addresses = [str(literal)]
        else:
            addresses = await self._addresses(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            self._refuse(request, "private_address", f"{host} ({', '.join(bad)})")
        return None

    async def _addresses(self, host: str, port: int) -> list[str]:
        cached = self._dns.get(host)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            addresses = await run_in_thread(_resolve, host, port)
        except OSError:
            addresses = []  # let the download fail and report dns_error
        self._dns[host] = (now + self.dns_cache_s, addresses)
        return addresses

    def _refuse(self, request, reason: str, what: str):
        self.crawler.stats.inc_value(f"safety/refused/{reason}")
        if (reason, what) not in self._logged:
            self._logged.add((reason, what))
            origin = request.meta.get("redirect_urls", [None])[0]
            logger.warning("refused %s: %s%s", reason, request.url, f" (redirected from {origin})" if origin else "")
        raise RefusedRequest(reason, f"refused ({reason}): {request.url}")
