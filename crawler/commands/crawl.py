"""``scrapy crawl <source>``: Scrapy's command, with checks first and a report last.

Replaces Scrapy's ``crawl`` for this project (same options). Before crawling it
checks the source name, every ``-a`` argument, DEMO_BASE_URL and ARCHIVE_URI, and
stops with one line naming the culprit and exit code 2 instead of a traceback
from inside the spider's constructor. It takes the archive's crawl lock like
``crawlall`` (exit code 3 when another crawl holds it; dry runs take none),
writes the run log and run report, and exits non-zero when the source's run is
not ``ok``. Exit codes: docs/OPERATIONS.md.
"""

from __future__ import annotations

from scrapy.commands import BaseRunSpiderCommand
from scrapy.exceptions import UsageError

from crawler.commands._report import run_crawl


class Command(BaseRunSpiderCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self):
        return "[options] <source>"

    def short_desc(self):
        return "Crawl one source into the archive (-a since/until/urls/urls_file/dry_run/max_articles)"

    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one source; `scrapy list` shows them, `scrapy crawlall` runs many")
        name = args[0]
        self.exitcode = run_crawl(self.settings, [name], opts.spargs, title=f"crawl {name}",
                                  owner=f"scrapy crawl {name}")
