"""The one generic spider: a source declaration in, article pages out.

Navigation only. It reads the source's feeds, sitemaps (recursively, index ->
child sitemaps) and listing pages (following the next-page rule), keeps the
links the source's URL filter accepts, canonicalises them, skips those an
earlier run already fetched (archive dedupe state + seen-URL state, see
:mod:`storage.seen`) before any request is made, and yields one page item per
article response (see docs/ARCHITECTURE.md). Extraction and everything after it
is the item pipelines' job.

Every article URL found gets exactly one outcome (archived, a duplicate, a drop
reason, an error, skipped as known), recorded by :mod:`crawler.spiders.outcomes`.
The archive run (opened before the first request, committed when the spider has
closed) is the archive-run extension's (:mod:`crawler.extensions.archiverun`).

Spider arguments (``-a name=value``), for reruns by hand: ``since``/``until``
(YYYY-MM-DD, publication day in the source's time zone; listing pages are walked
back until a page holds only older articles), ``urls`` (comma separated) or
``urls_file`` (one URL a line): fetch exactly these, even if archived, and
archive a new version only if the text changed; ``dry_run=1``: do everything but
write; ``max_articles=N``; ``retry_failed=1``: also request URLs whose last
attempt failed a short while ago.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, deque
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip

from crawler import discovery
from crawler.failures import classify
from crawler.sources.base import Source
from crawler.spiders.arguments import parse_arguments
from crawler.spiders.outcomes import Outcomes
from storage.urls import canonical, on_domains
from pipelines.context import CrawlRun
from crawler.listing import listing_links
from storage import clock

logger = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 4


class NewsSpider(Outcomes, scrapy.Spider):
    """Generic news spider; :class:`crawler.spiderloader.SourceSpiderLoader` subclasses it per source."""

    name = "news"
    source_decl: Source | None = None  # set on the per-source subclass

    def __init__(self, *args, **kwargs):
        spider_args = {k: kwargs.pop(k) for k in list(kwargs) if k not in ("name",)}
        super().__init__(*args, **kwargs)
        parsed = parse_arguments(spider_args)
        self.since, self.until = parsed["since"], parsed["until"]
        self.explicit_urls = parsed["urls"]
        self.dry_run = parsed["dry_run"]
        self.max_articles = parsed["max_articles"]
        self.retry_failed = parsed["retry_failed"]
        self.requested_articles = 0
        self.limit_reached = False
        self.started_at = clock.now()
        # per found article URL (keyed by its article id as an int, not the URL: _key)
        self.found: dict[int, str] = {}            # -> how it was discovered
        self.outcome: dict[int, str] = {}          # -> its one outcome
        self.outcomes: Counter = Counter()
        self.completeness: Counter = Counter()     # archived, title, body, date, authors
        self.archived_days: Counter = Counter()    # local publication day -> articles this run archived
        self.discovery: Counter = Counter()        # requested, ok, failed, failed/<reason>
        self.events: Counter = Counter()           # notable things for the report's notes
        self._listing_pages: dict[int, dict] = {}
        self._pending_listing: dict[str, int] = {}
        self._tokens = itertools.count(1)
        self._carried_keys: dict[str, str] = {}   # a carried row's URL -> as found now (the run continues)
        # feed and sitemap entries not yet requested: turned into requests as earlier ones finish,
        # at most max_in_flight article requests at a time (DISCOVERY_MAX_IN_FLIGHT; see _release)
        self._frontier: deque = deque()
        self._in_flight: set[int] = set()
        self.max_in_flight: int | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # what the pipelines read (the archive-run extension adds the session, crawler/extensions/archiverun.py)
        crawler.crawl_run = spider.bind(cls.source_decl.resolve(crawler.settings.get("DEMO_BASE_URL")))
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        spider.max_in_flight = spider.in_flight_bound(crawler.settings)
        return spider

    stream_discovery = True  # False where a shared queue is the frontier (distributed workers)

    def in_flight_bound(self, settings) -> int | None:
        """How many article requests discovery keeps out at once (None: every entry at once)."""
        if not self.stream_discovery:
            return None
        value = settings.getint("DISCOVERY_MAX_IN_FLIGHT", 0)
        if value < 0:
            raise ValueError(f"DISCOVERY_MAX_IN_FLIGHT={value}: must be 0 (4 x CONCURRENT_REQUESTS) or more")
        return value or 4 * max(1, settings.getint("CONCURRENT_REQUESTS", 16))

    def _key(self, url: str) -> int:
        """The bookkeeping key of a found article URL: its archive id, as a 64-bit int."""
        return int(self.source.article_id(url), 16)

    def bind(self, source: Source) -> CrawlRun:
        """This spider's resolved source, and the :class:`CrawlRun` its crawler's components share."""
        self.source = source
        self.allowed_domains = list(source.domains)
        self.tz = ZoneInfo(source.timezone)
        self.run = CrawlRun(self.name, source, self.since, self.until, self.dry_run)
        return self.run

    @property
    def session(self):
        """The archive session of this run (opened and committed by the archive-run extension)."""
        return self.run.session

    def closed(self, reason):
        # the archive-run extension commits the run after this, with this in its manifest
        self.run.summary = summary = {"source": self.name, "reason": reason}
        stats = dict(self.crawler.stats.get_stats())

        def report_row(demotions):
            from crawler.runreport import build_row  # the report reads this spider's counters

            for method, _kept, _similarity, row in demotions:
                if row.get("source") == self.name:
                    self._demoted(row, method)
            row = build_row(self, reason, stats)
            summary["status"] = row["status"]
            return row

        # built once the run's copies are decided, when the last crawler of the run has closed
        self.session.defer_run_row(report_row)

    # ------------------------------------------------------------------ discovery

    async def start(self):
        src = self.source
        if self.explicit_urls:
            for url in self.explicit_urls:
                req, _, _ = self._article_request(url, "urls", {}, force=True)
                if req is not None:
                    yield req
            return
        for url in src.feeds:
            yield self._discovery_request(url, self.parse_feed, "feed")
        for url in src.sitemaps:
            yield self._discovery_request(url, self.parse_sitemap, "sitemap", depth=0)
        for listing in src.listings:
            yield self._discovery_request(listing.url, self.parse_listing, "listing", listing=listing, page=1)
        if not (self.since or self.until):
            # failed last time and due again: asked directly, since discovery may not show them again
            for url, via in self.session.seen.due(self.name, at_once=self.retry_failed):
                req, _, _ = self._article_request(url, via, {})
                if req is not None:
                    self._count("discovery/retried_failed")
                    yield req

    def _discovery_request(self, url: str, callback, kind: str, **meta) -> scrapy.Request:
        self.discovery["requested"] += 1
        return scrapy.Request(url, callback=callback, errback=self.discovery_failed, meta={"kind": kind, **meta})

    def discovery_failed(self, failure):
        reason, _ = classify(failure.value)
        self.discovery["failed"] += 1
        self.discovery[f"failed/{reason}"] += 1
        self._count(f"discovery/failed/{reason}")
        logger.warning("%s %s failed: %s", failure.request.meta.get("kind", "discovery"), failure.request.url, reason)

    def _xml_body(self, response) -> bytes | None:
        """The XML of a feed or sitemap; a gzip file (``sitemap.xml.gz``) is unpacked within DOWNLOAD_MAXSIZE."""
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except _DecompressionMaxSizeExceeded:
                self._event("refused_gzip_bomb")
                logger.warning("%s refused: unpacks to more than DOWNLOAD_MAXSIZE", response.url)
                return None
            except (OSError, EOFError):
                self._event("bad_gzip")
                return None
        return body

    def _xml_refused(self, response, exc) -> None:
        self._count("discovery/refused_xml")
        self._event("refused_xml")
        logger.warning("%s %s refused: %s", response.meta.get("kind"), response.url, exc)

    def _read_xml(self, response, parse):
        """``parse(body, url)`` of a feed or sitemap response, or None (unreadable or refused)."""
        self.discovery["ok"] += 1
        body = self._xml_body(response)
        if body is None:
            return None
        try:
            return parse(body, response.url)
        except discovery.UnsafeXML as exc:
            self._xml_refused(response, exc)
            return None

    def parse_feed(self, response):
        entries = self._read_xml(response, discovery.parse_feed)
        if entries is None:
            return
        self._count("discovery/feed_entries", len(entries))
        self._frontier.extend((entry, "feed") for entry in entries)
        yield from self._release()

    def parse_sitemap(self, response):
        result = self._read_xml(response, discovery.parse_sitemap)
        if result is None:
            return
        depth = response.meta.get("depth", 0)
        unchanged_before = self._sitemaps_seen_until()
        for loc, lastmod in result.sitemaps:
            if self.since and lastmod and lastmod[:10] < self.since.isoformat():
                continue  # a child sitemap last changed before the window holds nothing for it
            changed = _hint_time(lastmod)
            if unchanged_before and changed and changed < unchanged_before:
                self._count("discovery/sitemap_unchanged")  # read in full by an earlier complete crawl
                continue
            if depth >= MAX_SITEMAP_DEPTH:
                self._event("sitemap_too_deep")
                continue
            if on_domains(loc, self.source.domains) and not self.limit_reached:
                yield self._discovery_request(loc, self.parse_sitemap, "sitemap", depth=depth + 1)
        self._count("discovery/sitemap_entries", len(result.entries))
        self._frontier.extend((entry, "sitemap") for entry in result.entries)
        yield from self._release()

    def _release(self) -> list[scrapy.Request]:
        """Requests for waiting feed/sitemap entries, while fewer than ``max_in_flight`` article
        requests are out (entries that need no request, skipped or filtered, cost nothing)."""
        out = []
        frontier, bound = self._frontier, self.max_in_flight
        while frontier and (bound is None or self.limit_reached or len(self._in_flight) < bound):
            entry, via = frontier.popleft()
            req = self._entry_request(entry, via)
            if req is not None:
                out.append(req)
        return out

    def _refill(self) -> bool:
        """Schedule the next waiting entries (an article request finished); True if any."""
        requests = self._release()
        for req in requests:
            self.crawler.engine.crawl(req)
        return bool(requests)

    def _sitemaps_seen_until(self) -> datetime | None:
        """Child sitemaps last modified before this were read by an earlier complete crawl
        (a day of margin for clocks and late lastmod updates); None in reruns."""
        if self.since or self.until or self.explicit_urls:
            return None
        last = self.session.last_full_run(self.name)
        return last - timedelta(days=1) if last is not None else None

    def parse_listing(self, response):
        self.discovery["ok"] += 1
        listing = response.meta["listing"]
        page = response.meta["page"]
        # article links (already through the source's URL filter) and the next page: one function,
        # the one tested on saved real listing pages (paged listings carry their zone id in the URL)
        links, nexts = listing_links(response.text, response.url, self.source, listing)
        token = next(self._tokens)
        state = {"listing": listing, "page": page, "next": nexts[0] if nexts else None, "pending": set(),
                 "days": [], "links": 0, "fresh": 0}
        requests = []
        for url in links:
            self._count("discovery/listing_links")
            state["links"] += 1
            req, skip, day = self._article_request(url, "listing", {}, listing_token=token)
            if day is not None:
                state["days"].append(day)
            if req is not None:
                state["fresh"] += 1
                state["pending"].add(req.meta["found"])
                requests.append(req)
            elif skip == "resumed":  # new to the archive: found by the run's killed process
                state["fresh"] += 1
        if self.since and state["pending"]:
            # Backfill: whether older pages are needed is decided once this page's articles are dated.
            self._listing_pages[token] = state
            self._pending_listing.update(dict.fromkeys(state["pending"], token))
        else:
            nxt = self._after_listing_page(state)
            if nxt is not None:
                requests.append(nxt)
        yield from requests

    def _after_listing_page(self, state: dict):
        """The next listing page, unless this page shows older pages hold nothing new."""
        listing, page = state["listing"], state["page"]
        if self.since:
            dated = [d for d in state["days"] if d is not None]
            if state["links"] and dated and max(dated) < self.since:
                self._count("discovery/listing_stopped_old")
                return None
        elif not self.until and state["fresh"] == 0 and self.session.last_run_complete(self.name):
            # Incremental: after a complete crawl, a page holding only known articles means older pages
            # hold no new ones (after a cut-short run the walk goes on to the older pages).
            self._count("discovery/listing_stopped_known")
            return None
        if page >= listing.max_pages or not state["next"] or self.limit_reached:
            return None
        if not on_domains(state["next"], self.source.domains):
            self._count("discovery/offsite")
            return None
        return self._discovery_request(state["next"], self.parse_listing, "listing", listing=listing, page=page + 1)

    def _listing_article_done(self, token: int, found: str, day: date | None) -> None:
        state = self._listing_pages.get(token)
        if state is None:
            return
        state["pending"].discard(found)
        if day is not None:
            state["days"].append(day)
        if not state["pending"]:
            del self._listing_pages[token]
            req = self._after_listing_page(state)
            if req is not None:
                self.crawler.engine.crawl(req)

    def _settled(self, found: str, published: date | None) -> None:
        token = self._pending_listing.pop(found, None)
        if token is not None:  # the listing page that found it may now decide on its next page
            self._listing_article_done(token, found, published)

    def _idle(self, spider):
        """Nothing is out: requests never answered (filtered as a duplicate request after a
        redirect) are no longer waited for, by the listing pages that found them or by discovery."""
        self._in_flight.clear()
        scheduled = self._refill()
        if not self._listing_pages:
            if scheduled:
                raise DontCloseSpider
            return
        for token in list(self._listing_pages):
            state = self._listing_pages.pop(token)
            for found in state["pending"]:
                self._pending_listing.pop(found, None)
            req = self._after_listing_page(state)
            if req is not None:
                self.crawler.engine.crawl(req)
                scheduled = True
        if scheduled:
            raise DontCloseSpider

    def _entry_request(self, entry: discovery.Entry, via: str):
        if not self.source.article_url(entry.url):
            self._count("discovery/filtered_url")
            return None
        hints = {"title": entry.title, "published_raw": entry.published_raw, "modified_raw": entry.modified_raw}
        day = _hint_day(entry.published_raw, self.tz)
        modified = _hint_day(entry.modified_raw, self.tz)
        if (day is not None and not self._in_window(day)) or (self.since and modified and modified < self.since):
            # last modified before the window: published before it too
            self._count("discovery/outside_window")
            return None
        req, _, _ = self._article_request(entry.url, via, hints)
        return req

    def _in_window(self, day: date) -> bool:
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _article_request(self, url: str, via: str, hints: dict, force: bool = False, listing_token=None):
        """``(request or None, skip reason, known publication day)`` for one found article URL."""
        src = self.source
        canon = canonical(url, src.strip_params, src.host_aliases)
        if not on_domains(canon, src.domains):
            self._count("discovery/offsite")
            return None, "offsite", None
        aid = src.article_id(canon)
        key = int(aid, 16)
        if key in self.found:
            return None, "found_twice", None
        carried = None if force else self.session.carried_outcome(self.name, aid)
        if carried is not None:  # journaled by the killed process of this run
            self.found[key] = via
            self._count("discovery/resumed")
            self._resumed(canon, *carried)
            return None, "resumed", self._day(carried[1].get("published_at"))
        skip, day = (None, None) if force else self.session.skip_reason(aid)
        if skip == "failed_recently" and self.retry_failed:
            skip = None
        self.found[key] = via
        if skip is not None:
            self._count("discovery/known_skipped")
            self._finish(canon, skip)
            return None, skip, day
        if self.max_articles is not None and self.requested_articles >= self.max_articles:
            # enough: the articles already requested still finish; nothing more is discovered
            self.limit_reached = True
            self._finish(canon, "max_articles")
            return None, "max_articles", None
        self.requested_articles += 1
        self._in_flight.add(key)
        self._count("discovery/article_requests")
        return scrapy.Request(
            canon, callback=self.parse_article, errback=self.article_failed,
            meta={"kind": "article", "via": via, "hints": hints, "force": force, "found": canon,
                  "listing_token": listing_token},
            dont_filter=force,
        ), None, None

    # ------------------------------------------------------------------ articles

    def parse_article(self, response):
        self._count("article/pages_fetched")
        yield {
            "source": self.name,
            "url": response.meta.get("found") or response.request.url,
            "response_url": response.url,
            "raw_body": response.body,
            "content_type": response.headers.get("Content-Type", b"").decode("latin-1") or None,
            "http_status": response.status,
            "fetched_at": clock.now(),
            "discovered_via": response.meta.get("via", ""),
            "hints": response.meta.get("hints", {}),
            "run_id": self.session.run_id,
            "force": response.meta.get("force", False),
        }


def _hint_time(raw: str) -> datetime | None:
    """An aware datetime from a sitemap ``lastmod`` (a bare date counts as its UTC midnight)."""
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _hint_day(raw: str, tz=None) -> date | None:
    """The day, in the source's time zone ``tz``, of a feed/sitemap date (ISO 8601 or RFC 822);
    only used to skip entries outside a rerun's window before requesting them."""
    if not raw:
        return None
    from email.utils import parsedate_to_datetime

    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is not None and tz is not None:
        when = when.astimezone(tz)
    return when.date()
