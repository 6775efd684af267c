"""``scrapy demo``: serve the bundled demo sites and crawl every demo source.

``scrapy demo --serve-only`` only serves them, until interrupted, so one source
can be crawled by hand with ``scrapy crawl demo_<name> -s DEMO_BASE_URL=...``.
"""

from __future__ import annotations

import time

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.commands._report import crawl_and_report
from crawler.sources import source_names


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self):
        return "[--serve-only] [--port PORT] [--faults a,b]"

    def short_desc(self):
        return "Serve the bundled demo news sites and crawl them into the archive"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--serve-only", action="store_true", help="only serve the demo sites until interrupted")
        parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
        parser.add_argument("--faults", default="", help="comma-separated fault switches of the demo server")

    def run(self, args, opts):
        if args:
            raise UsageError("scrapy demo takes no positional arguments")
        import os

        from crawler.demo.server import DemoServer
        from crawler.demo.timeline import ENV, TimelineError, demo_today
        from storage import clock

        try:
            clock.check()
            # one "today" for the server and every crawl of it, even one started after midnight
            os.environ[ENV] = demo_today().isoformat()
        except (clock.ClockError, TimelineError) as exc:
            raise UsageError(str(exc)) from None
        faults = tuple(f for f in opts.faults.split(",") if f)
        server = DemoServer(host="127.0.0.1", port=opts.port, faults=faults)
        base_url = server.start()
        try:
            if opts.serve_only:
                print(f"serving {base_url}", flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    return
            self.settings.set("DEMO_BASE_URL", base_url, priority="cmdline")
            if self.settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]:
                # the summary is the demo's output; Scrapy's INFO lines would bury it (-L INFO shows them)
                self.settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
            names = [n for n in source_names() if n.startswith("demo_")]
            self.exitcode = crawl_and_report(self.settings, names, title="demo")
        finally:
            server.stop()
