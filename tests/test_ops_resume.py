"""After a run cut short (max_articles), the next crawl walks the listing pages past the first page of
known articles: the incremental stop applies only after a complete crawl."""

from __future__ import annotations

import pytest

from crawler.demo.server import DemoServer
from tests._ops import FAST, rows, scrapy

SOURCE = "demo_binhduong_portal"  # discovered by paginated listings only


@pytest.fixture(scope="module")
def server():
    srv = DemoServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def urls(archive) -> set[str]:
    return {r["url"].split("/", 3)[3] for r in rows(archive, "articles")}


def test_cut_short_run_then_full_run_archives_everything(server, tmp_path):
    reference = tmp_path / "reference"
    full = scrapy("crawl", SOURCE, *FAST, archive=reference, base_url=server.base_url)
    assert full.returncode == 0, full.stdout[-2000:] + full.stderr[-2000:]
    everything = urls(reference)
    assert len(everything) > 40

    archive = tmp_path / "archive"
    # the two sections' first listing pages hold 15 and 13 article links: a run stopped after 28
    # articles has seen both first pages whole, and nothing older
    cut = scrapy("crawl", SOURCE, "-a", "max_articles=28", *FAST, archive=archive, base_url=server.base_url)
    assert cut.returncode == 0, cut.stdout[-2000:] + cut.stderr[-2000:]
    first = urls(archive)
    assert 10 <= len(first) <= 28 and first < everything
    resumed = scrapy("crawl", SOURCE, *FAST, archive=archive, base_url=server.base_url)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert urls(archive) == everything
    # and now that a complete crawl happened, the next one stops at the first page of known articles
    again = scrapy("crawl", SOURCE, *FAST, archive=archive, base_url=server.base_url)
    assert again.returncode == 0
    assert urls(archive) == everything
    assert "archived 0 of" in again.stdout
