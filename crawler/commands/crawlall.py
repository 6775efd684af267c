"""``scrapy crawlall [--sources a,b] [--exclude c] [--processes N]``: every declared source, one run.

Meant for cron and systemd timers. Each source is its own crawler (its own
per-domain concurrency and AutoThrottle), all in one archive run.
``--sources`` and ``--exclude`` take comma-separated names or shell patterns
(``demo_*``). Without ``--sources`` every declared source is crawled, except the
``demo_*`` ones unless DEMO_BASE_URL is set. Spider arguments (``-a since=...``)
apply to every source.

``--processes N`` (default CRAWL_PROCESSES, 0: the machine's cores) spreads the sources over N
crawl processes making one run, one report (:mod:`crawler.parts`); ``--processes 1`` crawls in
this process. ``--part`` and its companions are how the parent starts a part, not for operators.

It takes the archive's crawl lock (a second overlapping run exits at once with
code 3), writes ``<archive>/runs/`` rows and ``<archive>/runs/_logs/<run_id>.log``,
prints one line per source, and exits non-zero when a source is not ``ok``.
Exit codes: docs/OPERATIONS.md. When ARCHIVE_REPORT names a file, ``scrapy archive report``
is written there after the run (a failure to write it is reported, the exit code is the crawl's).
"""

from __future__ import annotations

import argparse
import fnmatch

from scrapy.commands import BaseRunSpiderCommand
from scrapy.exceptions import UsageError

from crawler.commands._report import EXIT_LOCKED, EXIT_USAGE, error, run_crawl


def select_sources(all_names: list[str], sources: str, exclude: str, demo_base_url: str) -> list[str]:
    """The sources a crawlall run covers. Raises ``ValueError`` naming the option at fault."""
    def patterns(value: str) -> list[str]:
        return [p.strip() for p in (value or "").split(",") if p.strip()]

    chosen: list[str] = []
    if patterns(sources):
        for pat in patterns(sources):
            hits = fnmatch.filter(all_names, pat)
            if not hits:
                raise ValueError(f"--sources: {pat!r} matches no declared source (see `scrapy list`)")
            chosen += [h for h in hits if h not in chosen]
    else:
        chosen = [n for n in all_names if demo_base_url or not n.startswith("demo_")]
    for pat in patterns(exclude):
        if not fnmatch.filter(all_names, pat):
            raise ValueError(f"--exclude: {pat!r} matches no declared source (see `scrapy list`)")
        chosen = [n for n in chosen if not fnmatch.fnmatch(n, pat)]
    return chosen


class Command(BaseRunSpiderCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self):
        return "[--sources a,b] [--exclude c] [--processes N] [-a NAME=VALUE ...]"

    def short_desc(self):
        return "Crawl every declared source (or some) as one run, with a lock and a run report"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--sources", default="", help="comma-separated source names or patterns (default: all)")
        parser.add_argument("--exclude", default="", help="comma-separated source names or patterns to leave out")
        parser.add_argument("--processes", default=None, metavar="N",
                            help="crawl processes for the run's sources (default: CRAWL_PROCESSES; 0: every core)")
        parser.add_argument("--part", default="", help=argparse.SUPPRESS)      # <run_id>.p<k>: a part of a run
        parser.add_argument("--part-dir", default="", help=argparse.SUPPRESS)  # the parent's turns and reports
        parser.add_argument("--part-log", default="", help=argparse.SUPPRESS)  # the run's log file

    def run(self, args, opts):
        if args:
            raise UsageError("crawlall takes no positional arguments; use --sources a,b")
        from crawler.drift import DriftRule
        from crawler.sources import source_names

        try:
            DriftRule.from_settings(self.settings)  # DEGRADED_* out of range: say so before crawling
            names = select_sources(source_names(), opts.sources, opts.exclude, self.settings.get("DEMO_BASE_URL"))
        except ValueError as exc:
            error(str(exc))
            self.exitcode = EXIT_USAGE
            return
        if not names:
            error("no source selected (demo_* sources need DEMO_BASE_URL)")
            self.exitcode = EXIT_USAGE
            return
        from crawler.distributed import enabled
        from crawler.parts import process_count

        try:
            processes = process_count(opts.processes, self.settings)
        except ValueError as exc:
            error(str(exc))
            self.exitcode = EXIT_USAGE
            return
        shared = [str(uri) for uri in (self.settings.getdict("FEEDS") or {}) if "%(name)s" not in str(uri)]
        if shared and len(names) > 1:
            error(f"-o/-O {shared[0]}: every source's crawler would write this one file over the others'; "
                  f"put %(name)s in the path (items-%(name)s.jsonl: one file per source)")
            self.exitcode = EXIT_USAGE
            return
        if opts.part:
            from crawler.partfiles import die_with_parent

            die_with_parent()
            part = {"run_id": opts.part, "dir": opts.part_dir, "log": opts.part_log}
            self.exitcode = run_crawl(self.settings, names, opts.spargs, title="crawlall", owner="scrapy crawlall",
                                      part=part)
            return  # the parent reports
        if enabled(self.settings):  # DISTRIBUTED=1: coordinate `scrapy worker`s (docs/DISTRIBUTED.md)
            from crawler.distributed.coordinator import coordinate

            self.exitcode = coordinate(self.settings, names, opts.spargs)
        elif processes > 1 and len(names) > 1 and not _dry_run(opts.spargs):
            from crawler.parts import run_parts

            self.exitcode = run_parts(self.settings, names, opts.spargs, processes)
        else:
            self.exitcode = run_crawl(self.settings, names, opts.spargs, title="crawlall", owner="scrapy crawlall")
        if self.exitcode not in (EXIT_USAGE, EXIT_LOCKED):
            write_report(self.settings)


def _dry_run(spider_args: dict) -> bool:
    """``-a dry_run=1`` (it writes nothing: one process crawls it); a bad value is reported by the crawl."""
    from crawler.spiders.arguments import SpiderArgumentError, parse_arguments

    try:
        return bool(parse_arguments(dict(spider_args or {}))["dry_run"])
    except SpiderArgumentError:
        return False


def write_report(settings) -> None:
    """``scrapy archive report`` into ARCHIVE_REPORT (a local path), when it is set."""
    out = settings.get("ARCHIVE_REPORT")
    if not out:
        return
    from crawler.archivereport import write
    from crawler.drift import DriftRule
    from crawler.session import archive_uri
    from storage import open_archive

    try:
        done = write(open_archive(archive_uri(settings)), out,
                     days=settings.getint("ARCHIVE_REPORT_DAYS", 30), rule=DriftRule.from_settings(settings))
    except Exception as exc:  # noqa: BLE001 - the crawl's outcome stands; say why the page is missing
        error(f"ARCHIVE_REPORT={out}: the report was not written: {type(exc).__name__}: {exc}")
        return
    print(f"report: {done['path']} ({done['bytes'] / 1e6:.1f} MB, {done['total_s']:.1f}s)", flush=True)
