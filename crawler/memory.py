"""The crawl process's allocator settings: glibc malloc told to give page-sized buffers back.

A crawl allocates and frees a few hundred kilobytes per page (the body, its decoded text, the
HTML tree) between small objects that live for the whole run (bookkeeping, index entries).
With glibc's defaults the mmap threshold adapts upwards after the first large frees, so those
buffers come from the heap, the long-lived objects pin its pages, and resident memory grows
with every page although Python holds little (measured on the bench site, docs/BENCHMARKS.md).
A fixed threshold (``MALLOC_MMAP_THRESHOLD``, default 64 KiB) serves each large buffer from
its own mapping, returned to the system when freed; two arenas and a 128 KiB trim threshold
keep the heaps small. Nothing is changed when the process was started with glibc's own
``MALLOC_*`` variables, off glibc, or with ``MALLOC_MMAP_THRESHOLD = 0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
_ENV = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_done: dict | None = None


def tune_allocator(settings) -> dict:
    """Apply the settings once per process; returns what was set (empty: left alone)."""
    global _done
    if _done is not None:
        return _done
    threshold = settings.getint("MALLOC_MMAP_THRESHOLD", 65536)
    _done = {}
    if threshold <= 0 or any(name in os.environ for name in _ENV) or platform.libc_ver()[0] != "glibc":
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        wanted = {"mmap_threshold": (M_MMAP_THRESHOLD, threshold), "trim_threshold": (M_TRIM_THRESHOLD, 2 * threshold),
                  "arena_max": (M_ARENA_MAX, 2)}
        for name, (param, value) in wanted.items():
            if libc.mallopt(param, value) == 1:
                _done[name] = value
    except (OSError, AttributeError) as exc:
        logger.debug("allocator settings not applied: %s", exc)
    return _done
