"""The crawl process's collector settings and Arrow's memory pool (crawler/memory.py), each case in a
fresh interpreter: the thresholds, the frozen objects and the pool belong to the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, sys
from scrapy.settings import Settings
from crawler.memory import freeze_startup, tune_gc
before = gc.get_threshold()
first = tune_gc(Settings({"GC_THRESHOLD": int(sys.argv[1])}))
again = tune_gc(Settings({"GC_THRESHOLD": 123}))  # once per process: a second crawler changes nothing
frozen = freeze_startup()
later = [[] for _ in range(1000)]
refrozen = freeze_startup()  # once per process: what a later crawl builds stays collectable

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after the freeze is still garbage the collector finds
del a, b
print(json.dumps({"before": before, "first": first, "again": again, "after": gc.get_threshold(),
                  "frozen": frozen, "refrozen": refrozen, "freeze_count": gc.get_freeze_count(),
                  "collected": gc.collect()}))
"""


def _probe(threshold: int) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(threshold)], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_collector_is_spaced_and_what_the_crawl_starts_with_is_frozen():
    r = _probe(5000)
    assert r["before"] == [700, 10, 10]
    assert r["first"] == r["again"] == r["after"] == [5000, 10, 10]
    assert r["frozen"] == r["refrozen"] == r["freeze_count"] > 10_000  # scrapy's, lxml's ... modules, classes
    assert r["collected"] >= 2


def test_zero_leaves_pythons_collector_alone():
    r = _probe(0)
    assert r["first"] == r["again"] == [] and r["after"] == r["before"] == [700, 10, 10]
    assert r["frozen"] == r["refrozen"] == r["freeze_count"] == 0
    assert r["collected"] >= 2


ARROW_PROBE = """
import os, sys
if sys.argv[1] == "pyarrow-first":
    import pyarrow
import crawler, pyarrow
print(pyarrow.default_memory_pool().backend_name, os.environ.get("ARROW_DEFAULT_MEMORY_POOL"))
"""


def _arrow_probe(order: str, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", ARROW_PROBE, order], cwd=str(ROOT), env=dict(base, **env),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_project_gives_arrow_the_system_allocator_unless_chosen_already():
    assert _arrow_probe("crawler-first") == "system system"
    # the operator's choice stands
    assert _arrow_probe("crawler-first", ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc mimalloc"
    # pyarrow imported first has chosen its pool: the variable is not set to a pool it does not use
    assert _arrow_probe("pyarrow-first").split()[1] == "None"


def test_a_crawl_process_runs_with_the_collector_tuned(tmp_path, demo_server, monkeypatch):
    """The settings reach a real crawl: `scrapy crawl` of a demo source, its process watched by
    benchmarks/gcprobe (which records the thresholds, frozen objects and Arrow's pool when the
    process exits). The variable the tests' own import of the project set is not passed on: the
    crawl sets it itself."""
    from tests._ops import FAST, scrapy

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    seen = {}
    for name, extra, env in (("tuned", [], {}),
                             ("default", ["-s", "GC_THRESHOLD=0"], {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"})):
        probe = tmp_path / name
        probe.mkdir()
        done = scrapy("crawl", "demo_kinhte", *FAST, *extra, archive=tmp_path / f"archive-{name}",
                      base_url=demo_server.base_url, PYTHONPATH=str(ROOT / "benchmarks" / "gcprobe"),
                      GCPROBE_DIR=str(probe), **env)
        assert done.returncode == 0, done.stderr[-2000:]
        (line,) = [p.read_text() for p in probe.glob("gc-*.txt")]
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        seen[name] = ([int(x) for x in fields["threshold"].split(",")], int(fields["frozen"]),
                      [int(x) for x in fields["passes"].split(",")], fields["arrow_pool"])
    assert seen["tuned"][0] == [10000, 10, 10] and seen["tuned"][1] > 10_000
    assert seen["default"][0] == [700, 10, 10] and seen["default"][1] == 0
    assert seen["tuned"][3] == "system" and seen["default"][3] == "mimalloc"
    # fewer young passes for the same crawl (a demo crawl is short: most of its passes are the imports')
    assert seen["tuned"][2][0] < seen["default"][2][0]
