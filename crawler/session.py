"""One archive run shared by every crawler of a process.

The spider asks the archive whether an article is already there before it
requests it; the pipelines claim, journal and publish articles. Both reach the
same :class:`ArchiveSession` through :func:`acquire`, keyed by archive URI and
run id, so ``scrapy crawlall`` (many crawlers, one process) makes one run with
one manifest, and ``scrapy crawl`` makes its own.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timezone

from storage import open_archive

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_sessions: dict[tuple[str, str, bool], "ArchiveSession"] = {}
_process_run_id: str | None = None


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def process_run_id() -> str:
    global _process_run_id
    with _lock:
        if _process_run_id is None:
            _process_run_id = new_run_id()
        return _process_run_id


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
    def __init__(self, uri: str, run_id: str, journal_dir: str | None, dry_run: bool):
        self.uri = uri
        self.run_id = run_id
        self.dry_run = dry_run
        self.archive = open_archive(uri)
        self.state = self.archive.dedupe_state()
        if dry_run:
            self.run = None
            self._claims = _DryClaims(self.state)
        else:
            self.run = self.archive.begin_run(run_id, journal_dir=journal_dir or None)
            self._claims = self.run
        self.users = 0
        self.sources: list[str] = []
        self.manifest: dict | None = None
        self.started_at = datetime.now(timezone.utc)

    def known_url(self, article_id: str) -> bool:
        return self.state.lookup_url(article_id)

    def claim(self, article_id: str, content_hash: str):
        with _lock:
            return self._claims.claim(article_id, content_hash)

    def accept(self, dataset: str, row: dict) -> None:
        if self.run is not None:
            self.run.accept(dataset, row)


def acquire(settings, dry_run: bool = False) -> ArchiveSession:
    uri = settings.get("ARCHIVE_URI") or "archive"
    run_id = settings.get("RUN_ID") or process_run_id()
    key = (uri, run_id, bool(dry_run))
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = ArchiveSession(uri, run_id, settings.get("ARCHIVE_JOURNAL_DIR"), bool(dry_run))
            _sessions[key] = session
        session.users += 1
        return session


def release(session: ArchiveSession, summary: dict | None = None) -> dict | None:
    """Drop one user; the last one commits the run (final publish, then the manifest)."""
    with _lock:
        session.users -= 1
        last = session.users <= 0
        if last:
            _sessions.pop((session.uri, session.run_id, session.dry_run), None)
    if not last or session.run is None:
        return None
    try:
        session.manifest = session.run.commit(summary or {})
    finally:
        session.run.close()
    return session.manifest
