"""Figures of docs/DISTRIBUTED.md: throughput of 1 process vs N workers, and Redis memory per URL.

    .venv/bin/python -m crawler.distributed.bench                      # everything (a few minutes)
    .venv/bin/python -m crawler.distributed.bench --skip-crawl --filter-urls 1000000
    .venv/bin/python -m crawler.distributed.bench --articles 2000 --workers 1,3 --politeness off

Needs Debian's ``redis-server``. The demo sites (``--articles`` of them) are served by a
separate process on 127.0.0.1; every crawl writes a fresh local archive; workers are started
(``scrapy worker --once``) before the coordinator, as services would be waiting. Throughput is
article pages fetched per second of the coordinator's wall time (seeding to report); CPU is that
of the crawling processes (coordinator, workers) and of Redis, per article page: on a shared,
busy machine it is the steadier figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRAPY = [sys.executable, "-m", "scrapy"]
OFF = ["-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_BACKOFF_BASE=0.2"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = _port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port)
    return proc, f"redis://127.0.0.1:{port}/0"


def filter_memory(redis_url: str, n: int, buckets: int) -> dict:
    """Bytes per URL of the run's request filter, its found-URL map, and scrapy-redis's set."""
    import redis

    from crawler.distributed.config import Config
    from crawler.distributed.keys import bucket_of
    from crawler.distributed.redisio import ADD, OUTCOME

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    add, outcome = client.register_script(ADD), client.register_script(OUTCOME)
    add(keys=["warm"], args=[b"x", 1000, b""])
    outcome(keys=["warm"], args=[b"x", "archived", 1000])
    client.delete("warm")
    ttl = int(Config.run_max_age * 1000)
    out = {"urls": n, "buckets": buckets}
    for name, field, value in (("filter", lambda i: hashlib.sha1(b"u%d" % i).digest()[:16], None),
                               ("found", lambda i: hashlib.sha256(b"u%d" % i).digest()[:8], "archived")):
        pipe = client.pipeline(transaction=False)
        for i in range(n):
            f = field(i)
            key = f"bench:{name}:{bucket_of(f, buckets)}"
            if value is None:
                pipe.evalsha(add.sha, 1, key, f, ttl, b"")
            else:
                pipe.evalsha(add.sha, 1, key, f, ttl, b"")
                pipe.evalsha(outcome.sha, 1, key, f, value, ttl)
            if i % 10000 == 9999:
                pipe.execute()
        pipe.execute()
        total = sum(client.memory_usage(k, samples=0) for k in client.scan_iter(match=f"bench:{name}:*", count=5000))
        out[f"{name}_bytes_per_url"] = round(total / n, 1)
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.sadd("bench:scrapy-redis", hashlib.sha1(b"u%d" % i).hexdigest())
        if i % 10000 == 9999:
            pipe.execute()
    pipe.execute()
    out["scrapy_redis_set_bytes_per_url"] = round(client.memory_usage("bench:scrapy-redis", samples=0) / n, 1)
    client.flushall()
    return out


def crawl(tmp: Path, base_url: str, redis_url: str | None, workers: int, extra: list[str]) -> dict:
    archive = tmp / "archive"
    env = dict(os.environ, ARCHIVE_URI=str(archive), ARCHIVE_JOURNAL_DIR=str(tmp / "journal"), PROGRESS="off",
               DEMO_BASE_URL=base_url, LOG_LEVEL="WARNING")
    env.pop("DISTRIBUTED", None)
    if redis_url:
        env.update(DISTRIBUTED="1", REDIS_URL=redis_url)
    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children that ended: workers, coordinator
        seconds = usage.ru_utime + usage.ru_stime
        if redis_url:
            import redis

            info = redis.Redis.from_url(redis_url).info("cpu")
            seconds += info["used_cpu_user"] + info["used_cpu_sys"]
        return seconds

    cpu_before = cpu()
    procs = [subprocess.Popen([*SCRAPY, "worker", "--once", *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(workers if redis_url else 0)]
    time.sleep(3 if procs else 0)  # let them wait for the run, as services do
    started = time.monotonic()
    done = subprocess.run([*SCRAPY, "crawlall", "--sources", "demo_*", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.monotonic() - started
    for p in procs:
        p.wait(120)
    cpu_s = cpu() - cpu_before
    from storage import open_archive

    runs = open_archive(str(archive)).read_table("runs").to_pylist()
    pages = sum(r["article_pages_fetched"] for r in runs)
    archived = sum(r["articles_archived"] for r in runs)
    return {"mode": f"{workers} worker(s)" if redis_url else "1 process", "exit": done.returncode,
            "wall_s": round(wall, 1), "article_pages": pages, "archived": archived,
            "pages_per_s": round(pages / wall, 1), "cpu_s": round(cpu_s, 1),
            "cpu_ms_per_page": round(1000 * cpu_s / max(1, pages), 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="articles in the demo world")
    parser.add_argument("--workers", default="1,3", help="worker counts to measure")
    parser.add_argument("--politeness", choices=("off", "on", "both"), default="off",
                        help="off: no delays (CPU-bound); on: the project's politeness defaults")
    parser.add_argument("--filter-urls", type=int, default=1_000_000)
    parser.add_argument("--buckets", type=int, default=None, help="default: DISTRIBUTED_FILTER_BUCKETS's default")
    parser.add_argument("--skip-crawl", action="store_true")
    args = parser.parse_args(argv)
    from crawler.distributed.config import Config

    results: dict = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="distbench-") as tmpdir:
        tmp = Path(tmpdir)
        redis_proc, redis_url = start_redis(tmp)
        try:
            if args.filter_urls:
                results["memory"] = filter_memory(redis_url, args.filter_urls, args.buckets or Config.buckets)
                print(json.dumps(results["memory"]), flush=True)
            if not args.skip_crawl:
                port = _port()
                server = subprocess.Popen([sys.executable, "-m", "crawler.demo.server", "--port", str(port),
                                           "--articles", str(args.articles)], cwd=ROOT, stdout=subprocess.DEVNULL)
                try:
                    _wait_port(port)
                    base = f"http://127.0.0.1:{port}"
                    results["throughput"] = []
                    modes = ("off", "on") if args.politeness == "both" else (args.politeness,)
                    for politeness in modes:
                        extra = OFF if politeness == "off" else []
                        runs = [(None, 1)] + [(redis_url, int(k)) for k in args.workers.split(",")]
                        for i, (url, k) in enumerate(runs):
                            row = crawl(tmp / f"{politeness}-{i}", base, url, k, extra)
                            row["politeness"] = politeness
                            results["throughput"].append(row)
                            print(json.dumps(row), flush=True)
                finally:
                    _stop(server)
        finally:
            _stop(redis_proc)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
