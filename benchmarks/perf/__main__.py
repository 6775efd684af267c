"""``make bench``: every measurement of docs/BENCHMARKS.md in one invocation.

Environment (defaults in brackets): BENCH_ARTICLES [20000], BENCH_ARTICLES_LARGE [100000; 0 skips
the memory-growth crawl], BENCH_PAD [100000 bytes of inline script per article page],
BENCH_MICRO_PAGES [1000], BENCH_PEER_PAGES [200], BENCH_QUERY_ARTICLES [1000000; 0 skips],
BENCH_FETCH_LARGE [0; 1: also a fetch-only crawl at the large size], BENCH_WORKDIR [a temporary
folder, removed at the end unless BENCH_KEEP=1], BENCH_CACHE [~/.cache/newsarchive-bench: the
pre-rendered sites], BENCH_DOCS [1: refresh the table in docs/BENCHMARKS.md].
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.perf import crawl as crawl_mod
from benchmarks.perf import profile as profile_mod
from benchmarks.perf import report, sitegen
from benchmarks.perf.server import ServerProcess as Server, load_test

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
DOCS = REPO / "docs" / "BENCHMARKS.md"
SHARED_VN = REPO.parent / "shared" / "data" / "vn-pages"
SHARED_FUNDUS = REPO.parent / "shared" / "data" / "fundus-pages"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def micro(kind: str, site: sitegen.Site, pages: int, real: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.perf.micro", kind, str(site.folder), "--pages", str(pages)]
    if real:
        cmd += ["--real", str(real)]
    done = subprocess.run(cmd, cwd=str(REPO), capture_output=True, text=True)
    if done.returncode != 0:
        log(f"micro {kind} failed: {done.stderr[-1500:]}")
        return {"error": done.stderr[-1500:]}
    result = json.loads(done.stdout)
    log(f"micro {kind}{' (real pages)' if real else ''}: {result['cpu_ms_per_page']} CPU ms/page, "
        f"{result['pages_per_s']} pages/s")
    if "generic_over_trafilatura" in result:
        log(f"  generic path {result['generic_cpu_ms_per_page']} vs trafilatura alone "
            f"{result['trafilatura_cpu_ms_per_page']} CPU ms/page on the same pages: "
            f"x{result['generic_over_trafilatura']} (floor <= 1.3)")
    return result


def checkpoint(r: dict) -> None:
    """What is measured so far, in case the run is cut short (removed when the run completes)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{r['started_at']}-partial.json").write_text(json.dumps(r, indent=1, default=str, ensure_ascii=False))


def main() -> int:
    n = env_int("BENCH_ARTICLES", 20_000)
    large = env_int("BENCH_ARTICLES_LARGE", 100_000)
    pad = env_int("BENCH_PAD", 100_000)
    micro_pages = env_int("BENCH_MICRO_PAGES", 1000)
    peer_pages = env_int("BENCH_PEER_PAGES", 200)
    query_articles = env_int("BENCH_QUERY_ARTICLES", 1_000_000)
    keep = os.environ.get("BENCH_KEEP") == "1"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    workdir = Path(os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix=f"newsarchive-bench-{stamp}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    r: dict = {"started_at": stamp, "machine": report.machine(),
               "config": {"articles": n, "articles_large": large, "pad_bytes": pad, "micro_pages": micro_pages,
                          "peer_pages": peer_pages, "query_articles": query_articles},
               "bench_settings": crawl_mod.BENCH_SETTINGS, "fetch_only_settings": crawl_mod.FETCH_ONLY,
               "crawls": {}, "micro": {}}
    log(f"work folder {workdir}")
    try:
        site = sitegen.prepare(n, pad, log=log)
        r["site"] = {"pages": len(site.index), "articles": len(site.article_targets()), "port": site.port,
                     "gzip_bytes_mean": round(site.stored_bytes() / len(site.index)),
                     "page_kb_mean": None}
        log("server alone: load test, 5 s")
        r["server_alone"] = load_test(site.folder, 5.0)
        log(f"server alone: {r['server_alone']['requests_per_s']} req/s reached, "
            f"{r['server_alone']['server_cpu_us_per_request']} µs server CPU per request")
        profile_raw = workdir / "profile-full.txt"
        with Server(site) as srv:
            r["crawls"]["fetch_only"] = crawl_mod.crawl(f"fetch-only-{n}", site.base_url, workdir, fetch_only=True,
                                                        server_pid=srv.proc.pid, log=log)
            r["crawls"]["full"] = crawl_mod.crawl(f"full-{n}", site.base_url, workdir, server_pid=srv.proc.pid,
                                                  profile=None if large else profile_raw, log=log)
            r["server_stats"] = srv.stats()
        checkpoint(r)
        for kind in ("lxml", "lxml_str", "steps_rules", "steps_generic", "trafilatura", "generic_vs_trafilatura"):
            r["micro"][kind] = micro(kind, site, micro_pages)
        r["micro"]["peer"] = micro("peer", site, peer_pages)
        r["site"]["page_kb_mean"] = r["micro"]["lxml"].get("page_kb_mean")
        if SHARED_VN.exists():
            r["micro_real_pages"] = {k: micro(k, site, 110, real=SHARED_VN)
                                     for k in ("lxml", "steps_rules", "steps_generic", "trafilatura",
                                               "generic_vs_trafilatura")}
        if SHARED_FUNDUS.exists():  # the generic path's own ground: many languages, no declared source
            # pages=1: one pass over every page (real pages are repeated pages // their number times, once at least)
            r["micro_fundus_pages"] = {"generic_vs_trafilatura": micro("generic_vs_trafilatura", site, 1,
                                                                       real=SHARED_FUNDUS)}
        checkpoint(r)
        if large:
            site_l = sitegen.prepare(large, pad, log=log)
            with Server(site_l) as srv:
                if os.environ.get("BENCH_FETCH_LARGE", "0") == "1":
                    r["crawls"]["fetch_only_large"] = crawl_mod.crawl(
                        f"fetch-only-{large}", site_l.base_url, workdir, fetch_only=True, server_pid=srv.proc.pid,
                        log=log)
                r["crawls"]["full_large"] = crawl_mod.crawl(f"full-{large}", site_l.base_url, workdir,
                                                            server_pid=srv.proc.pid, profile=profile_raw, log=log)
            shutil.rmtree(workdir / f"archive-full-{large}", ignore_errors=True)
            checkpoint(r)
        if query_articles:
            log(f"queries: generating {query_articles:,} articles as Parquet, then DuckDB")
            done = subprocess.run([sys.executable, "-m", "benchmarks.perf.queries", str(workdir / "archive-1m"),
                                   "--articles", str(query_articles)], cwd=str(REPO), capture_output=True, text=True)
            if done.returncode == 0:
                r["queries"] = json.loads(done.stdout)
                log("queries: " + ", ".join(f"{k} {v['median_s']} s" for k, v in r["queries"]["queries"].items()))
            else:
                log(f"queries failed: {done.stderr[-1500:]}")
        r["ratios"] = report.ratios(r)
        r["memory"] = report.memory(r)
        r["floors"] = report.floors(r)
        r["machine"]["loadavg_end"] = os.getloadavg()
        r["duration_s"] = round(time.monotonic() - t_start, 1)
        RESULTS.mkdir(parents=True, exist_ok=True)
        if profile_raw.exists():
            summary = profile_mod.summarize(profile_raw)
            r["profile"] = summary
            (RESULTS / f"{stamp}-profile.txt").write_text(profile_mod.render(summary))
            shutil.copy(profile_raw, RESULTS / f"{stamp}-profile-raw.txt") if profile_raw.stat().st_size < 1_500_000 \
                else None
        for x in r["crawls"].values():
            x.pop("output", None)
        out = RESULTS / f"{stamp}.json"
        out.write_text(json.dumps(r, indent=1, default=str, ensure_ascii=False))
        md = report.markdown(r)
        (RESULTS / f"{stamp}.md").write_text(md)
        report.print_tables(r)
        if os.environ.get("BENCH_DOCS", "1") == "1":
            report.update_docs(DOCS, md)
        (RESULTS / f"{stamp}-partial.json").unlink(missing_ok=True)
        log(f"results: {out} ({r['duration_s']:.0f} s)")
        return 0
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
