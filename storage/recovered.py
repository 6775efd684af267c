"""Runs whose rows were published by recovery, not by the process that accepted them.

A crawl keeps state beside its rows (the near-duplicate index, the seen-URL file) and publishes
it as it goes and at its end; a run killed before that leaves journaled rows that recovery
publishes without it. So recovery records every run it finishes, ``_state/recovered/<run_id>.json``
(create-only): the run's data files. Whoever keeps such state completes it from those rows before
it decides on anything (``pipelines.neardup_index``, ``crawler.recovery``), then marks the run done for
itself with ``<run_id>.<consumer>.done``. Storage knows nothing of what the consumers keep.
"""

from __future__ import annotations

import json

from .rows import check_name

PREFIX = "_state/recovered/"


def record_key(run_id: str) -> str:
    return f"{PREFIX}{run_id}.json"


def done_key(run_id: str, consumer: str) -> str:
    check_name(consumer, "consumer")
    return f"{PREFIX}{run_id}.{consumer}.done"


def record(backend, run_id: str, files: list[dict]) -> None:
    body = {"run_id": run_id, "files": [{k: f[k] for k in ("key", "dataset", "rows")} for f in files
                                        if f["dataset"] != "runs"]}
    backend.put_bytes(record_key(run_id), json.dumps(body, indent=1).encode())  # create-only: redo is a no-op


def pending(backend, consumer: str) -> list[dict]:
    """The records of recovered runs ``consumer`` has not marked done, oldest run id first."""
    keys = {o.key for o in backend.list(PREFIX)}
    out = []
    for key in sorted(keys):
        if key.endswith(".json") and done_key(key[len(PREFIX):-len(".json")], consumer) not in keys:
            out.append(json.loads(backend.get_bytes(key)))
    return out


def mark_done(backend, run_id: str, consumer: str) -> None:
    backend.put_bytes(done_key(run_id, consumer), b"{}\n")
