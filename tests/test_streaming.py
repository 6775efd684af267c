"""Streaming discovery (crawler/spiders/news.py ``_release``): a sitemap's entries become requests
as earlier article requests finish, never more than DISCOVERY_MAX_IN_FLIGHT out at once, and the
crawl archives the same articles as one that queues every entry at once."""

from __future__ import annotations

import json

import pytest

from crawler import settings as project
from tests._ops import FAST, rows, run_rows, scrapy

pytestmark = pytest.mark.xdist_group("streaming")

# the project's extensions (the archive run among them) and the probe
PROBE = ["-s", "EXTENSIONS=" + json.dumps({**project.EXTENSIONS, "tests.probe_inflight.InFlightProbe": 900})]


def _crawl(tmp_path, base, name: str, bound: int) -> tuple[dict, set, dict]:
    archive = tmp_path / name
    probe = tmp_path / f"{name}.json"
    done = scrapy("crawl", "demo_kinhte", *FAST, *PROBE, "-s", f"PROBE_FILE={probe}",
                  "-s", f"DISCOVERY_MAX_IN_FLIGHT={bound}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
                  archive=archive, base_url=base)
    assert done.returncode == 0, done.stderr[-3000:]
    paths = {r["url"].split("/", 3)[3] for r in rows(archive, "articles")}
    return json.loads(probe.read_text()), paths, run_rows(archive)["demo_kinhte"]


def test_sitemap_entries_are_requested_a_few_at_a_time_and_all_archived(tmp_path, demo_server):
    base = demo_server.base_url
    few, few_paths, few_row = _crawl(tmp_path, base, "few", 3)
    many, many_paths, many_row = _crawl(tmp_path, base, "many", 1000)
    # the probe sees a crawl that queues its sitemap at once ...
    assert many["most_out"] > 10, many
    # ... and the bounded one never had more than 3 article requests out
    assert 0 < few["most_out"] <= 3, few
    assert few["scheduled"] == many["scheduled"] > 10
    assert few_paths == many_paths and len(few_paths) > 10
    for key in ("articles_found", "articles_archived", "duplicates_skipped", "dropped", "status"):
        assert few_row[key] == many_row[key], key


def test_a_bad_bound_is_refused_before_crawling(tmp_path, demo_server):
    done = scrapy("crawl", "demo_kinhte", *FAST, "-s", "DISCOVERY_MAX_IN_FLIGHT=-1",
                  archive=tmp_path / "a", base_url=demo_server.base_url)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "error: DISCOVERY_MAX_IN_FLIGHT=-1: must be" in done.stderr
    assert not (tmp_path / "a" / "articles").exists()
