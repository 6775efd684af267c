"""Run sources in one process (one archive run), then report and pick the exit code.

Shared by ``scrapy crawl``, ``scrapy crawlall`` and ``scrapy demo``:

1. check everything that can be checked before crawling (spider arguments,
   source names, DEMO_BASE_URL, ARCHIVE_URI) and stop with exit code 2 and one
   line naming the culprit;
2. take the archive's crawl lock (not for dry runs) or stop with exit code 3;
3. log to ``<archive>/runs/_logs/<run_id>.log`` as well (uploaded at the end
   when the archive is not local);
4. crawl; each spider journals its run-report row before the run commits;
5. print the report (a table on a terminal, then one line per source) and
   return the exit code (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.runreport import mark_unpublished, print_report, summary_line
from storage import clock

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_SOURCE, EXIT_USAGE, EXIT_LOCKED, EXIT_ARCHIVE = 0, 1, 2, 3, 4
EXIT_CODES = {
    EXIT_OK: "every source ok",
    EXIT_SOURCE: "a source failed, was interrupted, archived nothing new while it announced new articles, "
                 "fell below its completeness threshold, or was degraded: below its own recent median "
                 "(the drift rule; see the report)",
    EXIT_USAGE: "bad command line or configuration (unknown source, malformed -a argument, bad ARCHIVE_URI); "
                "nothing was crawled",
    EXIT_LOCKED: "another crawl holds the archive's lock; nothing was crawled",
    EXIT_ARCHIVE: "the archive could not be opened or the run could not be committed; accepted articles "
                  "wait in the local journal (`scrapy archive recover`)",
}


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def take_crawl_lock(archive, owner: str, run_id: str, settings):
    """The archive's crawl lock, or the exit code to stop with (the reason already printed)."""
    from storage import ArchiveError
    from storage.crawllock import CrawlLock, CrawlLocked

    lock = CrawlLock(archive.backend, owner=owner, run_id=run_id, ttl=settings.getfloat("CRAWL_LOCK_TTL", 900))
    try:
        lock.acquire()
    except CrawlLocked as exc:
        error(str(exc))
        return EXIT_LOCKED
    except ArchiveError as exc:
        error(f"could not take the crawl lock: {exc}")
        return EXIT_ARCHIVE
    if lock.took_over:
        logger.warning("%s (what it journaled on this machine is published by this run)", lock.took_over)
    return lock


def start_locked_run(settings, archive, owner: str):
    """A fresh run of a parent that starts crawling processes (parts, distributed workers): its id
    (RUN_ID or a new one, set back into ``settings``), the crawl lock and its started log, as
    ``(run_id, lock, runlog)``; or the exit code to stop with."""
    from crawler.session import process_run_id

    run_id = settings.get("RUN_ID") or process_run_id()
    settings.set("RUN_ID", run_id, priority="cmdline")
    lock = take_crawl_lock(archive, owner, run_id, settings)
    if isinstance(lock, int):
        return lock
    return run_id, lock, RunLog(archive, run_id, settings.get("LOG_FILE_LEVEL") or "INFO").start()


def preflight(settings, names: list[str], spider_args: dict):
    """Everything checkable before a crawl. Returns ``(parsed args, archive)`` or an exit code."""
    from crawler.demo.timeline import TimelineError, demo_today
    from crawler.session import archive_uri
    from crawler.sources import SourceError, registry
    from crawler.spiders.arguments import SpiderArgumentError, parse_arguments
    from storage import ArchiveConfigError, ArchiveError, open_archive

    try:
        clock.check()
        demo_today()
    except (clock.ClockError, TimelineError) as exc:
        error(str(exc))
        return EXIT_USAGE
    try:
        parsed = parse_arguments(dict(spider_args))
    except SpiderArgumentError as exc:
        error(str(exc))
        return EXIT_USAGE
    if not names:
        error("no source to crawl")
        return EXIT_USAGE
    try:
        bad = settings.getint("DISCOVERY_MAX_IN_FLIGHT", 0) < 0
    except ValueError:
        bad = True
    if bad:
        error(f"DISCOVERY_MAX_IN_FLIGHT={settings.get('DISCOVERY_MAX_IN_FLIGHT')}: must be a whole number of "
              f"requests, 0 (4 x CONCURRENT_REQUESTS) or more")
        return EXIT_USAGE
    for name in names:
        try:
            registry().get(name).resolve(settings.get("DEMO_BASE_URL"))
        except SourceError as exc:
            error(str(exc))
            return EXIT_USAGE
    uri = archive_uri(settings)
    try:
        archive = open_archive(uri)
    except ArchiveConfigError as exc:
        error(str(exc))
        return EXIT_USAGE
    except ArchiveError as exc:
        error(f"ARCHIVE_URI={uri}: {exc}")
        return EXIT_ARCHIVE
    try:  # one cheap request: is the store there at all?
        from storage.crawllock import LOCK_KEY

        archive.backend.exists(LOCK_KEY)
    except ArchiveError as exc:
        error(f"ARCHIVE_URI={uri}: {exc}")
        return EXIT_ARCHIVE
    return parsed, archive


class RunLog:
    """A log file per run: ``<archive>/runs/_logs/<run_id>.log`` (written locally, uploaded otherwise)."""

    def __init__(self, archive, run_id: str, level: str = "INFO", path: str | None = None):
        """``path``: log there and upload nothing (a part of a run logs into its parent's file)."""
        self.archive = archive
        self.run_id = run_id
        self.key = archive.run_log_key(run_id)
        if path:
            self.path = Path(path)
            self.upload = False
        elif (path := archive.run_log_path(run_id)) is not None:
            self.path = path
            self.upload = False
        else:
            fd, name = tempfile.mkstemp(prefix=f"newsarchive-{run_id}-", suffix=".log")
            os.close(fd)
            self.path = Path(name)
            self.upload = True
        self.level = level
        self.handler: logging.Handler | None = None

    @property
    def location(self) -> str:
        return str(self.path) if not self.upload else f"{self.archive.display_uri.rstrip('/')}/{self.key}"

    def start(self) -> "RunLog":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handler = logging.FileHandler(self.path, encoding="utf-8")
        self.handler.setLevel(self.level)
        self.handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
        logging.getLogger().addHandler(self.handler)
        if logging.getLogger().level > logging.getLevelName(self.level):
            logging.getLogger().setLevel(self.level)
        return self

    def finish(self, lines: list[str]) -> None:
        if self.handler is None:
            return
        for line in lines:
            self.handler.emit(logging.LogRecord("report", logging.INFO, "", 0, line, None, None))
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()
        self.handler = None
        if self.upload:
            try:
                self.archive.save_run_log(self.run_id, self.path.read_bytes())
                self.path.unlink()
            except Exception as exc:  # noqa: BLE001 - the log stays on local disk
                error(f"could not upload the log to {self.location}: {exc}; it is at {self.path}")


def run_crawl(settings, names: list[str], spider_args: dict | None, title: str, owner: str,
              part: dict | None = None) -> int:
    """Crawl ``names`` in one process and one archive run; print the report; return the exit code.
    ``part`` (``run_id``, ``dir``, ``log``): this process is a part of a ``crawlall --processes``
    run (crawler/parts.py): the parent holds the lock and reports; the rows go to ``dir``."""
    from crawler.session import finished_sessions, process_run_id, run_job

    spider_args = dict(spider_args or {})
    checked = preflight(settings, names, spider_args)
    if isinstance(checked, int):
        return checked
    parsed, archive = checked
    job = run_job(names, spider_args)
    settings.set("RUN_JOB", job, priority="cmdline")
    continuing = None
    if part is not None:
        settings.set("RUN_ID", part["run_id"], priority="cmdline")
        settings.set("RUN_PART_DIR", part["dir"], priority="cmdline")
    elif not settings.get("RUN_ID") and not parsed["dry_run"]:
        # the same job killed before its commit: continue that run, so that its copies are decided
        # over both parts as one clean run decides them (storage.Archive.resumable_run)
        continuing = archive.resumable_run(job, settings.get("ARCHIVE_JOURNAL_DIR") or None)
    run_id = settings.get("RUN_ID") or process_run_id(continuing)
    if continuing and run_id == continuing:
        logging.getLogger(__name__).warning("continuing run %s: it was killed before its commit", run_id)
    settings.set("RUN_ID", run_id, priority="cmdline")
    lock = runlog = None
    if not parsed["dry_run"]:
        if part is None:  # a part runs under its parent's lock
            lock = take_crawl_lock(archive, owner, run_id, settings)
            if isinstance(lock, int):
                return lock
        runlog = RunLog(archive, run_id, settings.get("LOG_FILE_LEVEL") or "INFO",
                        path=part["log"] if part else None).start()
    started: dict[str, str] = {}
    try:
        process = CrawlerProcess(settings)
        for name in names:
            crawler = process.create_crawler(name)

            def opened(spider, _name=name):
                started[_name] = "opened"

            crawler.signals.connect(opened, signal=signals.spider_opened)
            process.crawl(crawler, **spider_args)
        process.start()
    finally:
        rows, commit_error = _collect(finished_sessions(), run_id)
        code = EXIT_OK
        if commit_error:
            mark_unpublished(rows, commit_error)
            code = EXIT_ARCHIVE
        missing = [n for n in names if n not in {r["source"] for r in rows}]
        for name in missing:
            rows.append(_not_started(name, run_id, started.get(name)))
        rows.sort(key=lambda r: r["source"])
        if code == EXIT_OK and any(r["status"] != "ok" for r in rows):
            code = EXIT_SOURCE
        if lock is not None:
            lock.release()
            if lock.lost:
                error("the crawl lock was taken over during the run (see the log)")
        if part is not None:
            from crawler.partfiles import write_part_rows

            write_part_rows(part["dir"], run_id, rows, code)
            if runlog is not None:
                runlog.finish([])
            return code
        print_report(rows, title, archive.display_uri, runlog.location if runlog else None)
        if runlog is not None:
            runlog.finish([summary_line(r) for r in rows] + [f"exit code {code}: {EXIT_CODES[code]}"])
    return code


def _collect(sessions, run_id: str) -> tuple[list[dict], str | None]:
    rows, commit_error = [], None
    for session in sessions:
        if session.run_id != run_id:
            continue
        rows.extend(session.run_rows)
        commit_error = commit_error or session.commit_error
    return rows, commit_error


def _not_started(name: str, run_id: str, state: str | None) -> dict:
    now = clock.now()
    return {"run_id": run_id, "source": name, "started_at": now, "finished_at": now, "status": "failed",
            "requests": 0, "article_pages_fetched": 0, "articles_found": 0, "articles_archived": 0,
            "duplicates_skipped": 0, "dropped": {}, "http_errors": {}, "completeness_title": None,
            "completeness_body": None, "completeness_date": None, "completeness_authors": None, "bytes_downloaded": 0, "duration_s": 0.0,
            "publish_delay_s": None, "crawler_version": None,
            "notes": "the spider did not " + ("finish" if state else "start") + " (see the log)"}


def crawl_and_report(settings, names: list[str], title: str, spider_args: dict | None = None) -> int:
    """Kept for ``scrapy demo``: crawl ``names`` and report, with the crawl lock and run log."""
    return run_crawl(settings, names, spider_args, title=title, owner=f"scrapy {title}")
