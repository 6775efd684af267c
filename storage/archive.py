"""The archive: a backend (where bytes go) plus the datasets, runs, state and readers on top."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from . import compact as _compact
from . import groupcommit
from . import recovered as _recovered
from .errors import ArchiveError, CorruptFile, NotFound, StoreUnavailable
from .groupcommit import check as check_group
from .journal import Journal
from .rows import check_name
from .run import Run, manifest_key
from .schema import SCHEMAS
from .state import DedupeState

log = logging.getLogger(__name__)

DATASETS = tuple(SCHEMAS)
_DUCK_TYPES = {"int16": "SMALLINT", "string": "VARCHAR", "date32[day]": "DATE", "double": "DOUBLE"}  # types of ADDED_COLUMNS
DEFAULT_JOURNAL_ROOT = "~/.cache/newsarchive/journal"
VERIFY_KEY = "_state/verify.json"
RUN_LOG_PREFIX = "runs/_logs/"  # a crawl's log: runs/_logs/<run_id>.log
_RUN_OPTIONS = ("lock_timeout", "publish_timeout", "retry_initial", "retry_max", "journal_group_rows",
                "journal_group_ms")


class Archive:
    def __init__(self, backend, *, journal_dir: str | os.PathLike | None = None,
                 journal_max_bytes: int | None = None, **run_options):
        unknown = set(run_options) - set(_RUN_OPTIONS)
        if unknown:
            raise ArchiveError(f"unknown archive options {sorted(unknown)}")
        self.backend = backend
        self.display_uri = backend.display_uri
        self._journal_dir = journal_dir
        self.journal_max_bytes = journal_max_bytes
        if journal_max_bytes is None and os.environ.get("ARCHIVE_JOURNAL_MAX_BYTES"):
            self.journal_max_bytes = int(os.environ["ARCHIVE_JOURNAL_MAX_BYTES"])
        if "journal_group_rows" in run_options or "journal_group_ms" in run_options:  # a bad value fails here
            check_group(run_options.get("journal_group_rows", groupcommit.DEFAULT_ROWS),
                        run_options.get("journal_group_ms", groupcommit.DEFAULT_MS))
        self.run_options = run_options
        self._state: DedupeState | None = None
        # the crawl's near-duplicate decisions for runs this archive recovers (set by the crawl:
        # ``resolver_factory(archive) -> resolver`` as Run.set_resolver takes, plus ``publish(run_id)``)
        self.resolver_factory = None

    def __repr__(self) -> str:
        return f"<Archive {self.display_uri}>"

    # ------------------------------------------------------------------ writing
    def journal_root(self, journal_dir: str | os.PathLike | None = None) -> Path:
        """Local folder of this archive's journals: the given one, else ARCHIVE_JOURNAL_DIR or
        ~/.cache/newsarchive/journal, plus a folder named by a hash of the archive's URI."""
        if journal_dir or self._journal_dir:
            return Path(journal_dir or self._journal_dir).expanduser().absolute()
        base = os.environ.get("ARCHIVE_JOURNAL_DIR") or DEFAULT_JOURNAL_ROOT
        identity = getattr(self.backend, "identity", self.display_uri)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
        return Path(base).expanduser().absolute() / digest

    def dedupe_state(self, allow_unloaded: bool = False) -> DedupeState:
        """The cross-run state, loaded from the archive. With ``allow_unloaded``, a store that
        does not answer gives an empty state (a run can start and journal; its publish re-checks
        every row against the full state once the store answers)."""
        if self._state is None:
            state = DedupeState(self.backend)
            try:
                state.refresh()
            except StoreUnavailable as exc:
                if not allow_unloaded:
                    raise
                log.warning("dedupe state not loaded (%s); rows are checked again at publish", exc)
                return state
            self._state = state
        return self._state

    def begin_run(self, run_id: str, journal_dir: str | os.PathLike | None = None, job: str | None = None,
                  recover: bool = True) -> Run:
        """A new run, or the continuation of the run ``run_id`` that died (its journal replayed).
        ``job`` (what the run crawls) is kept in the journal's meta for :meth:`resumable_run`.
        ``recover``: first publish what dead runs left in the journal folder (off for the parts of a
        run, which start together: their parent recovered before starting them)."""
        check_name(run_id, "run_id")
        root = self.journal_root(journal_dir)
        if recover:
            self.recover(root, skip=(run_id,))
        journal = Journal(root / run_id, max_bytes=self.journal_max_bytes)
        try:
            committed = not (root / run_id).exists() and self.backend.exists(manifest_key(run_id))
        except StoreUnavailable as exc:  # start anyway: rows are journaled until the store answers
            log.warning("cannot reach %s at the start of run %s: %s", self.display_uri, run_id, exc)
            committed = False
        if committed:
            raise ArchiveError(f"run {run_id!r} is already committed in {self.display_uri}")
        journal.open(meta={"run_id": run_id, "archive": self.display_uri, "job": job})
        try:
            return Run(self, run_id, journal, **self.run_options)  # resumes a dead journal of the same id
        except BaseException:
            journal.close()
            raise

    def resumable_run(self, job: str, journal_dir: str | os.PathLike | None = None) -> str | None:
        """The newest run of ``job`` on this archive whose process died before its crawl was over
        (no report rows journaled, no final segment, no manifest): a rerun of the same job continues it under its
        id, so the copies of a story are decided once over both parts (docs/STORAGE.md)."""
        root = self.journal_root(journal_dir)
        if not root.is_dir():
            return None
        found = None
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            journal = Journal(folder, max_bytes=None)
            meta = journal.meta()
            if meta.get("job") != job or meta.get("archive") not in (None, self.display_uri):
                continue
            if not journal.take_alive():  # its crawl is running
                continue
            try:
                # its report rows (journaled once its crawl was over), a final segment or the commit
                ending = any(rec.get("t") == "committed" or (rec.get("t") == "intent" and rec.get("final"))
                             or (rec.get("t") == "row" and rec.get("d") == "runs") for rec in journal.records())
                if ending or self.backend.exists(manifest_key(folder.name)):
                    continue  # it reached its commit: recovery finishes it
            except (ArchiveError, OSError, StoreUnavailable) as exc:
                log.warning("journal %s cannot be continued (%s): it is recovered instead", folder, exc)
                continue
            finally:
                journal.close()
            found = folder.name if found is None or folder.name > found else found
        return found

    def recover(self, journal_dir: str | os.PathLike | None = None, skip=()) -> dict:
        """Publish, exactly once, what runs that died left in their journals."""
        root = self.journal_root(journal_dir)
        report = {"recovered": [], "rows": 0, "live": [], "failed": {}}
        if not root.is_dir():
            return report
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name in skip:
                continue
            journal = Journal(folder, max_bytes=None)
            if not journal.take_alive():
                report["live"].append(folder.name)
                continue
            meta = journal.meta()
            if meta.get("archive") not in (None, self.display_uri):
                journal.close()
                continue
            try:
                journal.open()
                run = Run(self, folder.name, journal, **self.run_options)
                resolver = self.resolver_factory(self) if self.resolver_factory is not None else None
                if resolver is not None:  # the copies among its rows, as its crawl would have decided them
                    run.set_resolver(resolver)
                pending = run.pending_rows
                manifest = run.commit(summary={"recovered": True}, status="recovered")
                if resolver is not None and manifest.get("status") != "unpublished":
                    resolver.publish(folder.name)  # its articles' index entries
                if manifest.get("status") == "unpublished":
                    report["failed"][folder.name] = manifest.get("error")
                else:
                    report["recovered"].append(folder.name)
                    report["rows"] += pending
            except Exception as exc:  # one bad journal must not block the others
                log.error("could not recover journal %s: %s", folder, exc)
                report["failed"][folder.name] = str(exc)
            finally:
                journal.close()
        if report["recovered"]:
            log.warning("recovered %d run(s) from %s: %s", len(report["recovered"]), root, report["recovered"])
        return report

    def recovered_runs(self, consumer: str) -> list[dict]:
        """Runs that recovery published and ``consumer`` has not caught up with yet:
        ``[{"run_id", "files": [{"key", "dataset", "rows"}]}]`` (storage/recovered.py)."""
        return _recovered.pending(self.backend, consumer)

    def recovered_done(self, run_id: str, consumer: str) -> None:
        _recovered.mark_done(self.backend, run_id, consumer)

    def recovered_rows(self, dataset: str, record: dict, columns: list[str]) -> pa.Table:
        """The rows a recovered run published in ``dataset``: from its files, or, once a
        compaction merged them away, from the live files by ``run_id``."""
        keys = [f["key"] for f in record["files"] if f["dataset"] == dataset]
        if not keys:
            return SCHEMAS[dataset].empty_table().select(columns)
        live = set(self.files(dataset))
        fs, root = self.backend.arrow_filesystem()
        if set(keys) <= live:
            paths = [f"{root}/{k}" for k in keys]
            return pads.dataset(paths, schema=SCHEMAS[dataset], format="parquet", filesystem=fs).to_table(
                columns=columns)
        table = self.arrow_dataset(dataset).to_table(columns=[*columns, "run_id"],
                                                     filter=pads.field("run_id") == record["run_id"])
        return table.select(columns)

    # ------------------------------------------------------------------ reading
    def manifests(self) -> list[dict]:
        out = []
        for obj in self.backend.list("_manifests/"):
            if obj.key.endswith(".json") and obj.key.count("/") == 1:
                out.append(json.loads(self.backend.get_bytes(obj.key)))
        return out

    def files(self, dataset: str) -> list[str]:
        """The live Parquet files of a dataset (compactions resolved: no row missing or twice)."""
        if dataset not in SCHEMAS:
            raise ArchiveError(f"unknown dataset {dataset!r}; expected one of {list(SCHEMAS)}")
        def listing():
            return [o.key for o in self.backend.list(f"{dataset}/") if o.key.endswith(".parquet")]

        return _compact.live(self.backend, [], list_again=listing)

    def bad_files(self, keys: list[str]) -> dict[str, str]:
        """Files whose Parquet footer cannot be read: ``{key: reason}``."""
        fs, root = self.backend.arrow_filesystem()
        bad = {}
        for key in keys:
            try:
                with fs.open_input_file(f"{root}/{key}") as fh:
                    pq.ParquetFile(fh).metadata
            except (OSError, pa.ArrowException) as exc:
                bad[key] = str(exc)
        return bad

    def _readable(self, dataset: str, skip_corrupt: bool) -> list[str]:
        keys = self.files(dataset)
        if skip_corrupt:
            bad = self.bad_files(keys)
            for key, why in bad.items():
                log.error("skipping corrupt file %s: %s", key, why)
            keys = [k for k in keys if k not in bad]
        return keys

    def arrow_dataset(self, dataset: str, skip_corrupt: bool = False) -> pads.Dataset:
        fs, root = self.backend.arrow_filesystem()
        paths = [f"{root}/{k}" for k in self._readable(dataset, skip_corrupt)]
        return pads.dataset(paths, schema=SCHEMAS[dataset], format="parquet", filesystem=fs)

    def read_table(self, dataset: str, columns: list[str] | None = None, skip_corrupt: bool = False) -> pa.Table:
        try:
            return self.arrow_dataset(dataset, skip_corrupt).to_table(columns=columns)
        except (OSError, pa.ArrowException) as exc:
            bad = self.bad_files(self.files(dataset))
            if bad:
                key = next(iter(bad))
                raise CorruptFile(key, f"{bad[key]} (read with skip_corrupt=True to skip it)") from exc
            raise

    def duckdb(self, con=None, skip_corrupt: bool = False):
        """A DuckDB connection with views ``articles``, ``duplicates``, ``runs`` over the live files."""
        import duckdb

        con = con or duckdb.connect()
        local_root = getattr(self.backend, "root", None)
        for dataset in DATASETS:
            keys = self._readable(dataset, skip_corrupt)
            if keys and local_root is not None:
                paths = ", ".join("'" + str(local_root / k).replace("'", "''") + "'" for k in keys)
                # union_by_name: files written before a column was added (ADDED_COLUMNS) lack it
                scan = f"read_parquet([{paths}], hive_partitioning = false, union_by_name = true)"
                con.execute(f"CREATE OR REPLACE VIEW {dataset} AS SELECT * FROM {scan}")
                have = {r[0] for r in con.execute(f"DESCRIBE {dataset}").fetchall()}
                missing = [f for f in SCHEMAS[dataset] if f.name not in have]
                if missing:  # every file predates them: the columns are still there, null
                    extra = ", ".join(f"CAST(NULL AS {_DUCK_TYPES[str(f.type)]}) AS {f.name}" for f in missing)
                    con.execute(f"CREATE OR REPLACE VIEW {dataset} AS SELECT *, {extra} FROM {scan}")
            else:
                # S3 (no httpfs needed offline) or an empty dataset: scan through Arrow.
                source = self.arrow_dataset(dataset, skip_corrupt) if keys else SCHEMAS[dataset].empty_table()
                con.register(f"_arrow_{dataset}", source)
                con.execute(f"CREATE OR REPLACE VIEW {dataset} AS SELECT * FROM _arrow_{dataset}")
        return con

    # ------------------------------------------------------------------ maintenance
    # ------------------------------------------------------------------ run logs
    def run_log_key(self, run_id: str) -> str:
        check_name(run_id, "run id")
        return f"{RUN_LOG_PREFIX}{run_id}.log"

    def run_log_path(self, run_id: str) -> Path | None:
        """Where a crawl writes its log in place (an archive on a local disk), else None: it is
        written to a local file and saved with :meth:`save_run_log` at the end."""
        root = getattr(self.backend, "root", None)
        return Path(root) / self.run_log_key(run_id) if root is not None else None

    def save_run_log(self, run_id: str, data: bytes) -> str:
        """Save a crawl's log in the archive (replacing a partial one of the same run); its key."""
        key = self.run_log_key(run_id)
        self.backend.put_bytes_overwrite(key, data)
        return key

    def compact(self, before: str | None = None, **kw) -> dict:
        return _compact.compact(self, before=before, **kw)

    def stats(self) -> list[dict]:
        from .verify import stats

        return stats(self)

    def verify(self, record: bool = True) -> dict:
        """``verify`` (storage/verify.py); with ``record``, its result is kept in ``_state/verify.json``
        (with ``checked_at``) for ``last_verify`` and ``scrapy archive report``."""
        from . import clock
        from .verify import verify

        report = verify(self)
        report["checked_at"] = clock.now().isoformat(timespec="seconds")
        if record:
            summary = dict(report, problems=report["problems"][:50], problem_count=len(report["problems"]))
            try:
                self.backend.put_bytes_overwrite(VERIFY_KEY, json.dumps(summary, indent=1).encode())
            except ArchiveError as exc:  # a read-only store still gets its answer
                log.warning("could not record the verify result in %s: %s", VERIFY_KEY, exc)
        return report

    def last_verify(self) -> dict | None:
        """The latest recorded ``verify`` result, or None when none was recorded."""
        try:
            return json.loads(self.backend.get_bytes(VERIFY_KEY))
        except NotFound:
            return None

    def get_manifest(self, run_id: str) -> dict:
        try:
            return json.loads(self.backend.get_bytes(manifest_key(run_id)))
        except NotFound:
            raise ArchiveError(f"no manifest for run {run_id!r} in {self.display_uri}") from None
