"""Figures -> ratios, floors, the rich table on the terminal and the same tables in Markdown."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("scrapy", "twisted", "lxml", "trafilatura", "pyarrow", "duckdb", "newspaper4k", "py-spy", "rich")


def machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions,
            "commit": git("rev-parse", "--short", "HEAD"),
            "tree_modified": bool(git("status", "--porcelain", "--untracked-files=no")),
            "loadavg_start": os.getloadavg()}


def _div(a, b, nd=2):
    return round(a / b, nd) if a is not None and b else None


def ratios(r: dict) -> dict:
    fetch, full, micro = r["crawls"]["fetch_only"], r["crawls"]["full"], r["micro"]
    processing = round(full["cpu_ms_per_page"] - fetch["cpu_ms_per_page"], 3)
    processing_wall = round((full["wall_s"] - fetch["wall_s"]) / full["article_pages"] * 1000, 3)
    rules, generic = micro["steps_rules"], micro["steps_generic"]
    generic_processing = round(processing + generic["cpu_ms_per_page"] - rules["cpu_ms_per_page"], 3)
    peer = micro.get("peer") or {}
    peer_cpu_rate = 1000 / peer["cpu_ms_per_page"] if peer.get("cpu_ms_per_page") else None
    out = {
        "full_over_fetch_only": _div(full["pages_per_s"], fetch["pages_per_s"]),
        "full_over_fetch_only_cpu": _div(full["pages_per_cpu_s"], fetch["pages_per_cpu_s"]),
        "processing_cpu_ms_per_page": processing,
        "processing_wall_ms_per_page": processing_wall,
        "processing_over_lxml_parse": _div(processing, micro["lxml"]["cpu_ms_per_page"], 1),
        "processing_over_steps_rules": _div(processing, rules["cpu_ms_per_page"]),
        "processing_over_lxml_parse_str": _div(processing, micro["lxml_str"]["cpu_ms_per_page"], 1),
        "processing_over_trafilatura": _div(processing, micro["trafilatura"]["cpu_ms_per_page"]),
        "steps_rules_over_lxml_parse": _div(rules["cpu_ms_per_page"], micro["lxml"]["cpu_ms_per_page"], 1),
        "generic_processing_cpu_ms_per_page": generic_processing,
        "generic_processing_over_trafilatura": _div(generic_processing, micro["trafilatura"]["cpu_ms_per_page"]),
        "steps_generic_over_trafilatura": _div(generic["cpu_ms_per_page"], micro["trafilatura"]["cpu_ms_per_page"]),
        "generic_path_over_trafilatura": (micro.get("generic_vs_trafilatura") or {}).get("generic_over_trafilatura"),
        "generic_path_over_trafilatura_real": ((r.get("micro_real_pages") or {}).get("generic_vs_trafilatura")
                                               or {}).get("generic_over_trafilatura"),
        "generic_path_over_trafilatura_fundus": ((r.get("micro_fundus_pages") or {}).get("generic_vs_trafilatura")
                                                 or {}).get("generic_over_trafilatura"),
        "full_over_peer": _div(full["pages_per_s"], peer.get("pages_per_s")),
        "full_over_peer_cpu": _div(full["pages_per_cpu_s"], peer_cpu_rate),
        # CPU per page of the large crawl over the small one's: flat means the crawl's cost per page
        # does not grow with its size
        "cpu_per_page_large_over_small": _div((r["crawls"].get("full_large") or {}).get("cpu_ms_per_page"),
                                              full["cpu_ms_per_page"]),
    }
    return out


def memory(r: dict) -> dict:
    small, large = r["crawls"]["full"], r["crawls"].get("full_large")
    out = {"peak_rss_mb": (large or small)["peak_rss_mb"], "at_articles": (large or small)["articles_archived"],
           "peak_rss_mb_small": small["peak_rss_mb"], "small_articles": small["articles_archived"],
           "rss_growth_bytes_per_article": None,
           # the crawl's processes (crawlall --processes): the PSS sum counts their shared libraries
           # once; the biggest single process is what one part costs
           "peak_pss_mb": (large or small).get("peak_pss_mb"),
           "peak_rss_mb_one_process": (large or small).get("peak_rss_mb_one_process")}
    if large:
        extra = large["articles_archived"] - small["articles_archived"]
        out["rss_growth_bytes_per_article"] = round((large["peak_rss_mb"] - small["peak_rss_mb"]) * 1048576 / extra) \
            if extra > 0 else None
        fl = r["crawls"].get("fetch_only_large")
        if fl:
            fs = r["crawls"]["fetch_only"]
            out["fetch_only_growth_bytes_per_article"] = round(
                (fl["peak_rss_mb"] - fs["peak_rss_mb"]) * 1048576 / max(1, fl["article_pages"] - fs["article_pages"]))
    return out


def floors(r: dict) -> list[dict]:
    ra, mem, q = r["ratios"], r["memory"], r.get("queries") or {}
    out = [
        ("full pipeline / fetch-only throughput", ">= 0.6", ra["full_over_fetch_only"], lambda v: v >= 0.6),
        ("processing in the crawl / our steps alone (rules)", "<= 2", ra["processing_over_steps_rules"],
         lambda v: v <= 2),
        ("processing per page / one lxml parse (rules)", "<= 15", ra["processing_over_lxml_parse"], lambda v: v <= 15),
        ("generic-path processing / trafilatura", "<= 1", ra["generic_processing_over_trafilatura"], lambda v: v <= 1),
        ("generic path / trafilatura alone, same pages, one process", "<= 1.3", ra["generic_path_over_trafilatura"],
         lambda v: v <= 1.3),
        ("the same on ../shared/data/vn-pages", "<= 1.3", ra["generic_path_over_trafilatura_real"], lambda v: v <= 1.3),
        ("the same on ../shared/data/fundus-pages", "<= 1.3", ra.get("generic_path_over_trafilatura_fundus"),
         lambda v: v <= 1.3),
        (f"peak RSS at {mem['at_articles']:,} articles (MB)", "< 400", mem["peak_rss_mb"], lambda v: v < 400),
        ("  the same, PSS summed over the crawl's processes (MB)", "–", mem.get("peak_pss_mb"), None),
        ("  the same, its biggest single process (MB)", "–", mem.get("peak_rss_mb_one_process"), None),
        ("RSS growth per archived article (bytes)", "< 512", mem["rss_growth_bytes_per_article"], lambda v: v < 512),
        ("CPU per page, large crawl / small crawl", "<= 1.1", ra["cpu_per_page_large_over_small"], lambda v: v <= 1.1),
        ("full pipeline / newspaper4k end to end", ">= 2.5", ra["full_over_peer"], lambda v: v >= 2.5),
    ]
    for name, res in (q.get("queries") or {}).items():
        limit = 0.25 if name == "by_article_id" else 1.0
        out.append((f"query {name} (s, median)", f"< {limit}", res["median_s"], lambda v, lim=limit: v < lim))
    return [{"floor": name, "target": target, "value": value,
             "holds": None if value is None or ok is None else bool(ok(value))}  # ok None: a figure, no floor
            for name, target, value, ok in out]


# ---------------------------------------------------------------------- tables


def _fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def rows(r: dict) -> list[list[str]]:
    c, m, s = r["crawls"], r["micro"], r.get("server_alone") or {}
    out = []
    if s:
        out.append(["bench server alone (load test)", _fmt(s["requests"]), _fmt(s["requests_per_s"]),
                    _fmt(s.get("server_capacity_per_core_rps"), 0), _fmt(s["server_cpu_us_per_request"] / 1000, 3),
                    "–", f"Python client-bound; {s['mb_per_s']} MB/s"])
    names = {"fetch_only": "1. fetch-only crawl (items discarded)", "full": "2. full pipeline crawl",
             "fetch_only_large": "1L. fetch-only crawl, large", "full_large": "2L. full pipeline crawl, large"}
    for key in ("fetch_only", "full", "fetch_only_large", "full_large"):
        x = c.get(key)
        if not x:
            continue
        note = f"{x['articles_archived']:,} archived" if x["mode"] == "full" else ""
        if x["mode"] == "full" and x["archive_article_rows"]:
            note += f"; archive {x['archive_articles_bytes'] / x['archive_article_rows']:,.0f} B/article"
        note += ("; " if note else "") + f"others busy {x['other_processes_cores_busy']} cores"
        out.append([names[key], _fmt(x["article_pages"]), _fmt(x["pages_per_s"]), _fmt(x["pages_per_cpu_s"]),
                    _fmt(x["cpu_ms_per_page"], 2), _fmt(x["peak_rss_mb"]), note])
    labels = {"lxml": "3. lxml.html parse of the bytes (floor)", "lxml_str": "3b. lxml.html parse of the str",
              "steps_rules": "our steps after download, rules", "steps_generic": "our steps after download, generic",
              "trafilatura": "4. trafilatura.extract",
              "generic_vs_trafilatura": "4b. generic path (process_page, no source), beside trafilatura",
              "peer": "5. peer end to end"}
    for key, label in labels.items():
        x = m.get(key)
        if not x:
            continue
        note = x.get("system") or (f"trafilatura {x['version']}" if x.get("version") else "")
        if "generic_over_trafilatura" in x:
            note = (f"trafilatura alone {x['trafilatura_cpu_ms_per_page']} ms on the same pages, in turn: "
                    f"x{x['generic_over_trafilatura']}")
        if "cpu_ms_per_step" in x:
            note = ", ".join(f"{k} {v}" for k, v in x["cpu_ms_per_step"].items())
        out.append([label, _fmt(x["pages"]), _fmt(x["pages_per_s"]), _fmt(1000 / x["cpu_ms_per_page"]),
                    _fmt(x["cpu_ms_per_page"], 3), _fmt(x["peak_rss_mb"]), note])
    return out


HEAD = ["run", "pages", "pages/s (wall)", "pages/CPU-s", "CPU ms/page", "peak RSS MB", "notes"]


def markdown(r: dict) -> str:
    mach = r["machine"]
    lines = [f"Run {r['started_at']} on {mach['cpu']}, {mach['cores']} cores, {mach['memory_gb']} GB, "
             f"Linux {mach['kernel']}, Python {mach['python']}, commit {mach['commit']}"
             f"{' (+ uncommitted changes)' if mach['tree_modified'] else ''}; load average at start "
             f"{', '.join(f'{x:.1f}' for x in mach['loadavg_start'])} (a shared machine).",
             f"Site: {r['config']['articles']:,} articles (large: {r['config']['articles_large']:,}), "
             f"pages {r['site']['page_kb_mean']} KB on average ({r['site']['pages']:,} URLs).", "",
             "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(x.replace("|", "/") for x in row) + " |" for row in rows(r)]
    lines += ["", "| floor | target | measured | holds |", "|---|---|---|---|"]
    for f in r["floors"]:
        lines.append(f"| {f['floor']} | {f['target']} | {_fmt(f['value'], 2)} | "
                     f"{'yes' if f['holds'] else 'no' if f['holds'] is False else '–'} |")
    ra = r["ratios"]
    lines += ["", f"Processing per page in the crawl (CPU, full − fetch-only): {ra['processing_cpu_ms_per_page']} ms; "
                  f"wall {ra['processing_wall_ms_per_page']} ms. CPU-based full / fetch-only: "
                  f"{ra['full_over_fetch_only_cpu']}; full / peer per CPU-second: {ra['full_over_peer_cpu']}; "
                  f"processing / lxml parse of the str: {ra['processing_over_lxml_parse_str']}; steps 0-5 alone "
                  f"(rules) / lxml parse: {ra['steps_rules_over_lxml_parse']}; steps 0-5 alone (generic) / "
                  f"trafilatura: {ra['steps_generic_over_trafilatura']}. Per-page rows hold their sample pages "
                  f"in memory (and the decoded text for the str-based ones): their peak RSS includes them."]
    q = r.get("queries")
    if q:
        a = q["archive"]
        lines += ["", f"Queries on {a['articles']:,} articles ({a['files']} files, {a['bytes'] / 1e6:,.0f} MB, "
                      f"{a['bytes_per_article']} B/article), DuckDB, fresh connection per run, median of 5:", "",
                  "| query | median s | first s | rows |", "|---|---|---|---|"]
        for name, res in q["queries"].items():
            lines.append(f"| {name} | {res['median_s']} | {res['first_s']} | {res['rows']:,} |")
        real = q.get("real_text")
        if real:
            lines += ["", f"Real text is bigger: {real['real']['articles']} real Vietnamese bodies "
                          f"({real['real']['body_utf8_bytes_per_article']:,.0f} B of UTF-8 each) take "
                          f"{real['real']['bytes_per_article']:,.0f} B/article in the same writer against "
                          f"{real['demo']['bytes_per_article']:,.0f} B for as many demo bodies: x{real['factor']}."]
    return "\n".join(lines) + "\n"


MARK_START, MARK_END = "<!-- bench:table:start -->", "<!-- bench:table:end -->"


def update_docs(docs: Path, md: str) -> bool:
    """Put ``md`` between the markers of ``docs`` (docs/BENCHMARKS.md); False when there are none."""
    if not docs.exists():
        return False
    text = docs.read_text()
    if MARK_START not in text or MARK_END not in text:
        return False
    head, rest = text.split(MARK_START, 1)
    docs.write_text(head + MARK_START + "\n" + md + MARK_END + rest.split(MARK_END, 1)[1])
    return True


def print_tables(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    t = Table(title="newsarchive bench: throughput and memory")
    for h in HEAD:
        t.add_column(h, justify="left" if h in ("run", "notes") else "right", overflow="fold")
    for row in rows(r):
        t.add_row(*row)
    console.print(t)
    f = Table(title="floors")
    for h in ("floor", "target", "measured", "holds"):
        f.add_column(h)
    for x in r["floors"]:
        f.add_row(x["floor"], x["target"], _fmt(x["value"], 2),
                  "[green]yes[/]" if x["holds"] else "[red]no[/]" if x["holds"] is False else "–")
    console.print(f)
    console.print(markdown(r).split("\n\n", 1)[0])


def main(argv=None) -> None:
    """``python -m benchmarks.perf.report RESULTS.json [--docs]``: recompute ratios and floors of a
    results file, rewrite its .md (and the docs' table), print the tables."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--docs", action="store_true", help="also refresh docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    r = json.loads(args.results.read_text())
    r["ratios"], r["memory"] = ratios(r), memory(r)
    r["floors"] = floors(r)
    args.results.write_text(json.dumps(r, indent=1, default=str, ensure_ascii=False))
    md = markdown(r)
    args.results.with_suffix(".md").write_text(md)
    if args.docs:
        update_docs(REPO / "docs" / "BENCHMARKS.md", md)
    print_tables(r)


if __name__ == "__main__":
    main()
