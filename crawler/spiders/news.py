"""The one generic spider: a source declaration in, article pages out.

Navigation only. It reads the source's feeds, sitemaps (recursively, index ->
child sitemaps) and listing pages (following the next-page rule), keeps the
links the source's URL filter accepts, canonicalises them, skips those already
in the archive before any request is made, and yields one page item per article
response (see docs/ARCHITECTURE.md). Extraction and everything after it is the
item pipelines' job.

Spider arguments (``-a name=value``), for reruns by hand:
``since``/``until`` (YYYY-MM-DD, publication dates kept), ``urls`` (comma
separated) or ``urls_file`` (one URL a line): fetch exactly these, even if
archived; ``dry_run=1``: do everything but write; ``max_articles=N``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import scrapy
from scrapy.exceptions import CloseSpider

from crawler import discovery
from crawler.session import acquire, release
from crawler.sources.base import Source
from crawler.urls import article_id, canonical, on_domains

logger = logging.getLogger(__name__)

TRUE_WORDS = {"1", "true", "yes", "on"}


class SpiderArgumentError(ValueError):
    """A ``-a`` argument is malformed; the message names it."""


def _parse_day(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SpiderArgumentError(f"-a {name}={value!r}: expected a date as YYYY-MM-DD") from None


class NewsSpider(scrapy.Spider):
    """Generic news spider; :class:`crawler.spiderloader.SourceSpiderLoader` subclasses it per source."""

    name = "news"
    source_decl: Source | None = None  # set on the per-source subclass

    def __init__(self, *args, since=None, until=None, urls=None, urls_file=None, dry_run=None,
                 max_articles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.since = _parse_day("since", since)
        self.until = _parse_day("until", until)
        if self.since and self.until and self.since > self.until:
            raise SpiderArgumentError(f"-a since={since} is after -a until={until}")
        self.explicit_urls = self._read_urls(urls, urls_file)
        self.dry_run = str(dry_run or "").lower() in TRUE_WORDS
        try:
            self.max_articles = int(max_articles) if max_articles not in (None, "") else None
        except ValueError:
            raise SpiderArgumentError(f"-a max_articles={max_articles!r}: expected a whole number") from None
        if self.max_articles is not None and self.max_articles < 1:
            raise SpiderArgumentError(f"-a max_articles={max_articles!r}: must be at least 1")
        self.requested_articles = 0

    @staticmethod
    def _read_urls(urls: str | None, urls_file: str | None) -> list[str]:
        found: list[str] = []
        if urls:
            found += [u.strip() for u in urls.split(",") if u.strip()]
        if urls_file:
            path = Path(urls_file)
            if not path.is_file():
                raise SpiderArgumentError(f"-a urls_file={urls_file!r}: no such file")
            found += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
                      if ln.strip() and not ln.lstrip().startswith("#")]
        for u in found:
            if not u.startswith(("http://", "https://")):
                raise SpiderArgumentError(f"-a urls: {u!r} is not an http(s) URL")
        return found

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.source = cls.source_decl.resolve(crawler.settings.get("DEMO_BASE_URL"))
        spider.allowed_domains = list(spider.source.domains)
        spider.session = acquire(crawler.settings, dry_run=spider.dry_run)
        spider.session.sources.append(spider.name)
        return spider

    def closed(self, reason):
        stats = self.crawler.stats
        summary = {"source": self.name, "reason": reason, "stats": stats.get_stats()}
        manifest = release(self.session, summary)
        if manifest is not None:
            stats.set_value("archive/manifest", manifest.get("run_id", ""))

    # ------------------------------------------------------------------ discovery

    async def start(self):
        src = self.source
        if self.explicit_urls:
            for url in self.explicit_urls:
                req = self._article_request(url, "urls", {}, force=True)
                if req is not None:
                    yield req
            return
        for url in src.feeds:
            yield scrapy.Request(url, callback=self.parse_feed, meta={"kind": "feed"})
        for url in src.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap, meta={"kind": "sitemap"})
        for listing in src.listings:
            yield scrapy.Request(listing.url, callback=self.parse_listing,
                                 meta={"kind": "listing", "listing": listing, "page": 1})

    def parse_feed(self, response):
        try:
            entries = discovery.parse_feed(response.body, response.url)
        except discovery.UnsafeXML as exc:
            self._count("discovery/refused_xml")
            logger.warning("feed %s refused: %s", response.url, exc)
            return
        self._count("discovery/feed_entries", len(entries))
        for entry in entries:
            req = self._entry_request(entry, "feed")
            if req is not None:
                yield req

    def parse_sitemap(self, response):
        try:
            result = discovery.parse_sitemap(response.body, response.url)
        except discovery.UnsafeXML as exc:
            self._count("discovery/refused_xml")
            logger.warning("sitemap %s refused: %s", response.url, exc)
            return
        for loc, lastmod in result.sitemaps:
            if self.since and lastmod and lastmod[:10] < self.since.isoformat():
                continue  # a child sitemap last changed before the window holds nothing for it
            if on_domains(loc, self.source.domains):
                yield scrapy.Request(loc, callback=self.parse_sitemap, meta={"kind": "sitemap"})
        self._count("discovery/sitemap_entries", len(result.entries))
        for entry in result.entries:
            req = self._entry_request(entry, "sitemap")
            if req is not None:
                yield req

    def parse_listing(self, response):
        listing = response.meta["listing"]
        page = response.meta["page"]
        links, nexts = discovery.listing_links(response.text, response.url, listing)
        fresh = 0
        for url in links:
            if not self.source.article_url(url):
                continue
            self._count("discovery/listing_links")
            req = self._article_request(url, "listing", {})
            if req is not None:
                fresh += 1
                yield req
        # Incremental: a page holding only known articles means older pages hold no new ones.
        if fresh == 0 and page > 1 and not self.since:
            self._count("discovery/listing_stopped_known")
            return
        if page < listing.max_pages:
            for url in nexts[:1]:
                yield scrapy.Request(url, callback=self.parse_listing,
                                     meta={"kind": "listing", "listing": listing, "page": page + 1})

    def _entry_request(self, entry: discovery.Entry, via: str):
        if not self.source.article_url(entry.url):
            self._count("discovery/filtered_url")
            return None
        hints = {"title": entry.title, "published_raw": entry.published_raw, "modified_raw": entry.modified_raw}
        day = _hint_day(entry.published_raw)
        if day is not None and not self._in_window(day):
            self._count("discovery/outside_window")
            return None
        return self._article_request(entry.url, via, hints)

    def _in_window(self, day: date) -> bool:
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _article_request(self, url: str, via: str, hints: dict, force: bool = False):
        src = self.source
        canon = canonical(url, src.strip_params, src.host_aliases)
        if not on_domains(canon, src.domains):
            self._count("discovery/offsite")
            return None
        if not force and self.session.known_url(article_id(canon)):
            self._count("discovery/known_skipped")
            return None
        if self.max_articles is not None and self.requested_articles >= self.max_articles:
            raise CloseSpider("max_articles")
        self.requested_articles += 1
        self._count("discovery/article_requests")
        return scrapy.Request(
            canon, callback=self.parse_article, errback=self.article_failed,
            meta={"kind": "article", "via": via, "hints": hints, "force": force},
            dont_filter=force,
        )

    # ------------------------------------------------------------------ articles

    def parse_article(self, response):
        self._count("article/pages_fetched")
        yield {
            "source": self.name,
            "url": response.request.url,
            "response_url": response.url,
            "raw_body": response.body,
            "content_type": response.headers.get("Content-Type", b"").decode("latin-1") or None,
            "http_status": response.status,
            "fetched_at": datetime.now(timezone.utc),
            "discovered_via": response.meta.get("via", ""),
            "hints": response.meta.get("hints", {}),
            "run_id": self.session.run_id,
            "force": response.meta.get("force", False),
        }

    def article_failed(self, failure):
        reason = type(failure.value).__name__
        status = getattr(getattr(failure.value, "response", None), "status", None)
        key = f"http_{status}" if status else reason
        self._count(f"article/failed/{key}")
        logger.info("article %s failed: %s", failure.request.url, key)

    def _count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)


def _hint_day(raw: str) -> date | None:
    """The day of a feed/sitemap date (ISO 8601 or RFC 822), only to filter by window."""
    if not raw:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return datetime.fromisoformat(raw.strip().replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).date()
    except (TypeError, ValueError, IndexError):
        return None
