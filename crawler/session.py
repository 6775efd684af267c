"""One archive run shared by every crawler of a process.

The spider asks the archive whether an article is already there before it
requests it; the pipelines claim, journal and publish articles. Both reach the
same :class:`ArchiveSession` through :func:`acquire`, keyed by archive URI and
run id, so ``scrapy crawlall`` (many crawlers, one process) makes one run with
one manifest, and ``scrapy crawl`` makes its own.

Besides the archive's dedupe state the session holds the seen-URL state of
earlier runs (:mod:`storage.seen`), the rows of the run report (one per source,
accepted into the ``runs`` dataset before the run commits) and, for reruns with
``-a urls=``, the latest archived version of each article.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import Future
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from crawler.recovery import complete_recovered as complete_recovered_seen
from crawler.runkind import crawl_kind
from storage import clock
from storage.seen import SeenRecorder, SeenState
from storage.seen import compact as compact_seen

# what a spider reads of earlier runs when it opens: its last complete crawl, and the drift rule's history
HISTORY_COLUMNS = ("run_id", "source", "started_at", "status", "dropped", "notes", "articles_archived",
                   "completeness_title", "completeness_body", "completeness_date", "completeness_authors")

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_sessions: dict[tuple[str, str, bool], "ArchiveSession"] = {}
_finished: list["ArchiveSession"] = []
_process_run_id: str | None = None


DEFAULT_ARCHIVE_URI = "archive"


def archive_uri(settings, given: str | None = None) -> str:
    """The archive a command or crawl works on: ``given`` (a command option), else ``ARCHIVE_URI``."""
    return given or settings.get("ARCHIVE_URI") or DEFAULT_ARCHIVE_URI


def new_run_id(now: datetime | None = None) -> str:
    now = now or clock.now()
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def process_run_id(continuing: str | None = None) -> str:
    """The run id of this process's crawls: new, or ``continuing`` (a killed run of the same job,
    ``storage.Archive.resumable_run``) when given before the first crawler asks."""
    global _process_run_id
    with _lock:
        if _process_run_id is None:
            _process_run_id = continuing or new_run_id()
        return _process_run_id


def run_job(names, spider_args: dict | None) -> str:
    """What a crawl does, as its journal records it: a rerun of the same job continues a run of it
    that was killed (the sources and every spider argument: a window or a URL list is another job)."""
    import json

    return json.dumps({"sources": sorted(names), "args": sorted((spider_args or {}).items())},
                      sort_keys=True, default=str)


class _DryClaims:
    """In-memory claims for a dry run: nothing is journaled or published."""

    def __init__(self, state):
        self.state = state
        self.urls: dict[str, str] = {}
        self.hashes: dict[str, str] = {}

    def claim(self, article_id: str, content_hash: str):
        if article_id in self.urls or self.state.lookup_url(article_id):
            return "url", article_id
        kept = self.hashes.get(content_hash) or self.state.lookup_hash(content_hash)
        if kept:
            return "exact", kept
        self.urls[article_id] = content_hash
        self.hashes[content_hash] = article_id
        return "new", None


class ArchiveSession:
    def __init__(self, uri: str, run_id: str, journal_dir: str | None, dry_run: bool,
                 retry_failed_after: float = 6 * 3600, max_failed_attempts: int = 5,
                 journal_group: tuple[int, float] | None = None, job: str | None = None,
                 resolver_factory=None, part_dir: str | None = None):
        from storage import (
            open_archive,  # storage is imported only when a crawl opens the archive
        )

        self.uri = uri
        self.run_id = run_id
        self.dry_run = dry_run
        rows, ms = journal_group or (None, None)
        group = {} if journal_group is None else {"journal_group_rows": rows, "journal_group_ms": ms}
        self.archive = open_archive(uri, **group)
        self.archive.resolver_factory = resolver_factory  # runs it recovers: their copies decided
        self.state = self.archive.dedupe_state()
        self._carried: dict[tuple[str, str], tuple[str, dict]] = {}
        if dry_run:
            self.run = None
            self._claims = _DryClaims(self.state)
        else:
            # a part of a run (crawler/parts.py) leaves recovery to its parent: a sibling's journal
            # being created must not look dead to it
            self.run = self.archive.begin_run(run_id, journal_dir=journal_dir or None, job=job,
                                              recover=part_dir is None)
            self._claims = self.run
            if self.run.resumed:
                from crawler.recovery import carried_outcomes

                self._carried = carried_outcomes(self.run.carried)
                logger.warning("run %s continues: %d rows of its killed process are kept, their pages not "
                               "fetched again", run_id, len(self.run.carried))
        self.part_dir = part_dir  # a part: its parent journals the report rows and orders the publishing
        self.users = 0
        self.sources: list[str] = []
        self.manifest: dict | None = None
        self.commit_error: str | None = None
        self.run_rows: list[dict] = []
        self._deferred_rows: list = []  # the spiders' run report rows, built once copies are decided
        self.started_at = clock.now()
        self.seen = SeenState(retry_failed_after, max_failed_attempts)
        self._seen_loaded = False
        self.recorder = SeenRecorder()
        self.seen_compact_files = 50
        self._versions: dict[str, dict[str, tuple[int, str]]] = {}
        self._last_full: dict[str, datetime] | None = None
        self._last_cut_short: dict[str, datetime] = {}
        self._history: dict[str, list[dict]] = {}
        self._new_versions: dict[str, tuple[int, str]] = {}
        self._published: tuple[datetime, dict[str, list[datetime]]] | None = None

    # ------------------------------------------------------------------ before a request
    def load_seen(self) -> None:
        """Load what earlier runs fetched (once per session; every source's URLs, 16 bytes each)."""
        with _lock:
            if self._seen_loaded:
                return
            self._seen_loaded = True
            if not self.dry_run:  # runs recovery published never wrote their file: write it first
                complete_recovered_seen(self.archive)
            self.seen.load(self.archive.backend)

    def skip_reason(self, article_id: str):
        """``(reason, publication day)``: why the URL of ``article_id`` needs no request, or None."""
        if self.state.lookup_url(article_id):
            _, day = self.seen.lookup(article_id)
            return "already_archived", day
        return self.seen.lookup(article_id)

    def carried_outcome(self, source: str, article_id: str) -> tuple[str, dict] | None:
        """``(outcome, row)`` when this run continues a killed one whose journal holds the URL of
        ``article_id`` (outcome ``archived`` or ``duplicate_<method>``): its page is not fetched
        again and counts as the killed process counted it."""
        return self._carried.get((source, article_id))

    def known_url(self, article_id: str) -> bool:
        return self.skip_reason(article_id)[0] is not None

    def last_full_run(self, source: str) -> datetime | None:
        """When the last complete, unrestricted, ``ok`` crawl of ``source`` started (None if never):
        a sitemap last modified before it holds nothing that crawl did not see."""
        with _lock:
            if self._last_full is None:
                self._last_full = self._load_last_full()
            return self._last_full.get(source)

    def _load_last_full(self) -> dict[str, datetime]:
        try:
            table = self.archive.read_table("runs", columns=list(HISTORY_COLUMNS), skip_corrupt=True)
        except Exception as exc:  # noqa: BLE001 - without it every sitemap is read, which is only slower
            logger.warning("could not read earlier runs: %s", exc)
            return {}
        out: dict[str, datetime] = {}
        self._last_cut_short = {}
        self._history = {}
        for row in sorted(table.to_pylist(), key=lambda r: r["started_at"]):
            self._history.setdefault(row["source"], []).append(row)
            kind = crawl_kind(row)
            if kind == "restricted":
                continue
            latest = self._last_cut_short if kind == "cut_short" else out
            if row["source"] not in latest or row["started_at"] > latest[row["source"]]:
                latest[row["source"]] = row["started_at"]
        return out

    def recent_runs(self, source: str) -> list[dict]:
        """The ``runs`` rows of ``source`` before this run, oldest first (for the drift rule)."""
        self.last_full_run(source)
        return list(self._history.get(source, ()))

    def daily_counts(self, source: str, tz, first: date, last: date) -> dict[date, int] | None:
        """Articles of ``source`` the archive holds per local publication day (zone ``tz``) from
        ``first`` to ``last``, before this run commits (for the drift rule's daily count); None when
        the archive could not be read. One read per session: every source's recent publication times."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        lo = datetime.combine(first - timedelta(days=1), time.min, timezone.utc)
        hi = datetime.combine(last + timedelta(days=2), time.min, timezone.utc)
        with _lock:
            if self._published is None or self._published[0] > lo:
                try:
                    self._published = (lo, self._load_published(lo))
                except Exception as exc:  # noqa: BLE001 - without it the count is not judged, which the notes say
                    logger.warning("could not read the archive's recent articles for the drift rule: %s", exc)
                    return None
            times = self._published[1].get(source, ())
        counts: dict[date, int] = {}
        for when in times:
            if lo <= when < hi:
                day = when.astimezone(zone).date()
                if first <= day <= last:
                    counts[day] = counts.get(day, 0) + 1
        return counts

    def _load_published(self, lo: datetime) -> dict[str, list[datetime]]:
        import pyarrow as pa
        import pyarrow.dataset as pads

        from storage.schema import TS

        dataset = self.archive.arrow_dataset("articles", skip_corrupt=True)
        table = dataset.to_table(columns=["source", "published_at"],
                                 filter=pads.field("published_at") >= pa.scalar(lo, type=TS))
        out: dict[str, list[datetime]] = {}
        for source, when in zip(table.column("source").to_pylist(), table.column("published_at").to_pylist()):
            out.setdefault(source, []).append(when)
        return out

    def last_run_complete(self, source: str) -> bool:
        """True when ``source`` had a complete crawl and none cut short since: only then does a listing
        page of known articles prove the older pages hold nothing new (a run stopped by max_articles or
        a failure may have archived a page's newest articles and never reached the older ones)."""
        full = self.last_full_run(source)
        cut = self._last_cut_short.get(source)
        return full is not None and (cut is None or cut < full)

    # ------------------------------------------------------------------ pipelines
    def claim(self, article_id: str, content_hash: str):
        with _lock:
            return self._claims.claim(article_id, content_hash)

    def wrap_claims(self, wrap) -> None:
        """Distributed mode (crawler/distributed/claims.py): ``wrap(claims)`` decides first (once per session)."""
        with _lock:
            if not getattr(self, "_claims_wrapped", False):
                self._claims = wrap(self._claims)
                self._claims_wrapped = True

    def accept(self, dataset: str, row: dict) -> None:
        """Journal ``row``; durable when this returns (one fsync, in the caller's thread)."""
        if self.run is not None:
            self.run.accept(dataset, row)

    def accept_grouped(self, dataset: str, row: dict) -> Future:
        """Queue ``row`` for the journal's next group commit: the future is done once it is durable
        (``JOURNAL_GROUP_ROWS`` / ``JOURNAL_GROUP_MS``; storage/groupcommit.py). A dry run: done at once."""
        if self.run is not None:
            return self.run.accept_grouped(dataset, row)
        done: Future = Future()
        done.set_result(None)
        return done

    def latest_version(self, source: str, article_id: str) -> tuple[int, str] | None:
        """``(version, content_hash)`` of the newest archived copy of ``article_id``, or None."""
        with _lock:
            if article_id in self._new_versions:
                return self._new_versions[article_id]
            loaded = self._versions.get(source)
        if loaded is None:
            loaded = self._load_versions(source)
            with _lock:
                self._versions[source] = loaded
        return loaded.get(article_id)

    def note_version(self, article_id: str, version: int, content_hash: str) -> None:
        with _lock:
            self._new_versions[article_id] = (version, content_hash)

    def _load_versions(self, source: str) -> dict[str, tuple[int, str]]:
        import pyarrow.dataset as pads

        prefix = f"articles/site={source}/"
        keys = [k for k in self.archive.files("articles") if k.startswith(prefix)]
        if not keys:
            return {}
        fs, root = self.archive.backend.arrow_filesystem()
        table = pads.dataset([f"{root}/{k}" for k in keys], format="parquet", filesystem=fs).to_table(
            columns=["article_id", "version", "content_hash"])
        out: dict[str, tuple[int, str]] = {}
        for aid, version, chash in zip(*(table[c].to_pylist() for c in ("article_id", "version", "content_hash"))):
            if aid not in out or version > out[aid][0]:
                out[aid] = (version, chash)
        return out

    # ------------------------------------------------------------------ the run report
    def add_run_row(self, row: dict) -> None:
        self.run_rows.append(row)
        if self.run is not None and self.part_dir is None:
            self.run.accept("runs", row)

    def defer_run_row(self, build) -> None:
        """``build(demotions) -> row``: a spider's run report row, built when the last crawler
        releases the session, after the run's copies are decided (a copy archived while crawling
        may become a duplicate then: ``demotions``, storage.run.Run.demotions)."""
        self._deferred_rows.append(build)

    def settle(self) -> None:
        """Decide the run's copies (publish what is journaled), publish the near-duplicate index,
        then build and journal the spiders' run report rows with those decisions."""
        demotions: list = []
        if self.run is not None and self.part_dir is not None:
            from crawler.partfiles import wait_turn

            wait_turn(self.part_dir, self.run_id)  # the earlier parts of the run publish first
        if self.run is not None:
            try:
                self.run.settle()
                if self.run.resolver is not None:
                    self.run.resolver.publish(self.run.run_id, self.accept)
            except Exception as exc:  # noqa: BLE001 - the rows stay journaled; the commit publishes them
                logger.error("run %s: the copies could not be decided before the report: %s", self.run_id, exc)
            demotions = list(self.run.demotions)
        deferred, self._deferred_rows = self._deferred_rows, []
        for build in deferred:
            try:
                self.add_run_row(build(demotions))
            except Exception as exc:  # noqa: BLE001 - the articles matter more than their report
                logger.error("could not journal a run report row of run %s: %s", self.run_id, exc)


def journal_group(settings) -> tuple[int, float]:
    """``(JOURNAL_GROUP_ROWS, JOURNAL_GROUP_MS)``, checked: a bad value is an ``ArchiveConfigError``
    naming the setting, raised before the crawl opens anything."""
    from storage import ArchiveConfigError
    from storage.groupcommit import DEFAULT_MS, DEFAULT_ROWS, MAX_MS, MAX_ROWS, check

    raw_rows, raw_ms = settings.get("JOURNAL_GROUP_ROWS", DEFAULT_ROWS), settings.get("JOURNAL_GROUP_MS", DEFAULT_MS)
    try:
        rows = int(str(raw_rows).strip()) if not isinstance(raw_rows, (int, float)) else raw_rows
        if isinstance(rows, float) and rows.is_integer():
            rows = int(rows)
        check(rows, DEFAULT_MS)
    except (ValueError, ArchiveConfigError):
        raise ArchiveConfigError(f"JOURNAL_GROUP_ROWS={raw_rows!r}: must be a whole number of rows from 1 to "
                                 f"{MAX_ROWS} (1: an fsync per row)") from None
    try:
        ms = float(str(raw_ms).strip()) if not isinstance(raw_ms, (int, float)) else raw_ms
        check(rows, ms)
    except (ValueError, ArchiveConfigError):
        raise ArchiveConfigError(f"JOURNAL_GROUP_MS={raw_ms!r}: must be a number of milliseconds from 0 to "
                                 f"{MAX_MS:g} (0: no wait, a batch is what arrived during the last fsync)") from None
    return rows, float(ms)


def acquire(settings, dry_run: bool = False) -> ArchiveSession:
    from pipelines.neardup import params_from_settings, recovery_resolver

    uri = archive_uri(settings)
    group = journal_group(settings)
    run_id = settings.get("RUN_ID") or process_run_id()
    key = (uri, run_id, bool(dry_run))
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = ArchiveSession(
                uri, run_id, settings.get("ARCHIVE_JOURNAL_DIR"), bool(dry_run),
                retry_failed_after=settings.getfloat("SEEN_RETRY_FAILED_AFTER", 6 * 3600),
                max_failed_attempts=settings.getint("SEEN_MAX_FAILED_ATTEMPTS", 5),
                journal_group=group, job=settings.get("RUN_JOB") or None,
                part_dir=settings.get("RUN_PART_DIR") or None,
                resolver_factory=(recovery_resolver(params_from_settings(settings))
                                  if settings.getbool("NEARDUP_ENABLED", True) else None),
            )
            session.seen_compact_files = settings.getint("SEEN_COMPACT_FILES", 50)
            _sessions[key] = session
        session.users += 1
        return session


def release(session: ArchiveSession, summary: dict | None = None) -> dict | None:
    """Drop one user; the last one commits the run (final publish, then the manifest),
    then writes the run's seen-URL file."""
    with _lock:
        session.users -= 1
        last = session.users <= 0
        if last:
            _sessions.pop((session.uri, session.run_id, session.dry_run), None)
            _finished.append(session)
    if not last:
        return None
    session.settle()
    if session.run is None:
        return None
    try:
        session.manifest = session.run.commit(summary or {})
        if session.manifest.get("status") == "unpublished":
            session.commit_error = session.manifest.get("error") or "unpublished"
    except Exception as exc:  # the journal keeps the rows; `scrapy archive recover` publishes them
        session.commit_error = f"{type(exc).__name__}: {exc}"
        logger.error("run %s could not be committed: %s", session.run_id, session.commit_error)
        raise
    finally:
        session.run.close()
    if session.commit_error is None:
        try:
            session.recorder.write(session.archive.backend, session.run_id)
            compact_seen(session.archive.backend, session.run_id, session.seen_compact_files)
        except Exception as exc:  # noqa: BLE001 - losing it only costs requests next run
            logger.warning("could not write the seen-URL file of run %s: %s", session.run_id, exc)
    return session.manifest


def finished_sessions() -> list[ArchiveSession]:
    """Sessions of this process whose last user released them (for the commands' reports)."""
    with _lock:
        return list(_finished)
