"""``scrapy worker``: crawl the runs a coordinator announces, as one of many workers.

``serve`` (the default, for a systemd service) waits for a run, crawls it in a child process
(``scrapy worker --once --run <id>``: Twisted's reactor cannot start twice in one process),
and waits for the next. ``work`` crawls one run in this process:

- checks the run's archive is the one this machine's ``ARCHIVE_URI`` names (a worker that
  would write somewhere else refuses to join);
- sets the distributed scheduler and spider loader, a run id of its own
  (``<run_id>.<worker>``: its journal, Parquet files and manifest never collide with another
  worker's), and the engine's idle heartbeat to ``DISTRIBUTED_POLL_INTERVAL``;
- runs one crawler per source of the run, with the run's ``-a`` arguments, until the
  coordinator says the run is done, then publishes and tells the coordinator.

Starting a run recovers the journals of dead runs on this machine (``archive.begin_run``),
so a worker restarted by systemd after a kill publishes what its predecessor had accepted.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import signal
import subprocess
import sys
import time

from crawler.commands._report import EXIT_ARCHIVE, EXIT_OK, EXIT_USAGE
from crawler.distributed.agent import Agent, install
from crawler.distributed.config import EXIT_REDIS
from crawler.distributed.keys import Keys
from crawler.distributed.redisio import Link, RedisDown, Scripts, connect
from crawler.distributed.runstate import ACTIVE, RunState

logger = logging.getLogger(__name__)

NEARDUP = "pipelines.neardup.NearDupPipeline"
DISTRIBUTED_NEARDUP = "crawler.distributed.neardup.DistributedNearDupPipeline"
DEDUPE = "pipelines.dedupe.DedupePipeline"
WAIT = "crawler.distributed.claims.WaitForRedisPipeline"
PACING = "crawler.middlewares.pacing.SitePacingMiddleware"
DISTRIBUTED_PACING = "crawler.distributed.pacing.SharedPacingMiddleware"


def worker_pipelines(pipelines: dict) -> dict:
    """The project's item pipelines, with the near-duplicate step's run index in Redis in front
    of it, and a wait for Redis just before the dedupe step."""
    out = dict(pipelines)
    if NEARDUP in out:
        out[DISTRIBUTED_NEARDUP] = out.pop(NEARDUP)
    if DEDUPE in out:
        out[WAIT] = out[DEDUPE] - 1
    return out


def worker_downloader_middlewares(middlewares: dict) -> dict:
    """The project's downloader middlewares, with the site paces in Redis (:mod:`.pacing`)
    instead of this process's."""
    out = dict(middlewares)
    if PACING in out:
        out[DISTRIBUTED_PACING] = out.pop(PACING)
    return out


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def active_run(config, link: Link, skip=()) -> str | None:
    """The id of the run being crawled, if it is active and not in ``skip``."""
    keys = Keys(config.prefix)
    current = link.call(link.client.get, keys.current)
    if not current:
        return None
    run_id = current.decode()
    if run_id in skip:
        return None
    state = RunState(link, Scripts(link.client), keys, run_id, config).state()
    return run_id if state in ACTIVE else None


def wait_for_run(config, link: Link, skip=(), stop=lambda: False) -> str | None:
    complained = False
    while not stop():
        try:
            run_id = active_run(config, link, skip)
            complained = False
        except RedisDown as exc:
            run_id = None
            if not complained:
                logger.error("Redis (%s) does not answer: %s; waiting", config.display_url, exc)
                complained = True
        if run_id:
            return run_id
        time.sleep(config.poll)
    return None


def work(settings, config, run_id: str | None, only: list[str]) -> int:
    """Crawl one run (the given one, or the next announced) in this process; the exit code."""
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import CrawlerProcess

    from crawler.session import archive_uri, finished_sessions
    from storage import ArchiveConfigError, ArchiveError, open_archive

    client = connect(config)
    link = Link(client)
    run_id = run_id or wait_for_run(config, link)
    state = RunState(link, Scripts(client), Keys(config.prefix), run_id, config)
    try:
        record = state.record()
    except RedisDown as exc:
        _say(f"error: Redis ({config.display_url}) does not answer: {exc}")
        return EXIT_REDIS
    if not record or record.get("state") not in ACTIVE:
        _say(f"run {run_id} is over or gone; nothing to do")
        return EXIT_OK
    uri = archive_uri(settings)
    try:
        archive = open_archive(uri)
    except (ArchiveConfigError, ArchiveError) as exc:
        _say(f"error: ARCHIVE_URI={uri}: {exc}")
        return EXIT_USAGE
    if archive.display_uri != record.get("archive"):
        _say(f"error: ARCHIVE_URI is {archive.display_uri} here but run {run_id} writes to {record.get('archive')}: "
             f"set the same ARCHIVE_URI on every machine; not joining")
        return EXIT_USAGE
    names = [n for n in json.loads(record["sources"]) if not only or any(fnmatch.fnmatch(n, p) for p in only)]
    if not names:
        _say(f"error: --sources {','.join(only)} matches none of the run's sources ({record['sources']})")
        return EXIT_USAGE
    if not settings.get("DEMO_BASE_URL") and record.get("demo_base_url"):
        settings.set("DEMO_BASE_URL", record["demo_base_url"], priority="cmdline")
    agent = Agent(config, run_id, names, client=client)
    settings.set("RUN_ID", f"{run_id}.{agent.worker_id}", priority="cmdline")
    settings.set("SCHEDULER", "crawler.distributed.scheduler.DistributedScheduler", priority="cmdline")
    settings.set("SPIDER_LOADER_CLASS", "crawler.distributed.spider.DistributedSpiderLoader", priority="cmdline")
    settings.set("ITEM_PIPELINES", worker_pipelines(settings.getdict("ITEM_PIPELINES")), priority="cmdline")
    settings.set("DOWNLOADER_MIDDLEWARES", worker_downloader_middlewares(settings.getdict("DOWNLOADER_MIDDLEWARES")),
                 priority="cmdline")
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = config.poll  # idle crawlers look at the queue this often
    install(agent)
    try:
        agent.join()
    except Exception as exc:  # noqa: BLE001 - nothing started yet
        _say(f"error: could not join run {run_id}: {exc}")
        return EXIT_REDIS
    logger.info("worker %s joined run %s: %s", agent.worker_id, run_id, ", ".join(names))
    process = CrawlerProcess(settings)
    spider_args = json.loads(record.get("args") or "{}")
    for name in names:
        process.crawl(name, **spider_args)
    from twisted.internet import reactor

    reactor.callWhenRunning(agent.start_ticking)
    try:
        process.start()
    finally:
        sessions = [s for s in finished_sessions() if s.run_id == settings.get("RUN_ID")]
        commit_error = next((s.commit_error for s in sessions if s.commit_error), None)
        result = {"host": __import__("socket").gethostname(), "run": settings.get("RUN_ID"),
                  "aborted": agent.aborted, "commit_error": commit_error,
                  "rows": (sessions[0].manifest or {}).get("rows") if sessions else None}
        agent.leave(result)
        install(None)
    if agent.aborted in ("redis_lost", "redis_unreachable"):
        _say(f"error: run {run_id} ended without Redis ({agent.aborted}); what this worker archived is published")
        return EXIT_REDIS
    if commit_error:
        _say(f"error: could not publish to {archive.display_uri}: {commit_error}; rows wait in the journal "
             f"(`scrapy archive recover`)")
        return EXIT_ARCHIVE
    return EXIT_OK


def serve(settings, config, argv: list[str]) -> int:
    """Crawl every run, each in a child ``scrapy worker --once --run <id>``, until stopped."""
    from scrapy.utils.log import configure_logging

    configure_logging(settings)
    link = Link(connect(config))
    stopping = {"now": False}
    child: dict = {"proc": None}

    def on_signal(signum, frame):
        stopping["now"] = True
        proc = child["proc"]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signum)  # the child stops gracefully: hands back, publishes, leaves

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    done: list[str] = []
    logger.info("worker waiting for runs on %s (prefix %s)", config.display_url, config.prefix)
    while not stopping["now"]:
        run_id = wait_for_run(config, link, skip=done[-20:], stop=lambda: stopping["now"])
        if run_id is None:
            break
        cmd = [sys.executable, "-m", "scrapy", *argv, "--once", "--run", run_id]
        child["proc"] = subprocess.Popen(cmd)
        code = child["proc"].wait()
        child["proc"] = None
        done.append(run_id)
        logger.info("run %s: worker exited with %d", run_id, code)
    return EXIT_OK
