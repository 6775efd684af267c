"""The crawl process's memory settings: glibc malloc told to give page-sized buffers back, and
Python's cyclic garbage collector told to look less often at what lives for the whole crawl.

A crawl allocates and frees a few hundred kilobytes per page (the body, its decoded text, the
HTML tree) between small objects that live for the whole run (bookkeeping, index entries).
With glibc's defaults the mmap threshold adapts upwards after the first large frees, so those
buffers come from the heap, the long-lived objects pin its pages, and resident memory grows
with every page although Python holds little (measured on the bench site, docs/BENCHMARKS.md).
A fixed threshold (``MALLOC_MMAP_THRESHOLD``, default 64 KiB) serves each large buffer from
its own mapping, returned to the system when freed; two arenas and a 128 KiB trim threshold
keep the heaps small. Nothing is changed when the process was started with glibc's own
``MALLOC_*`` variables, off glibc, or with ``MALLOC_MMAP_THRESHOLD = 0``.

The collector runs a young-generation pass every 700 container allocations by default, and at
most every hundred of those a full pass over every object the process tracks (the libraries'
modules, classes and functions included: about 80,000 once the crawl's libraries are imported).
A crawl allocates tens of thousands of containers a page and almost all of them die by reference
counting, so ``GC_THRESHOLD`` (default 10,000) spaces the passes, and once the crawl's engine has
started the objects made so far are frozen (:func:`gc.freeze`): a full pass no longer walks them.
Measured on a 6,000-article bench crawl (two crawl processes, three runs each): the collector's
CPU time 3.5 s -> 1.3 s, about 0.36 ms a page (docs/BENCHMARKS.md, "The collector").
``GC_THRESHOLD = 0`` leaves Python's defaults and freezes nothing.

Arrow's buffers (a segment's table, its Parquet file, the state files read back) come from the
system allocator, tuned as above, rather than from Arrow's own (mimalloc), which keeps what it
freed. On the bench site a crawl process's first 5,000-row publish left its anonymous memory
~125 MB higher for the rest of the crawl with mimalloc, ~65 MB with the system allocator; the
biggest process of a 6,000-article bench crawl peaked at 277-279 MB with mimalloc, 231 MB with the
system allocator (same CPU within the machine's noise; docs/BENCHMARKS.md). Arrow picks its default pool once, when pyarrow is imported, from
``ARROW_DEFAULT_MEMORY_POOL``: importing :mod:`crawler` (as every ``scrapy`` command does, before
any pyarrow import) sets it to ``system`` unless it is set already.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import platform
import sys

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
_ENV = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_done: dict | None = None


def prefer_system_arrow_pool() -> bool:
    """Arrow's default pool: the system allocator (``ARROW_DEFAULT_MEMORY_POOL=system``), unless the
    variable is set already or pyarrow is imported (then its pool is chosen). Whether it was set."""
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ or "pyarrow" in sys.modules:
        return False
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    return True


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


_gc_tuned: tuple | None = None


def tune_gc(settings) -> tuple:
    """Space the collector's passes (``GC_THRESHOLD`` container allocations between young passes),
    once per process; returns the thresholds set (empty: left alone)."""
    global _gc_tuned
    if _gc_tuned is None:
        gen0 = settings.getint("GC_THRESHOLD", 10000)
        _gc_tuned = ()
        if gen0 > 0:
            _, gen1, gen2 = gc.get_threshold()
            gc.set_threshold(gen0, gen1, gen2)
            _gc_tuned = gc.get_threshold()
    return _gc_tuned


_frozen = False


def freeze_startup() -> int:
    """Move every object the process holds now out of the collector's sight (after a collection,
    so that no garbage is kept): what was built before the crawl starts lives until it ends. Once
    per process (a process that runs crawls one after another, a test session, freezes what was
    alive at the first start only), and only where :func:`tune_gc` tuned the collector. Returns the
    number of objects frozen."""
    global _frozen
    if _gc_tuned and not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
    return gc.get_freeze_count()
