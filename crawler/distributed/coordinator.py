"""``scrapy crawlall`` with ``DISTRIBUTED=1``: the coordinator of one run.

1. Check everything checkable (as a single-process crawl does), then Redis; take the
   archive's crawl lock (so no other crawl, distributed or not, overlaps this one).
2. End a run an earlier coordinator left behind (it died; its lock was stale): mark it
   ``aborted`` so its workers publish and move on. Whatever it did not crawl is found again
   by this run; what it archived is skipped.
3. Announce the run (``<p>:current``, the run record: sources, ``-a`` arguments, archive,
   ``DEMO_BASE_URL``), seed every source's discovery requests (feeds, sitemaps, listings;
   with ``-a urls=`` the given URLs) into the run's queues, beat a heartbeat.
4. Wait until the run is drained: no queued request, no leased request, every live worker's
   crawlers idle, twice in a row. Each check first hands back the requests of workers whose
   heartbeat expired. If Redis restarts but kept the run (persistence on), discovery is
   seeded again (filter bypassed) so that whatever the restart lost is found again.
5. Mark it ``done``; wait for the workers to publish and leave; publish journals of dead
   workers on this machine (``archive.recover()``).
6. Write the run report (one ``runs`` row per source, for all workers), commit the
   coordinator's own archive run (its manifest lists the workers' runs), print the report.

Exit codes: those of ``scrapy crawlall`` (docs/OPERATIONS.md), plus 5: Redis failed (did not
answer for ``DISTRIBUTED_REDIS_TIMEOUT``, or lost the run), or no worker was alive for
``DISTRIBUTED_WORKER_WAIT``. The report then says ``failed`` for every source: never a
silent loss; run ``scrapy crawlall`` again (what was archived is kept and not fetched again).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from types import SimpleNamespace

from scrapy.utils.misc import build_from_crawler, load_object

from crawler.distributed import serialize
from crawler.distributed.config import EXIT_REDIS, Config, ConfigError
from crawler.distributed.frontier import BucketedFilter, LeasedQueue
from crawler.distributed.keys import Keys
from crawler.distributed.redisio import Link, RedisDown, Scripts, connect, server_id
from crawler.distributed.report import source_row
from crawler.distributed.runstate import ABORTED, ACTIVE, DONE, RUNNING, SEEDING, RunState
from crawler.distributed.spider import spider_class
from storage import clock
from storage.errors import ArchiveError

logger = logging.getLogger(__name__)

FAILURES = {
    "redis_lost": "Redis lost this run's state (it restarted without persistence, or was flushed)",
    "redis_unreachable": "Redis did not answer for DISTRIBUTED_REDIS_TIMEOUT",
    "no_workers": "no worker was alive for DISTRIBUTED_WORKER_WAIT (start `scrapy worker` on the crawl machines)",
    "shutdown": "the coordinator was stopped",
}


class _Stats:
    """Crawl stats of a seeding spider (it runs without a crawler)."""

    def __init__(self):
        self.values: dict = {}

    def inc_value(self, key, count=1, start=0, **_):
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key, default=None, **_):
        return self.values.get(key, default)

    def set_value(self, key, value, **_):
        self.values[key] = value

    def get_stats(self, **_):
        return dict(self.values)


class _Seeder:
    """The coordinator's side of what a worker's agent offers the spider."""

    worker_id = "coordinator"

    def __init__(self, state: RunState):
        self.state = state
        self.run_id = state.run_id

    def first_find(self, source, article_id):
        return self.state.first_find(source, article_id)

    def outcome(self, source, article_id, reason):
        self.state.outcome(source, article_id, reason)


async def _requests(spider) -> list:
    return [r async for r in spider.start()]


def coordinate(settings, names: list[str], spider_args: dict | None) -> int:
    from crawler.commands._report import EXIT_USAGE, error, preflight, start_locked_run
    from crawler.runreport import print_report, summary_line

    from scrapy.utils.log import configure_logging

    configure_logging(settings)  # no crawler runs in this process: its log goes to stderr as Scrapy's would
    spider_args = dict(spider_args or {})
    try:
        config = Config.from_settings(settings)
    except ConfigError as exc:
        error(str(exc))
        return EXIT_USAGE
    checked = preflight(settings, names, spider_args)
    if isinstance(checked, int):
        return checked
    parsed, archive = checked
    for arg in ("dry_run", "max_articles"):
        if parsed[arg]:
            error(f"-a {arg} is not supported in distributed mode: run it without DISTRIBUTED=1")
            return EXIT_USAGE
    client = connect(config)
    link = Link(client)
    try:
        link.call(client.ping)
    except RedisDown as exc:
        error(f"REDIS_URL={config.display_url}: Redis does not answer ({exc})")
        return EXIT_REDIS
    started = start_locked_run(settings, archive, "scrapy crawlall (distributed)")
    if isinstance(started, int):
        return started
    run_id, lock, runlog = started
    coordinator = Coordinator(settings, config, link, archive, names, spider_args, run_id)
    code = EXIT_REDIS
    try:
        code = coordinator.run()
    finally:
        lock.release()
        if lock.lost:
            error("the crawl lock was taken over during the run (see the log)")
        print_report(coordinator.rows, "crawlall (distributed)", archive.display_uri, runlog.location)
        lines = [summary_line(r) for r in coordinator.rows]
        runlog.finish(lines + [f"exit code {code}"] + ([coordinator.failure] if coordinator.failure else []))
        if coordinator.failure:
            error(coordinator.failure)
    return code


class Coordinator:
    def __init__(self, settings, config: Config, link: Link, archive, names, spider_args, run_id):
        self.settings = settings
        self.config = config
        self.link = link
        self.client = link.client
        self.scripts = Scripts(self.client)
        self.keys = Keys(config.prefix)
        self.state = RunState(link, self.scripts, self.keys, run_id, config)
        self.archive = archive
        self.names = list(names)
        self.spider_args = spider_args
        self.run_id = run_id
        self.rows: list[dict] = []
        self.failure: str | None = None
        self.seed_spiders: dict = {}
        self.session = None
        self.stop: str | None = None
        self.server_id = ""
        self.restarts = 0
        self._beating = threading.Event()

    # ------------------------------------------------------------------ the run
    def run(self) -> int:
        from crawler.commands._report import EXIT_ARCHIVE, EXIT_OK, EXIT_SOURCE
        from crawler.runreport import mark_unpublished
        from crawler.session import acquire, release

        previous = {sig: signal.signal(sig, self._signalled) for sig in (signal.SIGINT, signal.SIGTERM)}
        outcome = "redis_unreachable"
        try:
            self._end_stale_run()
            self.session = acquire(self.settings)
            self.session.load_seen()
            self.server_id = self.link.call(server_id, self.client)
            self.state.create({
                "state": SEEDING, "sources": self.names, "args": self.spider_args,
                "archive": self.archive.display_uri, "demo_base_url": self.settings.get("DEMO_BASE_URL") or "",
                "started_at": clock.now().isoformat(), "coordinator": f"{socket.gethostname()}:"
                f"{os.getpid()}", "redis_id": self.server_id})
            self._start_heartbeat()
            self._seed()
            self.state.set(state=RUNNING)
            logger.info("run %s: seeded %d source(s); waiting for the workers to drain the queue", self.run_id,
                        len(self.names))
            outcome = self._wait()
            self._finish(outcome)
        except RedisDown as exc:
            outcome = "redis_unreachable"
            logger.error("Redis failed during the run: %s", exc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._beating.set()
        self.rows = self._rows(outcome)
        if outcome != "drained":
            marked = "interrupted" if outcome == "shutdown" else "failed"
            self.failure = f"run {self.run_id}: {FAILURES.get(outcome, outcome)}; the report marks every source " \
                           f"{marked}. What was archived is kept; run `scrapy crawlall` again for the rest."
        code = EXIT_OK
        if self.session is not None:
            for row in self.rows:
                self.session.add_run_row(row)
            workers = sorted(self.state_finished_runs())
            try:
                release(self.session, {"distributed": True, "outcome": outcome, "worker_runs": workers})
            except Exception:  # noqa: BLE001 - reported below from the session
                pass
            if self.session.commit_error:
                mark_unpublished(self.rows, self.session.commit_error)
                code = EXIT_ARCHIVE
        self._expire()
        if outcome in ("redis_lost", "redis_unreachable", "no_workers"):
            return EXIT_REDIS
        if code == EXIT_OK and any(r["status"] != "ok" for r in self.rows):
            code = EXIT_SOURCE
        return code

    def _signalled(self, signum, frame):
        self.stop = "shutdown"
        logger.warning("signal %d: ending the run (workers publish what they have)", signum)

    def _end_stale_run(self) -> None:
        current = self.link.call(self.client.get, self.keys.current)
        if not current:
            return
        old = RunState(self.link, self.scripts, self.keys, current.decode(), self.config)
        if old.state() in ACTIVE:
            logger.warning("run %s was left active by a coordinator that is gone: aborting it", old.run_id)
            old.set(state=ABORTED)
            old.expire(self.config.run_ttl)

    def _start_heartbeat(self) -> None:
        key, ttl = self.state.rk.coordinator, int(self.config.lease_ttl * 1000)

        def beat():
            while True:
                try:
                    self.client.set(key, str(os.getpid()), px=ttl)
                except Exception as exc:  # noqa: BLE001 - the wait loop judges outages
                    logger.debug("coordinator heartbeat failed: %s", exc)
                if self._beating.wait(max(0.2, self.config.lease_ttl / 5)):
                    return

        self.client.set(key, str(os.getpid()), px=ttl)
        threading.Thread(target=beat, name="coordinator-heartbeat", daemon=True).start()

    # ------------------------------------------------------------------ seeding
    def _seed(self, again: bool = False) -> None:
        base = self.settings.get("DEMO_BASE_URL")
        crawler = SimpleNamespace(settings=self.settings)
        fingerprinter = build_from_crawler(load_object(self.settings["REQUEST_FINGERPRINTER_CLASS"]), crawler)
        seeder = _Seeder(self.state)
        for name in self.names:
            cls = spider_class(name)
            spider = cls(**self.spider_args)
            spider.bind(cls.source_decl.resolve(base)).session = self.session
            spider.shared = seeder
            spider.crawler = SimpleNamespace(settings=self.settings, stats=_Stats())
            requests = asyncio.run(_requests(spider))
            rk = self.state.rk
            queue = LeasedQueue(self.client, spider, rk.queue(name), serialize, link=self.link, scripts=self.scripts,
                                run_keys=rk, worker="coordinator")
            dupes = BucketedFilter(self.client, rk.filter(name), fingerprinter=fingerprinter, link=self.link,
                                   scripts=self.scripts, buckets=self.config.buckets,
                                   ttl_ms=self.state.ttl_ms)
            for request in requests:  # filter and queue in one atomic step, as workers do
                queue.push_unless_seen(request.replace(dont_filter=True) if again else request, dupes)
            if not again:
                self.seed_spiders[name] = spider
                part = spider.partial()
                part["stats"] = spider.crawler.stats.get_stats()
                self.state.put_partial(name, "coordinator", part)
            logger.info("%s: %d discovery request(s) %squeued", name, len(requests), "re-" if again else "")

    # ------------------------------------------------------------------ waiting
    def _wait(self) -> str:
        cfg = self.config
        drained_before = False
        no_worker_since: float | None = None
        last_note = 0.0
        while True:
            if self.stop:
                return self.stop
            try:
                if self.state.record() is None:
                    return "redis_lost"
                sid = self.link.call(server_id, self.client)
                if sid != self.server_id:
                    self.restarts += 1
                    logger.warning("Redis restarted and kept run %s: seeding discovery again so that nothing "
                                   "the restart lost is missed", self.run_id)
                    self.server_id = sid
                    self.state.set(redis_id=sid, redis_restarts=self.restarts)
                    self._seed(again=True)
                    drained_before = False
                q = self.state.quiesce(self.names)
            except RedisDown:
                if self.link.down_for() >= cfg.redis_timeout:
                    return "redis_unreachable"
                time.sleep(cfg.poll)
                continue
            for worker in q["dead"]:
                logger.warning("worker %s went silent (no heartbeat for %.0fs): its requests went back to the queue",
                               worker, cfg.lease_ttl)
            now = time.monotonic()
            if q["live"] == 0 and not q["drained"]:
                no_worker_since = no_worker_since or now
                if now - no_worker_since >= cfg.worker_wait:
                    return "no_workers"
            else:
                no_worker_since = None
            if q["drained"]:
                if drained_before:
                    return "drained"
                drained_before = True
            else:
                drained_before = False
            if now - last_note >= 30:
                last_note = now
                logger.info("run %s: %d queued, %d in progress, %d worker(s) alive", self.run_id, q["queued"],
                            q["leased"], q["live"])
            time.sleep(cfg.poll)

    def _finish(self, outcome: str) -> None:
        """Tell the workers, wait for them to publish and leave, publish dead workers' journals here."""
        if outcome in ("redis_lost", "redis_unreachable"):
            return
        self.state.set(state=DONE if outcome == "drained" else ABORTED)
        deadline = time.monotonic() + self.config.finish_wait
        while time.monotonic() < deadline:
            try:
                self.state.quiesce(self.names)  # also notices workers that die while publishing
                if not self.state.workers():
                    break
            except RedisDown:
                if self.link.down_for() >= self.config.redis_timeout:
                    break
            time.sleep(self.config.poll)
        else:
            logger.error("workers still publishing after DISTRIBUTED_FINISH_WAIT: %s", self.state.workers())
        report = self.archive.recover(self.settings.get("ARCHIVE_JOURNAL_DIR") or None)
        if report["recovered"]:
            logger.warning("published the journals of %d dead worker run(s) on this machine: %s",
                           len(report["recovered"]), report["recovered"])

    # ------------------------------------------------------------------ the report
    def state_finished_runs(self) -> list[str]:
        try:
            return [f"{self.run_id}.{w}" for w in self.state.finished()]
        except RedisDown:
            return []

    def _dead_journal_note(self, worker: str, handed: int) -> str:
        """What became of a dead worker's journal: published by a recovery (here, or by a worker on
        its machine while the run went on: then the pages it had not acknowledged were fetched again
        and count as duplicates of its rows), or still waiting on its machine."""
        try:
            manifest = self.archive.get_manifest(f"{self.run_id}.{worker}")
        except ArchiveError:
            manifest = None
        if manifest is None:
            return ("its journal is published by `scrapy archive recover` on its machine or when it starts "
                    "again")
        articles = int((manifest.get("rows") or {}).get("articles", 0))
        if not articles:
            return "its journal was recovered (it held no article)"
        return (f"its journal was recovered ({articles} article(s) archived under its run id"
                + ("; the pages it had not acknowledged were fetched again, and count as duplicates of those here)"
                   if handed else ")"))

    def _rows(self, outcome: str) -> list[dict]:
        reason = {"drained": "finished", "shutdown": "shutdown"}.get(outcome, outcome)
        notes: list[str] = []
        dead, finished = {}, {}
        if outcome in ("redis_lost", "redis_unreachable"):
            notes.append("the run's counts were lost with Redis")
        else:
            try:
                dead, finished = self.state.dead(), self.state.finished()
            except RedisDown:
                pass
        for worker, handed in sorted(dead.items()):
            notes.append(f"worker {worker} went silent (died?): {handed} request(s) handed back; "
                         + self._dead_journal_note(worker, handed))
        for worker, result in sorted(finished.items()):
            if result.get("commit_error"):
                notes.append(f"worker {worker} could not publish ({result['commit_error']}): its rows wait in its "
                             f"journal on {result.get('host', '?')} (`scrapy archive recover`)")
        if self.restarts:
            notes.append(f"Redis restarted {self.restarts}x during the run (discovery seeded again)")
        rows = []
        for name in self.names:
            spider = self.seed_spiders.get(name)
            if spider is None:
                spider = spider_class(name)(**self.spider_args)
                spider.source = spider.source_decl.resolve(self.settings.get("DEMO_BASE_URL"))
            found, outcomes, partials = 0, {}, {}
            if outcome not in ("redis_lost", "redis_unreachable"):  # else what Redis holds is not the run's
                try:
                    found, outcomes = self.state.found_table(name)
                    partials = self.state.partials(name)
                except RedisDown:
                    pass
            rows.append(source_row(spider, self.run_id, self.settings, reason, found, outcomes, partials, notes))
        if any(r.get("commit_error") for r in finished.values()):
            for row in rows:
                row["status"] = "failed"
        return sorted(rows, key=lambda r: r["source"])

    def _expire(self) -> None:
        try:
            self.state.expire(self.config.run_ttl)
            current = self.client.get(self.keys.current)
            if current and current.decode() == self.run_id:
                self.client.delete(self.keys.current)
        except Exception as exc:  # noqa: BLE001 - they expire after DISTRIBUTED_RUN_MAX_AGE anyway
            logger.warning("could not set the run's keys to expire: %s", exc)
