"""``scrapy worker [--once] [--run RUN_ID] [--sources a,b]``: a crawl worker of distributed mode.

Needs ``DISTRIBUTED=1`` and ``REDIS_URL`` (and the same ``ARCHIVE_URI`` as the coordinator).
Without ``--once`` it serves forever: it waits for ``scrapy crawlall`` (the coordinator) to
announce a run, crawls it with the other workers, publishes, and waits for the next (a systemd
service). ``--once`` crawls one run and exits. ``--sources`` (names or shell patterns) limits
the sources this worker crawls. See docs/DISTRIBUTED.md.

Exit codes: 0 done; 2 bad configuration (nothing crawled); 4 the archive could not be written
(rows wait in the local journal: ``scrapy archive recover``); 5 Redis failed (unreachable for
``DISTRIBUTED_REDIS_TIMEOUT`` or lost the run): what was archived is published.
"""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self):
        return "[--once] [--run RUN_ID] [--sources a,b]"

    def short_desc(self):
        return "Crawl the runs `scrapy crawlall` announces in distributed mode (DISTRIBUTED=1, REDIS_URL)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--once", action="store_true", help="crawl one run, then exit")
        parser.add_argument("--run", default="", help="the run to join (default: the next one announced)")
        parser.add_argument("--sources", default="", help="only these of the run's sources (names or patterns)")

    def run(self, args, opts):
        if args:
            raise UsageError("scrapy worker takes no positional arguments")
        from crawler.distributed.config import Config, ConfigError
        from crawler.distributed.worker import EXIT_USAGE, serve, work

        try:
            config = Config.from_settings(self.settings)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            self.exitcode = EXIT_USAGE
            return
        only = [p.strip() for p in opts.sources.split(",") if p.strip()]
        if opts.once or opts.run:
            self.exitcode = work(self.settings, config, opts.run or None, only)
        else:
            argv = sys.argv[1:]  # Scrapy's command line took the command name out of sys.argv
            self.exitcode = serve(self.settings, config, argv if argv[:1] == ["worker"] else ["worker", *argv])
