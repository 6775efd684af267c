"""The cyclic collector's CPU time in every Python process started with this folder on PYTHONPATH.

    PYTHONPATH=benchmarks/gcprobe GCPROBE_DIR=/tmp/gc scrapy crawlall --sources 'demo_*' ...

A diagnostic, not part of make bench (docs/BENCHMARKS.md, "The collector"): each process (the
parent of ``crawlall --processes`` and its parts alike, since they inherit the environment)
times the collector's passes with ``gc.callbacks`` and writes, when it exits, one line to
``$GCPROBE_DIR/gc-<pid>.txt``: the collector's CPU seconds, the passes per generation, its
thresholds and frozen objects at that moment, Arrow's default memory pool (``-`` when pyarrow
was not imported), the process's own CPU seconds and its arguments.
"""

import atexit
import gc
import os
import sys
import time

_spent = {"s": 0.0, "passes": [0, 0, 0]}
_began = [0.0]


def _callback(phase, info):
    if phase == "start":
        _began[0] = time.process_time()
    else:
        _spent["s"] += time.process_time() - _began[0]
        _spent["passes"][info["generation"]] += 1


def _compact(values) -> str:
    return ",".join(str(v) for v in values)  # no spaces: the line splits into name=value fields


def _write():
    folder = os.environ.get("GCPROBE_DIR", ".")
    with open(os.path.join(folder, f"gc-{os.getpid()}.txt"), "w", encoding="utf-8") as out:
        out.write(f"gc_cpu_s={_spent['s']:.3f} passes={_compact(_spent['passes'])} "
                  f"threshold={_compact(gc.get_threshold())} "
                  f"frozen={gc.get_freeze_count()} arrow_pool={_arrow_pool()} cpu_s={time.process_time():.2f} "
                  f"argv={' '.join(sys.argv[1:4])}\n")


def _arrow_pool() -> str:
    pyarrow = sys.modules.get("pyarrow")
    return pyarrow.default_memory_pool().backend_name if pyarrow is not None else "-"


gc.callbacks.append(_callback)
atexit.register(_write)
