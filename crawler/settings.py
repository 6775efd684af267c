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

# ---------------------------------------------------------------- the archive
ARCHIVE_URI = os.environ.get("ARCHIVE_URI", "archive")
# Where accepted articles are journaled before they are published (local disk).
ARCHIVE_JOURNAL_DIR = os.environ.get("ARCHIVE_JOURNAL_DIR", "")
# Publish a Parquet file every N accepted articles (and at the end of the run).
ARCHIVE_FLUSH_ITEMS = 5000

# The demo sources (`demo_*`) read their server's address from here.
DEMO_BASE_URL = os.environ.get("DEMO_BASE_URL", "")

# ---------------------------------------------------------------- pipeline
ITEM_PIPELINES = {
    "pipelines.decode.DecodePipeline": 100,
    "pipelines.extract.ExtractPipeline": 200,
    "pipelines.clean.CleanPipeline": 300,
    "pipelines.dates.DatesPipeline": 400,
    "pipelines.validate.ValidatePipeline": 500,
    "pipelines.window.WindowPipeline": 550,
    "pipelines.dedupe.DedupePipeline": 600,
    "pipelines.archive.ArchivePipeline": 900,
}

# ---------------------------------------------------------------- politeness
CRAWLER_CONTACT = os.environ.get("CRAWLER_CONTACT", "https://github.com/newsarchive/newsarchive")
USER_AGENT = f"newsarchive/0.1 (+{CRAWLER_CONTACT})"
ROBOTSTXT_OBEY = True
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
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
