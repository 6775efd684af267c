"""What earlier runs fetched, so an incremental crawl requests no article page twice.

The archive's dedupe state (``storage``) knows the ``article_id`` of every archived
article: the id of its canonical URL. That misses every other URL a crawl fetched:
the requested URL when it redirected or the page named another canonical link,
syndicated copies dropped as duplicates, pages that turned out not to be articles,
links that answered 404. Each run therefore writes one small file
``_state/seen/<run_id>.parquet`` (create-only, after the run's commit) with one row
per URL it fetched and what came of it; the next run loads the files of its
sources and skips those URLs before any request.

Outcomes are *final* (``archived``, ``duplicate``, ``unchanged``, ``not_article``,
``gone``, ``refused``: never fetched again by discovery; ``-a urls=`` still
forces them) or *failed* (5xx, timeouts, resets): retried by a later run once
``retry_after`` seconds have passed since the last attempt, at most
``max_attempts`` times. ``outside_window`` and robots refusals are not recorded.

Losing a file costs nothing but requests: the dedupe state still drops what is
archived. The file is an optimisation, never the record of what is archived.
"""

from __future__ import annotations

import io
import logging
import sys
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import clock
from .statefiles import StateFiles

logger = logging.getLogger(__name__)

SEEN_PREFIX = "_state/seen/"
FINAL = ("archived", "duplicate", "unchanged", "not_article", "gone", "refused")
FAILED = "failed"
SEEN_SCHEMA = pa.schema([
    pa.field("url_id", pa.uint64(), nullable=False),      # the 16 hex digits of article_id(url) as a number
    pa.field("source", pa.string(), nullable=False),
    pa.field("outcome", pa.string(), nullable=False),     # one of FINAL, or "failed"
    pa.field("reason", pa.string()),                      # e.g. duplicate_exact, http_503, short_body
    pa.field("published", pa.date32()),                   # publication day (source time zone), if known
    pa.field("at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("attempts", pa.int16()),                     # consecutive failed attempts
    pa.field("url", pa.string()),                         # failed URLs only: asked again directly
    pa.field("via", pa.string()),                         # failed URLs only: how it was discovered
])


def url_number(article_id: str) -> int:
    return int(article_id, 16)


def seen_key(run_id: str) -> str:
    return f"{SEEN_PREFIX}{run_id}.parquet"


class SeenState:
    """Per-URL latest outcome of earlier runs, for some sources. Read-only after ``load``."""

    def __init__(self, retry_after: float = 6 * 3600, max_attempts: int = 5):
        self.retry_after = retry_after
        self.max_attempts = max_attempts
        self.final_ids = np.empty(0, np.uint64)
        self.final_days = np.empty(0, np.int32)   # days since 1970-01-01, -1 when unknown
        self.final_kind: list[str] = []
        self.failed: dict[int, tuple[datetime, int, str, str | None, str | None]] = {}
        self.files = 0

    def load(self, backend, sources: set[str] | None = None) -> "SeenState":
        tables = []
        area = StateFiles(backend, SEEN_PREFIX, ".parquet")
        for key in area.listing():
            data = area.get(key)
            if data is None:  # merged away since the listing; the merged file is listed too
                continue
            try:
                table = pq.read_table(io.BytesIO(data))
            except Exception as exc:  # noqa: BLE001 - an unreadable file only costs requests
                logger.warning("ignoring unreadable seen-URL file %s: %s", key, exc)
                continue
            if sources is not None:
                table = table.filter(pc.is_in(table["source"], pa.array(sorted(sources), pa.string())))
            for name in SEEN_SCHEMA.names:  # files written before a column existed
                if name not in table.column_names:
                    table = table.append_column(name, pa.nulls(table.num_rows, SEEN_SCHEMA.field(name).type))
            tables.append(table.select(SEEN_SCHEMA.names).cast(SEEN_SCHEMA))
            self.files += 1
        if tables:
            self._index(pa.concat_tables(tables))
        return self

    def _index(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        ids = table["url_id"].to_numpy()
        at = pc.cast(table["at"], pa.int64()).to_numpy()
        order = np.lexsort((at, ids))          # by id, then time: the last of each id is its latest
        ids = ids[order]
        last = np.ones(len(ids), bool)
        last[:-1] = ids[1:] != ids[:-1]
        idx = order[last]
        outcome = table["outcome"].take(pa.array(idx)).to_pylist()
        days = pc.cast(table["published"], pa.int32()).take(pa.array(idx)).fill_null(-1).to_numpy()
        attempts = table["attempts"].take(pa.array(idx)).fill_null(1).to_pylist()
        stamps = table["at"].take(pa.array(idx)).to_pylist()
        sources = table["source"].take(pa.array(idx)).to_pylist()
        urls = table["url"].take(pa.array(idx)).to_pylist()
        vias = table["via"].take(pa.array(idx)).to_pylist()
        keep_ids, keep_days, kinds = [], [], []
        for i, (uid, kind) in enumerate(zip(ids[last], outcome)):
            if kind == FAILED:
                self.failed[int(uid)] = (stamps[i], int(attempts[i]), sources[i], urls[i], vias[i])
            else:
                keep_ids.append(uid)
                keep_days.append(days[i])
                kinds.append(kind)
        self.final_ids = np.asarray(keep_ids, np.uint64)   # already sorted
        self.final_days = np.asarray(keep_days, np.int32)
        self.final_kind = kinds

    def __len__(self) -> int:
        return len(self.final_ids) + len(self.failed)

    def lookup(self, article_id: str, now: datetime | None = None) -> tuple[str | None, date | None]:
        """``(skip reason or None, publication day if known)`` of a URL id."""
        uid = url_number(article_id)
        i = int(np.searchsorted(self.final_ids, np.uint64(uid)))
        if i < len(self.final_ids) and int(self.final_ids[i]) == uid:
            kind = self.final_kind[i]
            day = int(self.final_days[i])
            published = date.fromordinal(date(1970, 1, 1).toordinal() + day) if day >= 0 else None
            return ("already_archived" if kind in ("archived", "duplicate", "unchanged") else f"known_{kind}"), published
        failed = self.failed.get(uid)
        if failed is not None:
            last, attempts = failed[:2]
            now = now or clock.now()
            if attempts >= self.max_attempts:
                return "failed_gave_up", None
            if (now - last).total_seconds() < self.retry_after:
                return "failed_recently", None
        return None, None

    def attempts(self, article_id: str) -> int:
        return self.failed.get(url_number(article_id), (None, 0))[1]

    def due(self, source: str, now: datetime | None = None, at_once: bool = False) -> list[tuple[str, str]]:
        """``(url, via)`` of the source's failed URLs to ask again now: a sitemap that no longer
        changes, or a listing page no longer read, would never show them again."""
        now = now or clock.now()
        out = []
        for last, attempts, src, url, via in self.failed.values():
            if src != source or not url or attempts >= self.max_attempts:
                continue
            if at_once or (now - last).total_seconds() >= self.retry_after:
                out.append((url, via or "urls"))
        return sorted(out)


def compact(backend, run_id: str, min_files: int = 50) -> int:
    """Merge the seen-URL files into one (latest row per URL) once there are ``min_files`` of them.

    Run by a crawl that holds the crawl lock, after its own file is written: the merged file is
    published first, the merged ones deleted after, so a reader sees every row at least once
    (a row twice is harmless: the latest wins). Returns how many files were merged.
    """
    area = StateFiles(backend, SEEN_PREFIX, ".parquet")
    keys = area.listing()
    if len(keys) < max(2, min_files):
        return 0
    tables = []
    for key in keys:
        data = area.get(key)
        if data is None:
            continue
        table = pq.read_table(io.BytesIO(data))
        for name in SEEN_SCHEMA.names:
            if name not in table.column_names:
                table = table.append_column(name, pa.nulls(table.num_rows, SEEN_SCHEMA.field(name).type))
        tables.append(table.select(SEEN_SCHEMA.names).cast(SEEN_SCHEMA))
    table = pa.concat_tables(tables)
    ids = table["url_id"].to_numpy()
    at = pc.cast(table["at"], pa.int64()).to_numpy()
    order = np.lexsort((at, ids))
    last = np.ones(len(order), bool)
    last[:-1] = ids[order][1:] != ids[order][:-1]
    merged = table.take(pa.array(order[last]))
    sink = io.BytesIO()
    pq.write_table(merged, sink, compression="zstd")
    if not area.merge(keys, area.key(f"merged-{run_id}"), sink.getvalue(),
                      what=f"seen-URL files ({merged.num_rows} URLs)"):
        return 0
    return len(keys)


class SeenRecorder:
    """Rows of this run, written once at the end (never during a dry run). Each is held as a
    tuple in :data:`SEEN_SCHEMA`'s order after ``url_id`` (its key), with interned strings: a crawl
    keeps one per URL it found."""

    _OUTCOME = SEEN_SCHEMA.names.index("outcome") - 1

    def __init__(self):
        self.rows: dict[int, tuple] = {}

    def record(self, article_ids, source: str, outcome: str, reason: str | None = None,
               published: date | None = None, attempts: int | None = None, url: str | None = None,
               via: str | None = None) -> None:
        at = clock.now()
        failed = outcome == FAILED
        row = (sys.intern(source), sys.intern(outcome), sys.intern(reason) if reason else reason, published, at,
               attempts, url if failed else None, via if failed else None)
        for aid in article_ids:
            uid = url_number(aid)
            prev = self.rows.get(uid)
            if prev is not None and prev[self._OUTCOME] != FAILED and failed:
                continue  # a success of this run is not undone by a later failed copy
            self.rows[uid] = row

    def __len__(self) -> int:
        return len(self.rows)

    def to_bytes(self) -> bytes:
        columns = list(zip(*((uid, *values) for uid, values in self.rows.items()))) or [[] for _ in SEEN_SCHEMA]
        table = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, SEEN_SCHEMA)],
                                     schema=SEEN_SCHEMA)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()

    def write(self, backend, run_id: str) -> str | None:
        if not self.rows:
            return None
        key = seen_key(run_id)
        StateFiles(backend, SEEN_PREFIX, ".parquet").put(key, self.to_bytes())
        return key
