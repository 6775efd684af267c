"""The part's side of ``scrapy crawlall --processes N`` (:mod:`crawler.parts` is the parent's).

A part and its parent talk through files in the run's part folder (``RUN_PART_DIR``):
``go-<part>`` (the parent lets the part publish), ``rows-<part>.json`` (the part's report rows
and exit code) and ``pace/`` (one pace per site for every part, :mod:`crawler.middlewares.pacing`).
This module imports nothing of the crawler, so that the session and the report can use it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PART_ROWS = "rows-{part}.json"


def wait_turn(folder: str | os.PathLike, part_id: str, poll: float = 0.1) -> None:
    """Block until the parent lets part ``part_id`` publish its copy decisions (``go-<part>``
    exists), or the parent is gone (then publish now: nothing is waited for any more)."""
    folder = Path(folder)
    parent = os.getppid()
    waited = False
    while not (folder / f"go-{part_id}").exists():
        if os.getppid() != parent or not folder.is_dir():
            return
        if not waited:
            logger.info("part %s: crawl over, waiting for the earlier parts to publish", part_id)
            waited = True
        time.sleep(poll)


def write_part_rows(folder: str | os.PathLike, part_id: str, rows: list[dict], code: int) -> None:
    """The part's report rows and exit code, for the parent (written last, atomically)."""
    from storage.rows import dumps

    path = Path(folder) / PART_ROWS.format(part=part_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps({"rows": rows, "code": code}))
    os.replace(tmp, path)


def die_with_parent() -> None:
    """Called first by a part (Linux): SIGTERM when the parent dies, so the part stops as a crawl
    does on SIGTERM, publishing what it has."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
