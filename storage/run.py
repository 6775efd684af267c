"""One crawl's writes to the archive: claim, accept (journaled), flush (publish), commit.

The commit protocol of a segment k (rows [a, b) of the journal), see docs/STORAGE.md:

1. take the archive lock; read claims other writers published since we last looked;
2. decide which rows are already archived (-> ``duplicates``), journal that as ``intent k``;
3. publish ``_state/claims/<run>-<k>.parquet`` (create-only): from now on every writer sees them;
4. write each Parquet file locally, check its footer, publish it create-only;
5. journal ``done k``; release the lock.

``commit`` publishes the last segment (with the ``runs`` rows) and then the manifest
``_manifests/<run_id>.json``, the run's commit record, last. A crash anywhere is repaired by
replaying the journal: an ``intent`` whose claims file exists is redone as recorded (same
names, same bytes); one whose claims file is missing is decided again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

from . import clock, groupcommit, publish, recovered
from .errors import ArchiveError, InvalidRow, StoreUnavailable
from .faults import fault
from .groupcommit import GroupCommit
from .journal import Journal
from .parquet import to_table, write_file
from .rows import hash64, normalize
from .state import claims_bytes, claims_key

log = logging.getLogger(__name__)


def manifest_key(run_id: str) -> str:
    return f"_manifests/{run_id}.json"


_SUMMARY = ("source", "url", "canonical_url", "article_id", "published_at", "title", "authors", "method")


def _summary(row: dict) -> dict:
    """What the crawl's report needs of a row it did not accept itself (no text)."""
    out = {k: row[k] for k in _SUMMARY if k in row}
    if "body" in row:
        out["has_body"] = bool((row.get("body") or "").strip())
    if "duplicate_url" in row:
        out["url"] = row["duplicate_url"]
    return out


class Run:
    def __init__(self, archive, run_id: str, journal: Journal, *, lock_timeout: float = 600.0,
                 publish_timeout: float = 60.0, retry_initial: float = 0.5, retry_max: float = 30.0,
                 journal_group_rows: int = groupcommit.DEFAULT_ROWS,
                 journal_group_ms: float = groupcommit.DEFAULT_MS):
        self.archive = archive
        self.backend = archive.backend
        self.run_id = run_id
        self.journal = journal
        self.state = archive.dedupe_state(allow_unloaded=True)
        self.lock_timeout = lock_timeout
        self.publish_timeout = publish_timeout
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self._mutex = threading.RLock()
        # rows of accept_grouped wait here for their batch's one fsync (no thread until the first)
        self.group = GroupCommit(self._write_rows, journal_group_rows, journal_group_ms, name=str(journal.folder))
        # accepted, not yet in a done segment: (seq, dataset, row, or where the journal holds it)
        self._rows: list[tuple[int, str, dict | tuple[int, int]]] = []
        self._runs_rows: list[tuple[int, str, dict]] = []  # held for the final segment
        self._seq = 0
        self._upto = 0  # first seq not covered by a done segment
        self._intents: dict[int, dict] = {}
        self._done: dict[int, dict] = {}
        # the crawl's near-duplicate index (set_resolver): decides the near copies of a segment
        self.resolver = None
        # copies found when a segment of this process was decided: (method, kept, similarity, row)
        self.demotions: list[tuple[str, str, float, dict]] = []
        # a rerun that continues this run (same id, after a kill): what the journal held before
        self.carried: list[tuple[str, dict]] = []  # (outcome: "archived" | "duplicate_<method>", row)
        self.resumed = False
        # article ids this run claimed but whose row lost its text to another writer at publish:
        # its duplicates rows must point at the copy that was kept instead
        self._redirect: dict[str, str] = {}
        self.committed = False
        self.closed = False
        self.manifest: dict | None = None
        self.started_at = clock.now()
        # store-unavailable bookkeeping
        self._first_failure: float | None = None
        self._next_attempt = 0.0
        self._backoff = retry_initial
        self.publish_attempts_failed = 0
        self.publish_delay_s = 0.0
        self.last_error: str | None = None
        self._replay()

    # ------------------------------------------------------------------ replay
    def _replay(self) -> None:
        started = False
        carried: list[tuple[int, str, dict]] = []
        for rec in self.journal.records():
            kind = rec.get("t")
            if kind == "row":
                self._seq = rec["seq"] + 1
                item = (rec["seq"], rec["d"], rec["r"])
                (self._runs_rows if rec["d"] == "runs" else self._rows).append(item)
                if rec["d"] != "runs":
                    carried.append((rec["seq"], rec["d"], _summary(rec["r"])))
            elif kind == "intent":
                self._intents[rec["k"]] = rec
                self._redirect.update(rec.get("redirect", {}))
            elif kind == "done":
                self._done[rec["k"]] = rec
                self._upto = max(self._upto, rec["b"])
            elif kind == "committed":
                self.committed = True
            elif kind == "started" and not started:
                self.started_at = datetime.fromisoformat(rec["at"])
                started = True
        self._rows = [r for r in self._rows if r[0] >= self._upto]
        finals = [d["b"] for d in self._done.values() if d.get("final")]
        if finals:
            self._runs_rows = [r for r in self._runs_rows if r[0] >= max(finals)]
        self.resumed = started and not self.committed
        demoted = {seq: d[0] for i in self._intents.values() if i["k"] in self._done
                   for seq, d in i["demote"].items()}
        for seq, dataset, row in carried:
            if dataset == "articles":
                method = demoted.get(str(seq))
                self.carried.append((f"duplicate_{method}" if method else "archived", row))
            else:
                self.carried.append((f"duplicate_{row['method']}", row))
        if not started:
            self.journal.append([{"t": "started", "at": self.started_at.isoformat()}])

    # ------------------------------------------------------------------ the crawl's side
    def claim(self, article_id: str, content_hash: str) -> tuple[str, str | None]:
        """``("url" | "exact", kept)`` when the archive holds the URL or the text already (earlier
        runs, this run's published segments, concurrent writers), else ``("new", None)``. Copies
        among this run's unpublished rows are not decided here, in crawl order, but when their
        segment is published (:func:`storage.publish.decide`, in a fixed order)."""
        uk, hk = hash64(article_id), hash64(content_hash)
        with self._mutex:
            if self.state.has_url_key(uk):
                return ("url", self._redirect.get(article_id, article_id))
            owner = self.state.owner_of_hash_key(hk)
            if owner is not None:
                return ("exact", self._redirect.get(owner, owner))
            return ("new", None)

    def set_resolver(self, resolver) -> None:
        """The near-duplicate decisions of every segment: ``resolver.begin()`` gives the segment's
        ``match(row)`` / ``keep(row)`` (see :func:`storage.publish.decide`); ``resolver.kept(kept,
        copies)`` is told the articles of each published segment. Storage knows nothing of how it decides."""
        with self._mutex:
            self.resolver = resolver

    def settle(self) -> None:
        """Publish every accepted row now (a segment, not the final one), so that which rows are
        copies is decided (``demotions``) before the run report is written. The store down: the
        rows stay journaled and are decided at commit."""
        self.group.flush()
        with self._mutex:
            try:
                self._publish(final=False)
            except StoreUnavailable as exc:
                self._failed(exc)

    def accept(self, dataset: str, row: dict) -> None:
        self.accept_many(dataset, [row])

    def accept_many(self, dataset: str, rows: list[dict]) -> None:
        """Journal rows with one fsync (with any rows of ``accept_grouped`` still waiting, written
        before them); on return they survive any crash."""
        self.group.commit_now(self._checked(dataset, rows))

    def accept_grouped(self, dataset: str, rows: list[dict] | dict) -> Future:
        """Queue rows for the journal's next group commit (``journal_group_rows`` rows waiting or
        ``journal_group_ms`` after the batch's first). The future's ``result()`` is None once they
        survive any crash, or raises :class:`NotDurable` (never acknowledged) if their batch failed.
        A bad row raises here, at once."""
        return self.group.submit(self._checked(dataset, [rows] if isinstance(rows, dict) else rows))

    def _checked(self, dataset: str, rows: list[dict]) -> list[tuple[str, dict]]:
        if self.closed:
            raise ArchiveError(f"run {self.run_id} is closed")
        clean = [normalize(dataset, row) for row in rows]
        for row in clean:
            if row["run_id"] != self.run_id:
                raise InvalidRow(dataset, f"run_id {row['run_id']!r} is not this run's {self.run_id!r}")
        return [(dataset, row) for row in clean]

    def _write_rows(self, rows: list[tuple[str, dict]]) -> None:
        """One batch of the group commit: one journal append (one write, one fsync), then the
        rows join the run's buffer. The run's order of rows (``seq``) is the journal's."""
        with self._mutex:
            if self.closed:
                raise ArchiveError(f"run {self.run_id} is closed")
            spans = self.journal.append([{"t": "row", "d": dataset, "r": row} for dataset, row in rows])
            for (dataset, row), span in zip(rows, spans):
                # an article's text waits in the journal, not in memory, until its segment is published
                item = (self._seq, dataset, row if dataset == "runs" else span)
                (self._runs_rows if dataset == "runs" else self._rows).append(item)
                self._seq += 1

    def published_files(self) -> list[dict]:
        """The files this run's segments published so far (its journal's ``done`` records)."""
        with self._mutex:
            return [f for k in sorted(self._done) for f in self._done[k]["files"]]

    @property
    def pending_rows(self) -> int:
        return len(self._rows) + len(self._runs_rows)

    # ------------------------------------------------------------------ publishing
    def flush(self) -> list[str]:
        """Publish what was accepted so far. If the store is down, keep it journaled and return []."""
        with self._mutex:
            if time.monotonic() < self._next_attempt:
                return []
            try:
                return self._publish(final=False)
            except StoreUnavailable as exc:
                self._failed(exc)
                return []

    def _failed(self, exc: StoreUnavailable) -> None:
        now = time.monotonic()
        if self._first_failure is None:
            self._first_failure = now
        self.publish_attempts_failed += 1
        self.last_error = str(exc)
        self._next_attempt = now + self._backoff
        log.warning("archive %s unavailable (%s); %d rows journaled, retry in %.1fs",
                    self.backend.display_uri, exc.cause, self.pending_rows, self._backoff)
        self._backoff = min(self._backoff * 2, self.retry_max)

    def _succeeded(self) -> None:
        if self._first_failure is not None:
            delay = time.monotonic() - self._first_failure
            self.publish_delay_s += delay
            log.warning("archive %s answered again; published %.1fs late", self.backend.display_uri, delay)
        self._first_failure, self._backoff, self._next_attempt = None, self.retry_initial, 0.0

    def _publish(self, final: bool) -> list[str]:
        keys: list[str] = []
        # A segment whose intent was journaled but not finished (crash, store down) goes first.
        for k in sorted(set(self._intents) - set(self._done)):
            intent = self._intents[k]
            keys += self._publish_segment(k, intent["a"], intent["b"], intent["final"])
        if self._seq > self._upto or (final and self._runs_rows):
            k = max([*self._intents, *self._done], default=-1) + 1
            keys += self._publish_segment(k, self._upto, self._seq, final)
        self._succeeded()
        return keys

    def _segment_rows(self, a: int, b: int, final: bool):
        rows = [r for r in self._rows if a <= r[0] < b]
        if final:
            rows += [r for r in self._runs_rows if r[0] < b]
        read = self.journal.read_record
        return sorted(((seq, dataset, row if isinstance(row, dict) else read(row)["r"])
                       for seq, dataset, row in rows), key=lambda r: r[0])

    def _publish_segment(self, k: int, a: int, b: int, final: bool) -> list[str]:
        fault("flush.before_lock")
        rows = self._segment_rows(a, b, final)
        ckey = claims_key(self.run_id, k)
        with self.backend.lock(f"run={self.run_id} segment={k}", timeout=self.lock_timeout):
            fault("flush.locked")
            intent = self._intents.get(k)
            claimed = self.backend.exists(ckey)
            if intent is None and claimed:
                # claims are written only after their decision is journaled: these are another
                # run's of the same id (started while the store did not answer, so not refused)
                raise ArchiveError(f"run id {self.run_id} already published segment {k} in {self.backend.display_uri}: "
                                   f"a run id is used once; the rows stay in the journal {self.journal.folder}")
            # Once its claims file exists, a segment's recorded decisions are final.
            if intent is None or not claimed:
                self.state.refresh()
                near = self.resolver.begin() if self.resolver is not None else None
                demote = publish.decide(rows, self.state, near)
                redirect = publish.redirects(rows, demote, self.state)
                intent = {"t": "intent", "k": k, "a": a, "b": b, "final": final, "demote": demote,
                          "redirect": redirect}
                self.journal.append([intent])
                self._intents[k] = intent
                fault("flush.after_intent")
                kept = publish.kept_articles(rows, demote)
                self.backend.put_bytes(ckey, claims_bytes(
                    [hash64(r["article_id"]) for r in kept], [hash64(r["content_hash"]) for r in kept],
                    [r["article_id"] for r in kept]))
                fault("flush.after_claims")
            demote = intent["demote"]
            self._redirect.update(intent.get("redirect", {}))
            redirect = {}  # every redirect decided up to this segment, as recorded
            for j in sorted(i for i in self._intents if i <= k):
                redirect.update(self._intents[j].get("redirect", {}))
            files = []
            tmpdir = self.journal.folder / "tmp"
            tmpdir.mkdir(exist_ok=True)
            # runs rows go to part-<run_id>.parquet; a later final segment (rows accepted after a
            # commit that could not publish) gets its own name
            first_final = not any(d.get("final") for d in self._done.values() if d["k"] < k)
            plan = publish.plan_files(self.run_id, k, rows, demote, final, first_final, redirect)
            for key, (dataset, group) in plan.items():
                local = tmpdir / Path(key).name.replace(".parquet", f".{dataset}.{len(files)}.tmp")
                info = write_file(to_table(dataset, group), str(local), dataset)
                fault("flush.after_local_write")
                created = self.backend.put_file(str(local), key)
                local.unlink()
                fault("flush.after_file")
                files.append({"key": key, "dataset": dataset, "rows": info.rows, "bytes": info.bytes,
                              "sha256": info.sha256, "created": created})
            done = {"t": "done", "k": k, "a": a, "b": b, "final": final, "files": files, "claims": ckey}
            self.journal.append([done])
            fault("flush.after_done")
        self._done[k] = done
        kept = publish.kept_articles(rows, demote)
        self.state.add([hash64(r["article_id"]) for r in kept], [hash64(r["content_hash"]) for r in kept],
                       [r["article_id"] for r in kept], files=[ckey])
        by_seq = {str(seq): row for seq, dataset, row in rows if dataset == "articles"}
        for seq, (method, kept_id, *sim) in demote.items():
            if seq in by_seq:
                self.demotions.append((method, kept_id, (sim or [1.0])[0], _summary(by_seq[seq])))
        if self.resolver is not None:
            self.resolver.kept(kept, [by_seq[seq] for seq in demote if seq in by_seq])
        self._upto = max(self._upto, b)
        self._rows = [r for r in self._rows if r[0] >= self._upto]
        if final:
            self._runs_rows = [r for r in self._runs_rows if r[0] >= b]
        return [f["key"] for f in files]

    # ------------------------------------------------------------------ the end
    def commit(self, summary: dict | None = None, status: str = "committed") -> dict:
        """Publish everything, then the manifest (last). If the store stays down past
        ``publish_timeout``, return ``{"status": "unpublished", ...}`` and keep the journal.
        Rows of ``accept_grouped`` still waiting are written first (their futures fail if they
        cannot be)."""
        self.group.flush()  # before the mutex: the group commit takes it (groupcommit.py, lock order)
        with self._mutex:
            if self.manifest is not None:
                return self.manifest
            deadline = time.monotonic() + self.publish_timeout
            while True:
                try:
                    if not self.committed:
                        self._publish(final=True)
                        manifest = self._write_manifest(summary or {}, status)
                    else:
                        manifest = json.loads(self.backend.get_bytes(manifest_key(self.run_id)))
                    if status == "recovered":
                        # this process did not accept the rows: the state their crawl keeps beside
                        # them (near-dup index, seen URLs) may lack them (storage/recovered.py)
                        recovered.record(self.backend, self.run_id,
                                         [f for k in sorted(self._done) for f in self._done[k]["files"]])
                        fault("commit.after_recovered")
                    break
                except StoreUnavailable as exc:
                    self._failed(exc)
                    if time.monotonic() + self._backoff > deadline:
                        return {"run_id": self.run_id, "status": "unpublished", "error": str(exc),
                                "unpublished_rows": self.pending_rows,
                                "journal": str(self.journal.folder)}
                    time.sleep(max(0.0, self._next_attempt - time.monotonic()))
            self.journal.append([{"t": "committed"}])
            fault("commit.after_journal")
            self.manifest = manifest
            self.committed = True
            self.journal.remove()
            self.closed = True
            self.backend.remove_temporaries(run_id=self.run_id)
            return manifest

    def _write_manifest(self, summary: dict, status: str) -> dict:
        files = [f for k in sorted(self._done) for f in self._done[k]["files"]]
        rows: dict[str, int] = {}
        for f in files:
            rows[f["dataset"]] = rows.get(f["dataset"], 0) + f["rows"]
        manifest = {
            "run_id": self.run_id,
            "status": status,
            "started_at": self.started_at.isoformat(),
            "finished_at": clock.now().isoformat(),
            "segments": len(self._done),
            "rows": rows,
            "files": [{k: f[k] for k in ("key", "dataset", "rows", "bytes", "sha256")} for f in files],
            "claims": [self._done[k]["claims"] for k in sorted(self._done)],
            "publish_delay_s": round(self.publish_delay_s, 3),
            "publish_attempts_failed": self.publish_attempts_failed,
            "summary": summary,
        }
        fault("commit.before_manifest")
        created = self.backend.put_bytes(manifest_key(self.run_id), json.dumps(manifest, indent=1).encode())
        fault("commit.after_manifest")
        if not created:  # a crash after the manifest: the stored one is the record
            manifest = json.loads(self.backend.get_bytes(manifest_key(self.run_id)))
        return manifest

    def close(self) -> None:
        """Idempotent. Writes the rows of ``accept_grouped`` still waiting, stops the group
        commit, leaves an uncommitted journal in place for ``recover``."""
        self.group.close()
        if not self.closed:
            self.closed = True
            self.journal.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
