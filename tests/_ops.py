"""Helpers of the operations tests (tests/test_ops*.py): run `scrapy` as a subprocess against a
demo server on 127.0.0.1, read the archive back with DuckDB, look at the server's request log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = [sys.executable, "-m", "scrapy"]
# Politeness delays off so the suite stays fast; everything else is the production default.
FAST = ["-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_BACKOFF_BASE=0.2",
        "-s", "LOG_LEVEL=WARNING"]
DEMO = ("demo_baobinhduong", "demo_binhduong_portal", "demo_kinhte")


def env_for(archive: Path, base_url: str | None, **extra) -> dict:
    env = dict(os.environ, ARCHIVE_URI=str(archive), ARCHIVE_JOURNAL_DIR=str(archive) + "-journal",
               PROGRESS="log")
    env.update(extra)
    env.pop("DEMO_BASE_URL", None)
    if base_url:
        env["DEMO_BASE_URL"] = base_url
    return env


def scrapy(*args: str, archive: Path, base_url: str | None, timeout: int = 240, **extra):
    return subprocess.run([*SCRAPY, *args], cwd=ROOT, env=env_for(archive, base_url, **extra),
                          capture_output=True, text=True, timeout=timeout)


def scrapy_popen(*args: str, archive: Path, base_url: str | None, **extra) -> subprocess.Popen:
    return subprocess.Popen([*SCRAPY, *args], cwd=ROOT, env=env_for(archive, base_url, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(archive: Path, dataset: str, where: str = "") -> list[dict]:
    files = sorted(str(p) for p in (archive / dataset).rglob("*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # no ambiguous local times (tests/test_e2e_demo.py rows)
    cur = con.execute(f"SELECT * FROM read_parquet({files!r}, hive_partitioning=false) {where}")
    cols = [d[0] for d in cur.description]
    out = [dict(zip(cols, r)) for r in cur.fetchall()]
    for row in out:
        for key in ("dropped", "http_errors"):
            if isinstance(row.get(key), list):
                row[key] = {kv["key"]: kv["value"] for kv in row[key]}
    return out


def run_rows(archive: Path, run_id: str | None = None) -> dict[str, dict]:
    """``{source: runs row}`` of one run (the latest when ``run_id`` is None)."""
    all_rows = rows(archive, "runs")
    if run_id is None:
        run_id = max(all_rows, key=lambda r: r["started_at"])["run_id"]
    return {r["source"]: r for r in all_rows if r["run_id"] == run_id}


def run_id_of(output: str) -> str:
    for line in output.splitlines():
        if "log: " in line and "runs/_logs/" in line:
            return line.rsplit("/", 1)[1].removesuffix(".log").strip()
    raise AssertionError("no run log line in output:\n" + output[-2000:])


def accounted(row: dict) -> bool:
    """``found = archived + duplicates + dropped`` for one ``runs`` row."""
    dropped = dict(row["dropped"] or {})
    return row["articles_found"] == row["articles_archived"] + row["duplicates_skipped"] + sum(dropped.values())


def path_of(url: str) -> str:
    return urlsplit(url).path


def article_paths(world) -> set[str]:
    """Every path discovery may treat as an article page (articles, traps, non-articles)."""
    paths = {a.path for a in world.articles}
    paths |= {p.split("?")[0] for p in world.traps.values()}
    paths |= {p.split("?")[0] for p in world.non_articles}
    return paths


def requested_article_paths(requests, world) -> list[str]:
    known = article_paths(world)
    return [urlsplit(t).path.rstrip("/") for t, _ in requests if urlsplit(t).path.rstrip("/") in known]


def statuses(requests: list[tuple[str, int]], path: str) -> list[int]:
    """HTTP statuses the demo server answered for ``path`` (its ``requests`` log), in order."""
    return [s for t, s in requests if urlsplit(t).path.rstrip("/") == path]


def request_rate(times: list[float], window: float = 3.0) -> tuple[int, float, float]:
    """``(requests, rate in the busiest window, seconds from first to last)`` of request times.

    The busiest rate is over ``window`` seconds, not one: the demo server stamps a request when its
    thread gets to it, and on a loaded machine a stalled server thread stamps a few paced requests
    together, which a one-second count reads as a burst the crawler never sent."""
    return len(times), busiest(times, window) / window, times[-1] - times[0]


def busiest(times: list[float], window: float = 1.0) -> int:
    """Most requests within any ``window`` seconds (of the demo server's ``request_times``)."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
