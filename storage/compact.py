"""Compaction: a partition's many small files -> few large sorted ones, never a row lost or doubled.

Protocol, per partition, under the archive lock:

1. inputs = the partition's live files that belong to a manifest or an earlier compaction
   (files of a run not yet committed are left alone: its recovery may publish them again);
2. read, sort, write the outputs locally and check them;
3. publish the plan ``_compactions/<cid>.json`` (inputs with row counts, outputs with checksums);
4. publish the outputs ``part-compact-<cid>-<n>.parquet``;
5. publish ``_compactions/<cid>.done``: the commit point;
6. delete the inputs.

Readers that go through the archive (``Archive.files``, ``read_table``, ``duckdb``, the CLI) take a
consistent snapshot: they list the compaction records, then the files, then the records again
(retrying until the records did not change), and drop the inputs of committed compactions and the
outputs of uncommitted ones. A compaction interrupted before step 5 is rolled back by the next
``compact`` (outputs deleted, then the plan); one interrupted after it is rolled forward.
Raw glob readers (DuckDB ``read_parquet('**/*.parquet')``) can see inputs and outputs together
between steps 4 and 6, a window of a few seconds; see docs/STORAGE.md.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from . import clock
from .errors import NotFound
from .faults import fault
from .parquet import FileInfo, sort_table, write_file
from .schema import SCHEMAS
from .state import CLAIMS_PREFIX, CLAIMS_SCHEMA
from .statefiles import StateFiles

log = logging.getLogger(__name__)
PREFIX = "_compactions/"
TARGET_ROWS = 1_000_000  # rows per output file


def _records(backend) -> tuple[dict[str, dict], set[str]]:
    plans, done = {}, set()
    names = [o.key for o in backend.list(PREFIX)]
    for key in names:
        cid = key[len(PREFIX):].rsplit(".", 1)[0]
        if key.endswith(".done"):
            done.add(cid)
        elif key.endswith(".json"):
            try:
                plans[cid] = json.loads(backend.get_bytes(key))
            except NotFound:  # rolled back while we listed
                continue
    return plans, done & set(plans)


def _fingerprint(backend) -> tuple:
    return tuple(sorted(o.key for o in backend.list(PREFIX)))


def superseded(backend) -> set[str]:
    plans, done = _records(backend)
    return {i["key"] for cid in done for i in plans[cid]["inputs"]}


def committed_outputs(backend) -> set[str]:
    plans, done = _records(backend)
    return {o["key"] for cid in done for o in plans[cid]["outputs"]}


def unfinished(backend) -> list[str]:
    plans, done = _records(backend)
    return [f"{PREFIX}{cid}.json" for cid in sorted(set(plans) - done)]


def live(backend, keys: list[str], list_again=None) -> list[str]:
    """Resolve compactions over a listing. ``list_again`` re-lists the data files; with it the
    result is a consistent snapshot (records unchanged around the data listing)."""
    for _ in range(20):
        before = _fingerprint(backend)
        if list_again is not None:
            keys = list_again()
        plans, done = _records(backend)
        if list_again is None or _fingerprint(backend) == before:
            break
        time.sleep(0.05)
    drop = set()
    for cid, plan in plans.items():
        if cid in done:
            drop.update(i["key"] for i in plan["inputs"])
        else:
            drop.update(o["key"] for o in plan["outputs"])
    return sorted(k for k in keys if k not in drop and not _orphan_output(k, plans))


def _orphan_output(key: str, plans: dict) -> bool:
    """An output of a compaction whose plan is gone (rolled back halfway): not live."""
    name = key.rsplit("/", 1)[-1]
    if not name.startswith("part-compact-"):
        return False
    cid = name[len("part-compact-"):].rsplit("-", 1)[0]
    return cid not in plans


def finish_unfinished(backend) -> dict:
    """Roll back uncommitted compactions, roll forward committed ones. Call under the lock."""
    plans, done = _records(backend)
    report = {"rolled_back": [], "rolled_forward": []}
    for cid, plan in sorted(plans.items()):
        if cid in done:
            stale = [i["key"] for i in plan["inputs"] if backend.exists(i["key"])]
            for key in stale:
                backend.delete(key)
            if stale:
                report["rolled_forward"].append(cid)
        else:
            for o in plan["outputs"]:
                backend.delete(o["key"])
            backend.delete(f"{PREFIX}{cid}.json")
            report["rolled_back"].append(cid)
    return report


def _month_of(partition: str) -> str:
    return partition.rsplit("month=", 1)[-1]


def compact(archive, before: str | None = None, datasets=None, min_files: int = 2,
            target_rows: int = TARGET_ROWS, lock_timeout: float = 600.0) -> dict:
    backend = archive.backend
    report = {"partitions": [], "files_in": 0, "files_out": 0, "rows": 0}
    with backend.lock("compact", timeout=lock_timeout):
        report.update(finish_unfinished(backend))
        manifested = {f["key"] for m in archive.manifests() for f in m["files"]} | committed_outputs(backend)
        for dataset in datasets or list(SCHEMAS):
            parts: dict[str, list[str]] = {}
            for key in archive.files(dataset):
                if key in manifested:
                    parts.setdefault(key[: key.rfind("/")], []).append(key)
            for partition, keys in sorted(parts.items()):
                month = _month_of(partition)
                if len(keys) < min_files or (before and (month == "undated" or month >= before)):
                    continue
                rows, n_out = _compact_partition(backend, dataset, partition, keys, target_rows)
                report["partitions"].append({"partition": partition, "files_in": len(keys),
                                             "files_out": n_out, "rows": rows})
                report["files_in"] += len(keys)
                report["files_out"] += n_out
                report["rows"] += rows
        committed_claims = {c for m in archive.manifests() for c in m.get("claims", [])}
        report["claims_files_merged"] = _compact_claims(backend, committed_claims)
    return report


def _compact_partition(backend, dataset: str, partition: str, keys: list[str], target_rows: int) -> int:
    cid = clock.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = tempfile.mkdtemp(prefix="archive-compact-")
    try:
        fs, root = backend.arrow_filesystem()
        tables, inputs = [], []
        for key in keys:
            with fs.open_input_file(f"{root}/{key}") as fh:
                table = pq.read_table(fh, schema=SCHEMAS[dataset])
            tables.append(table)
            inputs.append({"key": key, "rows": table.num_rows})
        table = sort_table(dataset, pa.concat_tables(tables))
        outputs = []
        for n, start in enumerate(range(0, max(table.num_rows, 1), target_rows)):
            key = f"{partition}/part-compact-{cid}-{n}.parquet"
            local = f"{tmp}/{n}.parquet"
            info: FileInfo = write_file(table.slice(start, target_rows), local, dataset)
            outputs.append({"key": key, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256,
                            "local": local})
        assert sum(o["rows"] for o in outputs) == sum(i["rows"] for i in inputs)
        plan = {"id": cid, "dataset": dataset, "partition": partition, "inputs": inputs,
                "outputs": [{k: v for k, v in o.items() if k != "local"} for o in outputs],
                "created": clock.now().isoformat()}
        backend.put_bytes(f"{PREFIX}{cid}.json", json.dumps(plan, indent=1).encode())
        fault("compact.after_plan")
        for o in outputs:
            backend.put_file(o["local"], o["key"])
            fault("compact.after_output")
        backend.put_bytes(f"{PREFIX}{cid}.done", b"")
        fault("compact.after_done")
        for key in keys:
            backend.delete(key)
            fault("compact.after_delete")
        log.info("compacted %s: %d files -> %d", partition, len(keys), len(outputs))
        return table.num_rows, len(outputs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _compact_claims(backend, committed: set[str]) -> int:
    """Merge the claims files of committed runs into one (readers reload when files vanish).
    A run not yet committed may still check its own claims file, so it is left alone."""
    area = StateFiles(backend, CLAIMS_PREFIX, ".parquet")
    keys = [k for k in area.listing() if k in committed or k.startswith(f"{CLAIMS_PREFIX}compact-")]
    if len(keys) < 2:
        return 0
    import io

    tables = [pq.read_table(io.BytesIO(backend.get_bytes(k)), schema=CLAIMS_SCHEMA) for k in keys]
    sink = io.BytesIO()
    pq.write_table(pa.concat_tables(tables).sort_by("url_key"), sink, compression="zstd")
    name = area.key(f"compact-{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
    if not area.merge(keys, name, sink.getvalue(), what="claims files", fault_point="compact.after_claims"):
        return 0
    return len(keys)
