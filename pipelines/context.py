"""What a crawler's item pipelines need, made once per crawler and read once in ``from_crawler``.

The pipelines say here what they need; the crawler layer fills it in: the spider makes the :class:`CrawlRun` of its crawler when Scrapy makes the spider (its source
and its arguments: the run window, ``dry_run``), the archive-run extension
(:mod:`crawler.extensions.archiverun`) adds the archive session, and each item pipeline's
``from_crawler`` reads what it needs from it and gets it as plain keyword arguments. Scrapy
(2.13 and later) makes the spider first, then the extensions, then the engine and its item
pipelines (``Crawler.crawl``), so all of this exists before any pipeline is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

@dataclass
class CrawlRun:
    name: str                       # the spider's (and its source's) name
    source: object = None           # the resolved crawler.sources.base.Source
    since: date | None = None       # the run window (-a since/until), publication days
    until: date | None = None
    dry_run: bool = False
    session: object = None          # the crawler.session.ArchiveSession, set by the extension
    wrap_claims: Callable | None = None   # distributed mode: wraps the session's claims (see ArchiveSession)
    summary: dict | None = None     # what the run's manifest records of this crawler, set when it closes
    # article URL -> (has a title, has a body, is dated, has an author), noted by the dedupe step for
    # each page it lets through; the spider counts them for the pages that end archived (completeness)
    fields: dict[str, tuple[bool, bool, bool, bool]] = field(default_factory=dict)


def crawl_run(crawler) -> CrawlRun:
    """The :class:`CrawlRun` of ``crawler`` (made by its spider)."""
    run = getattr(crawler, "crawl_run", None)
    if run is None:
        raise RuntimeError("this crawler's spider made no CrawlRun: the pipelines need the news spider")
    return run
