"""Smoke test of the benchmark harness (``make bench``, benchmarks/perf/) on a 200-article site.

It checks that every part runs and that the figures hang together (pages counted, articles
archived, ratios and floors computed); it asserts no timing: timings are the benchmark's job.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.perf import crawl as crawl_mod
from benchmarks.perf import micro, queries, report, sitegen
from benchmarks.perf.server import ServerProcess

pytestmark = pytest.mark.xdist_group("bench_smoke")


def test_bench_harness_runs_on_200_articles(tmp_path, monkeypatch):
    monkeypatch.setattr(sitegen, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(queries, "REPEATS", 1)
    site = sitegen.prepare(200, pad=5_000, workers=1, log=lambda msg: None)
    assert len(site.article_targets()) >= 200

    with ServerProcess(site) as srv, ThreadPoolExecutor(2) as pool:   # both at once: this is no measurement
        runs = {name: pool.submit(crawl_mod.crawl, name, site.base_url, tmp_path, fetch_only=fetch_only,
                                  server_pid=srv.proc.pid, log=lambda msg: None)
                for name, fetch_only in (("fetch_only", True), ("full", False))}
        crawls = {name: future.result() for name, future in runs.items()}
        served = srv.stats()
    assert served["rendered_on_demand"] == 0, served["on_demand_sample"]
    for name, result in crawls.items():
        assert result["exit_code"] == 0, result.get("tail")
        assert result["article_pages"] >= 200
        assert result["peak_rss_mb"] > 0 and result["cpu_ms_per_page"] > 0
    full = crawls["full"]
    assert full["articles_archived"] >= 195
    assert full["archive_article_rows"] == full["articles_archived"]
    assert full["archive_articles_bytes"] > 0
    # memory over the crawl's processes: shared pages counted once (PSS) is at most the RSS sum
    assert 0 < full["peak_pss_mb"] <= full["peak_rss_mb"]
    assert 0 < full["peak_rss_mb_one_process"] <= full["peak_rss_mb"]

    pages = micro.sample_pages(site.folder, 12)
    measured = {kind: micro.run(kind, [dict(p) for p in pages])
                for kind in ("lxml", "lxml_str", "steps_rules", "steps_generic", "trafilatura",
                             "generic_vs_trafilatura")}
    assert set(measured["steps_rules"]["cpu_ms_per_step"]) >= {"decode", "extract", "clean", "dedupe_identify"}
    paired = measured["generic_vs_trafilatura"]
    assert paired["generic_cpu_ms_per_page"] > 0 and paired["trafilatura_cpu_ms_per_page"] > 0

    archive = queries.generate(tmp_path / "q", 2400, workers=1, pool_articles=120)
    assert archive["articles"] == 2400 and archive["files"] == 120
    timed = queries.run_queries(tmp_path / "q", archive["lookup_id"])
    assert timed["by_article_id"]["rows"] == 1
    assert timed["per_source_per_day_month"]["rows"] > 0

    r = {"started_at": "smoke", "machine": report.machine(), "config": {"articles": 200, "articles_large": 0},
         "site": {"pages": len(site.index), "page_kb_mean": measured["lxml"]["page_kb_mean"]},
         "crawls": crawls, "micro": measured, "queries": {"archive": archive, "queries": timed}}
    r["ratios"] = report.ratios(r)
    r["memory"] = report.memory(r)
    r["floors"] = report.floors(r)
    assert r["ratios"]["processing_over_lxml_parse"] is not None
    assert r["ratios"]["generic_path_over_trafilatura"] == paired["generic_over_trafilatura"]
    assert {f["floor"].split(" (")[0] for f in r["floors"]} >= {"full pipeline / fetch-only throughput"}
    fundus_row = next(f for f in r["floors"] if f["floor"] == "the same on ../shared/data/fundus-pages")
    assert fundus_row["value"] is None and fundus_row["holds"] is None  # not measured in this run: no verdict
    assert "| floor | target | measured | holds |" in report.markdown(r)


def test_generic_path_is_timed_on_fundus_pages_and_reported():
    """make bench times the generic path beside trafilatura on ../shared/data/fundus-pages too (many
    languages, no declared source)."""
    from tests.shared import shared_data

    folder = shared_data("fundus-pages")
    pages = micro.real_pages(folder)
    assert len(pages) == len((folder / "pairs.jsonl").read_text(encoding="utf-8").splitlines()) > 250 and all(p["source"] == "" and p["raw_body"].lstrip()[:1] == b"<" for p in pages)
    paired = micro.run("generic_vs_trafilatura", [dict(p) for p in pages[:8]])
    assert paired["pages"] == 8 and paired["generic_cpu_ms_per_page"] > 0
