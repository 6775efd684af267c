"""``stats`` and ``verify``: what the archive holds, and whether it holds what its manifests say."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.parquet as pq

from . import compact as _compact
from .schema import PARTITION_TIME_COLUMN, SCHEMAS


def _footer(fs, path):
    with fs.open_input_file(path) as fh:
        return pq.ParquetFile(fh).metadata


def _time_range(meta, column: str):
    idx = meta.schema.to_arrow_schema().get_field_index(column)
    lo = hi = None
    for i in range(meta.num_row_groups):
        st = meta.row_group(i).column(idx).statistics
        if st is None or not st.has_min_max:
            continue
        lo = st.min if lo is None else min(lo, st.min)
        hi = st.max if hi is None else max(hi, st.max)
    return lo, hi


def stats(archive) -> list[dict]:
    """One dict per (dataset, partition): files, rows, bytes, min/max of its time column."""
    fs, root = archive.backend.arrow_filesystem()
    out: dict[tuple, dict] = {}
    for dataset in SCHEMAS:
        sizes = {o.key: o.size for o in archive.backend.list(f"{dataset}/")}
        for key in archive.files(dataset):
            partition = key[len(dataset) + 1 : key.rfind("/")]
            source = partition.split("/")[0][5:] if partition.startswith("site=") else None
            entry = out.setdefault((dataset, partition), {
                "dataset": dataset, "source": source, "partition": partition, "files": 0, "rows": 0,
                "bytes": 0, "min_date": None, "max_date": None, "corrupt_files": 0})
            entry["files"] += 1
            entry["bytes"] += sizes.get(key, 0)
            try:
                meta = _footer(fs, f"{root}/{key}")
            except (OSError, pa.ArrowException):
                entry["corrupt_files"] += 1
                continue
            entry["rows"] += meta.num_rows
            lo, hi = _time_range(meta, PARTITION_TIME_COLUMN[dataset])
            if lo is not None and (entry["min_date"] is None or lo < entry["min_date"]):
                entry["min_date"] = lo
            if hi is not None and (entry["max_date"] is None or hi > entry["max_date"]):
                entry["max_date"] = hi
    return [out[k] for k in sorted(out)]


def verify(archive, checksums: bool = True) -> dict:
    """Every manifest's files exist and read with their row counts (and checksums); no
    (article_id, version) twice; no temporaries; every live file belongs to a manifest or a
    finished compaction. ``ok`` only if nothing is wrong."""
    backend = archive.backend
    fs, root = backend.arrow_filesystem()
    problems: list[str] = []
    superseded = _compact.superseded(backend)
    outputs = _compact.committed_outputs(backend)
    live = {d: set(archive.files(d)) for d in SCHEMAS}
    all_live = set().union(*live.values())
    manifests = archive.manifests()
    live_rows: dict[str, int] = {}
    unreadable: set[str] = set()
    for key in sorted(all_live):
        try:
            live_rows[key] = _footer(fs, f"{root}/{key}").num_rows
        except (OSError, pa.ArrowException) as exc:
            unreadable.add(key)
            problems.append(f"{key}: unreadable ({exc})")
    listed: set[str] = set()
    expected_rows = {d: 0 for d in SCHEMAS}
    for manifest in manifests:
        for f in manifest["files"]:
            key = f["key"]
            listed.add(key)
            expected_rows[f["dataset"]] += f["rows"]
            if key in superseded or key in unreadable:
                continue
            if key not in all_live:
                problems.append(f"{key}: listed in manifest {manifest['run_id']} but missing")
                continue
            if live_rows[key] != f["rows"]:
                problems.append(f"{key}: {live_rows[key]} rows, manifest {manifest['run_id']} says {f['rows']}")
            if checksums and hashlib.sha256(backend.get_bytes(key)).hexdigest() != f["sha256"]:
                problems.append(f"{key}: checksum differs from manifest {manifest['run_id']}")
    for key in sorted(all_live - listed - outputs):
        problems.append(f"{key}: in no manifest (a run still running, or one to recover)")
    total = sum(live_rows.values())
    for dataset, keys in live.items():
        found = sum(live_rows.get(k, 0) for k in keys)
        if not keys & unreadable and found != expected_rows[dataset]:
            problems.append(f"{dataset}: {found} rows in live files, manifests say {expected_rows[dataset]}")
    try:
        dupes = archive.duckdb().execute(
            "SELECT article_id, version, count(*) FROM articles GROUP BY ALL HAVING count(*) > 1 LIMIT 20"
        ).fetchall()
        for article_id, version, n in dupes:
            problems.append(f"articles: ({article_id}, {version}) appears {n} times")
    except Exception as exc:  # noqa: BLE001 - a corrupt file is already reported above
        if not problems:
            problems.append(f"articles: cannot be queried ({exc})")
    for key in backend.temporaries():
        problems.append(f"{key}: stray temporary file")
    for key in _compact.unfinished(backend):
        problems.append(f"{key}: unfinished compaction (run `scrapy archive compact` to finish it)")
    return {"ok": not problems, "problems": problems, "manifests": len(manifests),
            "files": len(all_live), "rows": total}
