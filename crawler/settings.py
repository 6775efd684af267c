"""Scrapy settings of the news archive.

Every value can be overridden per run with ``-s NAME=VALUE``; the ones users
usually set also read an environment variable of the same name (ARCHIVE_URI,
DEMO_BASE_URL, CRAWLER_CONTACT).
"""

import os

BOT_NAME = "newsarchive"

SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# One generic spider per declared source (crawler/sources/): `scrapy list` lists sources.
SPIDER_LOADER_CLASS = "crawler.spiderloader.SourceSpiderLoader"
COMMANDS_MODULE = "crawler.commands"
LOG_FORMATTER = "crawler.logformatter.PageLogFormatter"

# ---------------------------------------------------------------- the archive
ARCHIVE_URI = os.environ.get("ARCHIVE_URI", "archive")
# Where accepted articles are journaled before they are published (local disk).
ARCHIVE_JOURNAL_DIR = os.environ.get("ARCHIVE_JOURNAL_DIR", "")
# Publish a Parquet file every N accepted articles (and at the end of the run).
ARCHIVE_FLUSH_ITEMS = 5000
# `scrapy crawlall` spreads the sources over this many crawl processes making one run
# (crawler/parts.py); 0: one per core; 1: everything in one process. `--processes N` overrides.
CRAWL_PROCESSES = 0
# Discovery streams (docs/ARCHITECTURE.md): feed and sitemap entries become requests as earlier
# article requests finish, at most this many out per source at once (0: 4 x CONCURRENT_REQUESTS).
DISCOVERY_MAX_IN_FLIGHT = 0
# glibc malloc serves buffers from this size up from their own mappings, given back when freed
# (crawler/memory.py); 0 leaves the allocator's defaults.
MALLOC_MMAP_THRESHOLD = 65536
# Python's collector: a young pass every this many container allocations (Python's default: 700),
# and what exists when the engine starts is frozen out of its passes (crawler/memory.py); 0 leaves
# Python's defaults.
GC_THRESHOLD = 10000
# Group commit of the journal (docs/STORAGE.md): an accepted row is acknowledged (its item goes on)
# once the batch holding it is fsynced; a batch is fsynced when this many rows wait or this many
# milliseconds after its first row, whichever comes first. 1 row: an fsync per row.
JOURNAL_GROUP_ROWS = 100
JOURNAL_GROUP_MS = 5

# The demo sources (`demo_*`) read their server's address from here.
DEMO_BASE_URL = os.environ.get("DEMO_BASE_URL", "")
# The demo world's "today" (YYYY-MM-DD; environment only, so that the demo server and every crawl of it
# agree): its articles are dated over the 86 days before it. Unset: today in Vietnam on the product's
# clock (NEWSARCHIVE_NOW, an ISO 8601 instant with offset, sets that clock; unset: the real time).
DEMO_TODAY = os.environ.get("DEMO_TODAY", "")

# ---------------------------------------------------------------- distributed mode
# DISTRIBUTED=1: `scrapy crawlall` coordinates, `scrapy worker`s on any machine crawl, through Redis.
# Other DISTRIBUTED_* settings and their defaults: docs/DISTRIBUTED.md (crawler/distributed/config.py).
DISTRIBUTED = os.environ.get("DISTRIBUTED", "0")
REDIS_URL = os.environ.get("REDIS_URL", "")

# ---------------------------------------------------------------- pipeline
# Decode, extract, clean, dates, validate, window and dedupe's ids run as one entry (one task per
# item: pipelines/page.py); each is also an item pipeline of its own (pipelines.decode.DecodePipeline
# ... pipelines.window.WindowPipeline), for a project that wants to put a step of its own between them.
# Items of one response processed at once. Scrapy starts this many asyncio tasks for every
# response's output (CONCURRENT_ITEMS is per response), and each callback here yields at most one
# item: the default of 100 cost ~100 task starts a page for nothing. Requests a callback yields
# are scheduled without waiting, so one at a time loses nothing.
CONCURRENT_ITEMS = 1

ITEM_PIPELINES = {
    "pipelines.page.PagePipeline": 100,
    "pipelines.dedupe.DedupePipeline": 600,
    "pipelines.neardup.NearDupPipeline": 650,
    "pipelines.archive.ArchivePipeline": 900,
}

# ---------------------------------------------------------------- politeness and safety
# See docs/OPERATIONS.md for why each default is what it is.
CRAWLER_CONTACT = os.environ.get("CRAWLER_CONTACT", "https://github.com/newsarchive/newsarchive")
USER_AGENT = f"newsarchive/0.1 (+{CRAWLER_CONTACT})"
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "newsarchive"  # the token robots.txt groups are matched against
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0    # seconds before the first retry; doubles each time (with jitter)
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 300.0     # a longer Retry-After is not waited for: the request gives up
DOWNLOAD_TIMEOUT = 30
DNS_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024   # also the limit on a decompressed body (gzip/deflate/br/zstd bombs)
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
SAFETY_DNS_CACHE_S = 300

DOWNLOADER_MIDDLEWARES = {
    # refuses off-site hosts and private addresses, redirect targets included, before anything else
    "crawler.middlewares.safety.SafetyMiddleware": 40,
    # Scrapy's drops off-site requests silently when they are scheduled (no errback, so no outcome
    # in the run report) and lets dont_filter ones through; the safety middleware does its job
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # robots.txt: 5xx or no answer = disallow (RFC 9309), not Scrapy's allow-all
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.StrictRobotsTxtMiddleware": 100,
    # retries wait (exponential backoff; Retry-After pauses the host)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    # one pace per site for every source of the process (every worker in distributed mode)
    "crawler.middlewares.pacing.SitePacingMiddleware": 575,  # after the retry wait (550)
    # Scrapy's meta-refresh check decodes every page whole; this one first looks for the word in its bytes
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.metarefresh.ByteCheckedMetaRefreshMiddleware": 580,
}
SHARED_PACING = True  # False: each source's crawler paces a site on its own (plain Scrapy)

# ---------------------------------------------------------------- operating
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,  # replaced by the progress extension
    "crawler.extensions.progress.Progress": 500,
    # opens the archive run when a crawler is made, commits it when the spider has closed
    "crawler.extensions.archiverun.ArchiveRun": 100,
}
PROGRESS = os.environ.get("PROGRESS", "auto")  # auto | live (rich table) | log (a line per interval) | off
PROGRESS_INTERVAL = 60.0
# A URL whose fetch failed (5xx, timeout) is asked again by a later run once this many seconds
# have passed (or at once with -a retry_failed=1), at most SEEN_MAX_FAILED_ATTEMPTS times.
SEEN_RETRY_FAILED_AFTER = 6 * 3600
SEEN_MAX_FAILED_ATTEMPTS = 5
# The seen-URL state is one small file per run; a crawl merges them once there are this many.
SEEN_COMPACT_FILES = 50
# Completeness thresholds (Source.min_completeness) are judged from this many archived articles on.
COMPLETENESS_MIN_ARTICLES = 10
# "archived nothing while discovery showed new articles" is judged from this many new URLs on
# (one new URL that turns out to be a video page is not an alarm; three that all fail are).
NOTHING_ARCHIVED_MIN_NEW = 3
# The drift rule (crawler/drift.py), judged on a source's latest run once it has DEGRADED_MIN_HISTORY
# earlier ok/degraded runs; a source it flags is `degraded` (exit code 1), which also wins over an
# `incomplete` that only comes from the fixed min_completeness floor (crawler/runreport.drift_judged):
# - completeness, per run: title/body/date/authors share DEGRADED_COMPLETENESS_DROP share points below
#   its median over the last DEGRADED_HISTORY_RUNS runs (runs of COMPLETENESS_MIN_ARTICLES or more);
# - count, per local day (the source's zone): after an unrestricted run, the articles published on the
#   local day before the run started, below (1 - DEGRADED_COUNT_DROP) times the median count of the
#   DEGRADED_HISTORY_DAYS days before that day; judged once that median is DEGRADED_COUNT_MIN_MEDIAN.
DEGRADED_HISTORY_RUNS = 7
DEGRADED_MIN_HISTORY = 3
DEGRADED_COMPLETENESS_DROP = 0.2
DEGRADED_HISTORY_DAYS = 7
DEGRADED_COUNT_DROP = 0.5
DEGRADED_COUNT_MIN_MEDIAN = 5
# `crawlall` writes `scrapy archive report` here after each run (a path or s3:// URI; off when empty).
ARCHIVE_REPORT = os.environ.get("ARCHIVE_REPORT", "")
ARCHIVE_REPORT_DAYS = 30
# The lock a crawl holds on the archive (<archive>/_state/crawl.lock): renewed every minute,
# taken over when its holder's process is gone (same host) or it was not renewed for this long.
CRAWL_LOCK_TTL = 900
LOG_FILE_LEVEL = "INFO"  # level of <archive>/runs/_logs/<run_id>.log, whatever LOG_LEVEL is
ARCHIVE_SUBCOMMANDS = {"runs": "crawler.runreport.RunsSubcommand"}

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
