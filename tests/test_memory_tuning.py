"""The crawl process's collector settings (crawler/memory.py), each case in a fresh interpreter:
the thresholds and the frozen objects belong to the process."""

from __future__ import annotations

import json
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


def test_a_crawl_process_runs_with_the_collector_tuned(tmp_path, demo_server):
    """The settings reach a real crawl: `scrapy crawl` of a demo source, its process watched by
    benchmarks/gcprobe (which records the thresholds and frozen objects when the process exits)."""
    from tests._ops import FAST, scrapy

    seen = {}
    for name, extra in (("tuned", []), ("default", ["-s", "GC_THRESHOLD=0"])):
        probe = tmp_path / name
        probe.mkdir()
        done = scrapy("crawl", "demo_kinhte", *FAST, *extra, archive=tmp_path / f"archive-{name}",
                      base_url=demo_server.base_url, PYTHONPATH=str(ROOT / "benchmarks" / "gcprobe"),
                      GCPROBE_DIR=str(probe))
        assert done.returncode == 0, done.stderr[-2000:]
        (line,) = [p.read_text() for p in probe.glob("gc-*.txt")]
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        seen[name] = ([int(x) for x in fields["threshold"].split(",")], int(fields["frozen"]),
                      [int(x) for x in fields["passes"].split(",")])
    assert seen["tuned"][0] == [10000, 10, 10] and seen["tuned"][1] > 10_000
    assert seen["default"][0] == [700, 10, 10] and seen["default"][1] == 0
    # fewer young passes for the same crawl (a demo crawl is short: most of its passes are the imports')
    assert seen["tuned"][2][0] < seen["default"][2][0]
