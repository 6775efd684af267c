"""``scrapy archive <subcommand>``: look after the archive (stats, verify, query, recover, compact, report).

Subcommands come from one registry: ``ARCHIVE_SUBCOMMANDS_BASE`` below, updated by the
``ARCHIVE_SUBCOMMANDS`` setting (``{"name": "module.Class"}``; a value of None removes one), so a
new subcommand is one class and one entry. A subcommand class has ``help``, ``add_arguments(parser)``
and ``run(archive, opts) -> int`` (the exit code).

The archive is ``--archive URI``, else the ``ARCHIVE_URI`` setting / environment variable, else ``archive``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.misc import load_object

ARCHIVE_SUBCOMMANDS_BASE = {
    "stats": "crawler.commands.archive.Stats",
    "verify": "crawler.commands.archive.Verify",
    "query": "crawler.commands.archive.Query",
    "recover": "crawler.commands.archive.Recover",
    "compact": "crawler.commands.archive.Compact",
    "duplicates": "pipelines.neardup_cli.Duplicates",
    "report": "crawler.commands.archive.Report",
}


def _print_table(columns: list[str], rows: list[tuple], out=sys.stdout) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")


def _json_default(value):
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


class Stats:
    help = "rows, files, bytes and date range per dataset, source and partition"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")

    def run(self, archive, opts) -> int:
        rows = archive.stats()
        if opts.json:
            for r in rows:
                print(json.dumps(r, default=_json_default))
            return 0
        columns = ["dataset", "source", "partition", "files", "rows", "bytes", "min_date", "max_date"]
        _print_table(columns, [tuple(r.get(c) for c in columns) for r in rows])
        return 0


class Verify:
    help = "check manifests, files, row counts, duplicates and temporaries; exit 0 only if all hold"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def run(self, archive, opts) -> int:
        report = archive.verify()
        if opts.json:
            print(json.dumps(report, default=_json_default, indent=1))
        else:
            for problem in report["problems"]:
                print(f"PROBLEM {problem}")
            print(f"{'OK' if report['ok'] else 'FAILED'}: {report['manifests']} manifests, "
                  f"{report['files']} files, {report['rows']} rows checked")
        return 0 if report["ok"] else 1


class Query:
    help = 'run SQL on views articles, duplicates, runs: query "SELECT ..." [--format table|csv|jsonl]'

    def add_arguments(self, parser):
        parser.add_argument("sql", help="the SQL statement")
        parser.add_argument("--format", choices=["table", "csv", "jsonl"], default="table")
        parser.add_argument("--skip-corrupt", action="store_true", help="leave out unreadable files")

    def run(self, archive, opts) -> int:
        import duckdb

        con = archive.duckdb(skip_corrupt=opts.skip_corrupt)
        try:
            cur = con.execute(opts.sql)
        except duckdb.Error as exc:
            # a typo in SQL is the user's: say what DuckDB said, no traceback
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        columns = [d[0] for d in (cur.description or [])]
        rows = cur.fetchall() if cur.description else []
        if opts.format == "csv":
            writer = csv.writer(sys.stdout)
            writer.writerow(columns)
            writer.writerows(rows)
        elif opts.format == "jsonl":
            for row in rows:
                print(json.dumps(dict(zip(columns, row)), default=_json_default, ensure_ascii=False))
        else:
            _print_table(columns, rows)
        return 0


class Recover:
    help = "publish, exactly once, what killed runs left in their local journals"

    def add_arguments(self, parser):
        parser.add_argument("--journal-dir", default=None, help="journal folder (default: per archive)")

    def run(self, archive, opts) -> int:
        settings = getattr(opts, "settings", None)
        if settings is not None and settings.getbool("NEARDUP_ENABLED", True):
            from pipelines.neardup import params_from_settings, recovery_resolver

            # a killed run's copies of one another, decided as its crawl would have
            archive.resolver_factory = recovery_resolver(params_from_settings(settings))
        report = archive.recover(opts.journal_dir)
        print(json.dumps(report, indent=1))
        return 1 if report["failed"] else 0


class Compact:
    help = "rewrite each partition's small files into few large sorted ones [--before YYYY-MM]"

    def add_arguments(self, parser):
        parser.add_argument("--before", default=None, help="only partitions of months before YYYY-MM")
        parser.add_argument("--dataset", action="append", default=None, help="articles, duplicates, runs")
        parser.add_argument("--min-files", type=int, default=2, help="compact partitions with at least N files")

    def run(self, archive, opts) -> int:
        report = archive.compact(before=opts.before, datasets=opts.dataset, min_files=opts.min_files)
        print(json.dumps(report, indent=1, default=_json_default))
        return 0


class Report:
    help = ("write one self-contained HTML page (charts inline, no network when viewed): per-source daily "
            "counts, runs, drift alerts, syndication, archive health")

    def add_arguments(self, parser):
        parser.add_argument("--out", default="report.html", help="the HTML file to write (default report.html)")
        parser.add_argument("--days", type=int, default=30, help="local days shown per source (default 30)")
        parser.add_argument("--end", type=_dt.date.fromisoformat, default=None,
                            help="last day shown, YYYY-MM-DD (default: the latest publication day in the archive)")

    def run(self, archive, opts) -> int:
        from crawler.archivereport import write
        from crawler.drift import DriftRule

        settings = getattr(opts, "settings", None)
        try:
            rule = DriftRule.from_settings(settings) if settings is not None else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        done = write(archive, opts.out, days=opts.days, end=opts.end, rule=rule)
        print(f"wrote {done['path']}: {done['bytes'] / 1e6:.1f} MB, {done['sources']} sources, "
              f"{done['total_s']:.2f}s" + (f"; degraded: {', '.join(done['degraded'])}" if done["degraded"] else ""))
        return 0


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self):
        return "<subcommand> [options]   (subcommands: " + ", ".join(sorted(self.subcommands())) + ")"

    def short_desc(self):
        return "Look after the article archive: stats, verify, query, recover, compact, report"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--archive", default=None, help="archive URI (default: ARCHIVE_URI, else 'archive')")

    def subcommands(self) -> dict[str, str]:
        table = dict(ARCHIVE_SUBCOMMANDS_BASE)
        settings = getattr(self, "settings", None)
        extra = settings.getdict("ARCHIVE_SUBCOMMANDS") if settings is not None else {}
        table.update(extra)
        return {k: v for k, v in table.items() if v}

    def run(self, args, opts):
        table = self.subcommands()
        if not args or args[0] not in table:
            raise UsageError(f"give a subcommand: {', '.join(sorted(table))}")
        name, rest = args[0], args[1:]
        sub = load_object(table[name])()
        parser = argparse.ArgumentParser(prog=f"scrapy archive {name}", description=sub.help)
        sub.add_arguments(parser)
        sub_opts = parser.parse_args(rest)
        sub_opts.settings = self.settings
        from crawler.session import archive_uri
        from storage import ArchiveError, open_archive

        uri = archive_uri(self.settings, opts.archive)
        try:
            # the journal folder a crawl uses (crawler.session): `recover` must look where it wrote
            archive = open_archive(uri, journal_dir=self.settings.get("ARCHIVE_JOURNAL_DIR") or None)
            self.exitcode = sub.run(archive, sub_opts)
        except ArchiveError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 2
