"""Summary of a py-spy profile (``--format raw --idle``) of a crawl: where the reactor thread's time goes.

Only the main thread of each crawling process (the Twisted reactor: downloads, spider callbacks,
every item pipeline) is counted, summed over the parts of a ``--processes`` crawl; Scrapy's DNS/thread-pool workers and the crawl-lock renewer sleep in other threads.
Samples are wall-clock (``--idle``), so waiting shows: an fsync is time the reactor stood still.

    python -m benchmarks.perf.profile PROFILE.txt      # prints the summary
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (bucket, any of these substrings in a frame), first match from the leaf's side wins
BUCKETS = (
    ("a part's crawl over, waiting for its turn to publish", ("wait_turn (",)),
    ("journal append (fsync per accepted row)", ("Journal.append",)),
    ("archive publish (Parquet write at flush/commit)", ("Run.flush", "Run.commit", "write_file", "to_table")),
    ("step 0 decode", ("DecodePipeline",)),
    ("step 1 extract", ("ExtractPipeline",)),
    ("step 2 clean", ("CleanPipeline",)),
    ("step 3 dates", ("DatesPipeline",)),
    ("step 4 validate", ("ValidatePipeline",)),
    ("window", ("WindowPipeline",)),
    ("step 5 dedupe", ("DedupePipeline",)),
    ("step 6 near-dup", ("NearDup", "neardup")),
    ("step 7 archive (row, journal encode)", ("ArchivePipeline",)),
    ("spider (discovery, item bookkeeping)", ("crawler/spiders/news.py",)),
    ("idle: reactor waiting for the network", ("select (selectors.py", "EpollSelector.select", "poll (")),
)
OTHER = "Scrapy/Twisted: download, middlewares, scheduling"


def read(path: Path) -> list[tuple[list[str], int]]:
    """``(frames, samples)`` of every crawling process's stacks. Recorded with ``--subprocesses``
    (``crawlall --processes N``), a stack starts with one ``process <pid>:"<cmd>"`` frame per
    process level: they are dropped, and so is the parent of the parts waiting for them
    (``run_parts``), which crawls nothing."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            frames = [f for f in stack.split(";") if not f.startswith("process ")]
            if not any(f.startswith("run_parts (") for f in frames):
                out.append((frames, int(n)))
    return out


def _main_thread(frames: list[str]) -> bool:
    return bool(frames) and not frames[0].startswith(("Thread._bootstrap", "_bootstrap"))


def bucket_of(frames: list[str]) -> str:
    leaf = frames[-1]
    for name, needles in BUCKETS:
        if name.startswith("idle"):
            if any(n in leaf for n in needles):
                return name
            continue
        if any(n in f for f in frames for n in needles):
            return name
    return OTHER


def summarize(path: Path, top: int = 25) -> dict:
    stacks = [(f, n) for f, n in read(path) if _main_thread(f)]
    total = sum(n for _, n in stacks) or 1
    buckets: Counter = Counter()
    self_time: Counter = Counter()
    inclusive: Counter = Counter()
    for frames, n in stacks:
        buckets[bucket_of(frames)] += n
        self_time[frames[-1]] += n
        for f in set(frames):
            if any(p in f for p in ("(pipelines/", "(storage/", "(crawler/")) and "(crawler/commands/" not in f:
                inclusive[f] += n

    def share(c: Counter, k: int) -> list[list]:
        return [[name, round(n / total * 100, 1)] for name, n in c.most_common(k)]

    return {"samples_main_thread": total, "rate_hz": 100, "buckets_pct": share(buckets, len(BUCKETS) + 1),
            "self_pct": share(self_time, top), "project_inclusive_pct": share(inclusive, top)}


def render(summary: dict) -> str:
    lines = [f"main-thread samples: {summary['samples_main_thread']} (wall clock, 100 Hz, every crawl process)", "",
             "where the reactor thread's time goes:"]
    lines += [f"  {pct:5.1f}%  {name}" for name, pct in summary["buckets_pct"]]
    lines += ["", "top functions by self time:"]
    lines += [f"  {pct:5.1f}%  {name}" for name, pct in summary["self_pct"]]
    lines += ["", "project functions by inclusive time:"]
    lines += [f"  {pct:5.1f}%  {name}" for name, pct in summary["project_inclusive_pct"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(summarize(Path(sys.argv[1]))), end="")
