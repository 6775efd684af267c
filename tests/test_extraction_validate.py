"""ValidatePipeline: drops with a counted, logged reason."""

import logging

import pytest
from scrapy.exceptions import DropItem

from pipelines.validate import ValidatePipeline, drop_reason

GOOD = {"url": "https://bao.vn/a", "http_status": 200, "title": "Tiêu đề", "body": " ".join(["chữ"] * 60)}


class Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1, start=0, spider=None):
        self.values[key] = self.values.get(key, start) + count


@pytest.mark.parametrize(
    "change, reason",
    [({"http_status": 500}, "http_status"), ({"title": None}, "no_title"), ({"body": "ngắn"}, "body_too_short"),
     ({"body": "", "html": '<meta property="og:type" content="website">'}, "not_article")],
)
def test_reasons(change, reason):
    assert drop_reason({**GOOD, **change}) == reason


def test_good_item_kept_with_html():
    item = {**GOOD, "html": "<p>x</p>", "raw_body": b"x"}
    assert ValidatePipeline(Stats()).process_item(item) is item


def test_drop_is_counted_and_logged(caplog):
    stats = Stats()
    with caplog.at_level(logging.INFO, logger="pipelines.validate"), pytest.raises(DropItem):
        ValidatePipeline(stats).process_item({**GOOD, "title": ""})
    assert stats.values == {"pipeline/dropped/no_title": 1}
    assert "https://bao.vn/a" in caplog.text


def test_from_crawler_reads_stats_and_floor():
    class Settings:
        def getint(self, name, default):
            return {"VALIDATE_MIN_BODY_WORDS": 80}.get(name, default)

    class Crawler:
        stats = Stats()
        settings = Settings()
    pipeline = ValidatePipeline.from_crawler(Crawler())
    with pytest.raises(DropItem):
        pipeline.process_item({**GOOD, "http_status": 404})
    with pytest.raises(DropItem):  # 60 words: enough by default, under this floor
        pipeline.process_item(dict(GOOD))
    assert Crawler.stats.values == {"pipeline/dropped/http_status": 1, "pipeline/dropped/body_too_short": 1}
