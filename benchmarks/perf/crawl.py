"""One measured crawl: ``scrapy crawlall --sources 'demo_*'`` as a child process, over a bench site.

The command is the one operators run (by default one crawl process per core, one crawler per
source, one archive run); only the settings below change. Measured from outside the process, so nothing in the crawl is
instrumented: wall time (spawn to exit), CPU time (``wait4`` rusage of the child, its parts
included), resident memory of the child and its parts every half second (``/proc``; the peak is
the larger of the highest sum and the biggest single process; beside it the PSS sum, which counts the
libraries the parts share once), the server's CPU, and the CPU other
processes used meanwhile (this machine is shared: a busy neighbour slows every figure here).
The counts come from the run report rows the crawl itself writes (``<archive>/runs``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = "demo_*"

# Politeness is what a benchmark must not measure: every delay and cap is lifted, and nothing
# else is changed. Both crawls (fetch-only and full) run with exactly these.
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": "0",                  # default 0.25 s between requests to a site
    "AUTOTHROTTLE_ENABLED": "False",        # default on: adapts the delay to latency
    "CONCURRENT_REQUESTS": "32",            # default 16 (per crawler, i.e. per source)
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",  # default 2 per site
    "ROBOTSTXT_OBEY": "False",              # robots.txt of the bench site allows everything anyway
    "RETRY_BACKOFF_BASE": "0",              # default 2 s, doubling: the trap pages (500, truncated) retry at once
    "PROGRESS": "log",
    "PROGRESS_INTERVAL": "30",
    "LOG_LEVEL": "INFO",
}
FETCH_ONLY = {"ITEM_PIPELINES": "{}"}      # same discovery and downloads, the page items are discarded


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size (``/proc/<pid>/smaps_rollup``): resident memory, pages shared with
    other processes (the libraries every part maps) counted by share."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _tree_kb(pid: int) -> tuple[int, int]:
    """``(RSS, PSS)`` summed over ``pid`` and every process under it (``crawlall --processes N``:
    the parent and its parts). The RSS sum counts a shared page once per process; PSS does not."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        rss += _rss_kb(p)
        pss += _pss_kb(p)
        todo += children.get(p, [])
    return rss, pss


def system_busy_seconds() -> float:
    """CPU seconds every process of the machine has used since boot (user+nice+system+irq)."""
    parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet")) if path.exists() else 0


def run_rows(archive: Path) -> list[dict]:
    import duckdb

    files = list((archive / "runs").rglob("*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet({[str(f) for f in files]!r})")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def article_rows(archive: Path) -> int:
    import duckdb

    files = list((archive / "articles").rglob("*.parquet"))
    if not files:
        return 0
    return duckdb.sql(f"SELECT count(*) FROM read_parquet({[str(f) for f in files]!r})").fetchall()[0][0]


def crawl(name: str, base_url: str, workdir: Path, fetch_only: bool = False, server_pid: int | None = None,
          profile: Path | None = None, log=print) -> dict:
    """Run one crawl of every demo source into a fresh archive; return its figures."""
    archive = workdir / f"archive-{name}"
    journal = workdir / f"journal-{name}"
    for path in (archive, journal):
        shutil.rmtree(path, ignore_errors=True)
    settings = dict(BENCH_SETTINGS, DEMO_BASE_URL=base_url, **(FETCH_ONLY if fetch_only else {}))
    cmd = [str(Path(sys.executable).with_name("scrapy")), "crawlall", "--sources", SOURCES]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = dict(os.environ, ARCHIVE_URI=str(archive), ARCHIVE_JOURNAL_DIR=str(journal), PYTHONUNBUFFERED="1")
    out_path = workdir / f"{name}.out"
    log(f"crawl {name}: {'fetch-only' if fetch_only else 'full pipeline'} -> {archive}")
    busy0, srv0 = system_busy_seconds(), _proc_cpu(server_pid) if server_pid else 0.0
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=out, stderr=subprocess.STDOUT)
    timeline: list[tuple[float, int]] = []  # (s, RSS summed over the processes)
    pss_timeline: list[tuple[float, int]] = []  # (s, PSS summed over the processes)
    done = threading.Event()

    def sample():
        while not done.wait(0.5):
            rss, pss = _tree_kb(proc.pid)
            if rss:
                at = round(time.monotonic() - t0, 1)
                timeline.append((at, rss))
                pss_timeline.append((at, pss))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    spy = None
    try:  # the crawl is stopped if anything here fails (py-spy missing: run through `make bench`)
        if profile is not None:
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(proc.pid),
                                    "--subprocesses", "--rate", "100", "--idle", "--nonblocking", "--format", "raw",
                                    "-o", str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise
    wall = time.monotonic() - t0
    done.set()
    sampler.join()
    busy = system_busy_seconds() - busy0
    server_cpu = (_proc_cpu(server_pid) - srv0) if server_pid else 0.0
    if spy is not None:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.terminate()
            spy.wait()
    code = os.waitstatus_to_exitcode(status)
    rows = run_rows(archive)
    pages = sum(int(r.get("article_pages_fetched") or 0) for r in rows)
    requests = sum(int(r.get("requests") or 0) for r in rows)
    archived = sum(int(r.get("articles_archived") or 0) for r in rows)
    cpu = usage.ru_utime + usage.ru_stime
    result = {
        "name": name,
        "mode": "fetch_only" if fetch_only else "full",
        "exit_code": code,
        "command": " ".join(cmd[1:]),
        "wall_s": round(wall, 2),
        "crawl_s": round(max((float(r.get("duration_s") or 0) for r in rows), default=0.0), 2),
        "cpu_s": round(cpu, 2),
        "cpu_user_s": round(usage.ru_utime, 2),
        "cpu_system_s": round(usage.ru_stime, 2),
        # the largest of: the biggest single process (wait4), the sampled sum over its processes
        "peak_rss_mb": round(max(usage.ru_maxrss, max((kb for _, kb in timeline), default=0)) / 1024, 1),
        "peak_rss_mb_one_process": round(usage.ru_maxrss / 1024, 1),
        "peak_pss_mb": round(max((kb for _, kb in pss_timeline), default=0) / 1024, 1),
        "requests": requests,
        "article_pages": pages,
        "articles_archived": archived,
        "archive_article_rows": article_rows(archive) if not fetch_only else 0,
        "bytes_downloaded": sum(int(r.get("bytes_downloaded") or 0) for r in rows),
        "archive_articles_bytes": dir_bytes(archive / "articles"),
        "archive_total_bytes": sum(p.stat().st_size for p in archive.rglob("*") if p.is_file()) if archive.exists() else 0,
        "pages_per_s": round(pages / wall, 1) if wall else None,
        "pages_per_cpu_s": round(pages / cpu, 1) if cpu else None,
        "cpu_ms_per_page": round(cpu / pages * 1000, 3) if pages else None,
        "server_cpu_s": round(server_cpu, 2),
        "other_processes_cores_busy": round(max(0.0, busy - cpu - server_cpu) / wall, 2) if wall else None,
        "rss_timeline_kb": timeline[:: max(1, len(timeline) // 120)],
        "pss_timeline_kb": pss_timeline[:: max(1, len(pss_timeline) // 120)],
        "statuses": {r["source"]: r.get("status") for r in rows},
        "output": str(out_path),
    }
    if code != 0 or not pages:
        log(f"crawl {name} exited {code}; see {out_path}")
        result["tail"] = out_path.read_text(errors="replace")[-3000:]
    log(f"crawl {name}: {pages:,} article pages in {wall:.1f} s ({result['pages_per_s']} /s), "
        f"CPU {result['cpu_ms_per_page']} ms/page, peak RSS {result['peak_rss_mb']} MB "
        f"(PSS {result['peak_pss_mb']} MB, biggest process {result['peak_rss_mb_one_process']} MB)")
    return result


if __name__ == "__main__":  # python -m benchmarks.perf.crawl BASE_URL WORKDIR [fetch]
    print(json.dumps(crawl("manual", sys.argv[1], Path(sys.argv[2]), fetch_only=sys.argv[3:] == ["fetch"]),
                     indent=1, default=str))
