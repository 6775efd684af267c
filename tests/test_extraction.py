"""Extraction layers on small hand-written pages (real pages: tests/test_real_pages.py)."""

import json
from datetime import date, datetime, timezone

import pytest

from crawler.sources.base import Layout, Listing, Source, css
from pipelines.context import CrawlRun
from pipelines.extract import ExtractPipeline, extract_fields
from pipelines.process import process_page
from storage import clock

BODY = "".join(f"<p>Đoạn {i}: xuất khẩu nông sản của tỉnh tăng mạnh trong quý này so với cùng kỳ.</p>" for i in range(8))

JSONLD = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Báo"},
        {"@type": "NewsArticle", "headline": "Tiêu đề JSON-LD", "datePublished": "2026-03-07T08:47:00+07:00",
         "dateModified": "2026-03-07T09:00:00+07:00", "author": [{"@type": "Person", "name": "Minh Anh"}],
         "articleSection": "Kinh tế", "keywords": "xuất khẩu, nông sản"},
    ],
}


def html(head="", body=""):
    return f"<html lang='vi'><head>{head}</head><body>{body}</body></html>"


PAGE = html(
    head=f"""<title>Tiêu đề title - Báo</title>
    <meta property="og:title" content="Tiêu đề OG">
    <meta property="article:published_time" content="2026-03-07T08:40:00+07:00">
    <link rel="canonical" href="https://bao.vn/bai-1.html">
    <script type="application/ld+json">{json.dumps(JSONLD)}</script>""",
    body=f"""<div class="share">Chia sẻ</div><h1 class="t">Tiêu đề H1</h1><p class="sapo">Tóm tắt bài.</p>
    <div class="date">Thứ Bảy, 07/03/2026 08:47</div>
    <div class="content">{BODY}<div class="related">Tin liên quan: bài khác</div>
    <figure><img src="a.jpg"><figcaption>Cảng Cát Lái. Ảnh: T.L.</figcaption></figure></div>""",
)

LAYOUT = Layout(
    title=css("h1.t"), lead=css("p.sapo"), body=css("div.content"), published=css("div.date"),
    captions=css("figcaption", many=True), drop=(".related", ".share"),
)
SOURCE = Source(name="bao", region="national", domains=("bao.vn",), listings=(Listing("https://bao.vn/kinh-te"),),
                layouts=(LAYOUT,))


def test_rules_win_and_are_labelled():
    f = extract_fields(PAGE, "https://bao.vn/bai-1.html", SOURCE)
    assert f["title"] == "Tiêu đề H1" and f["field_sources"]["title"] == "rules"
    assert f["lead"] == "Tóm tắt bài."
    assert f["published_at_raw"] == "Thứ Bảy, 07/03/2026 08:47"
    assert "Tin liên quan" not in f["body"] and f["body"].count("\n\n") >= 7
    assert f["image_captions"] == ["Cảng Cát Lái. Ảnh: T.L."]
    assert f["authors"] == ["Minh Anh"] and f["field_sources"]["authors"] == "jsonld"
    assert f["canonical_url"] == "https://bao.vn/bai-1.html"
    assert f["language"] == "vi"


def test_without_source_jsonld_then_meta_then_generic():
    f = extract_fields(PAGE, "https://bao.vn/bai-1.html", None)
    assert f["title"] == "Tiêu đề JSON-LD" and f["field_sources"]["title"] == "jsonld"
    assert f["published_at_raw"] == "2026-03-07T08:47:00+07:00"
    assert f["modified_at_raw"] == "2026-03-07T09:00:00+07:00"
    assert f["section"] == "Kinh tế" and f["tags"] == ["xuất khẩu", "nông sản"]
    assert f["field_sources"]["body"] == "generic" and "Đoạn 7" in f["body"]


def test_meta_when_no_jsonld():
    page = PAGE.replace('type="application/ld+json"', 'type="text/x-none"')
    f = extract_fields(page, "https://bao.vn/bai-1.html", None)
    assert f["title"] == "Tiêu đề OG" and f["field_sources"]["title"] == "meta"
    assert f["published_at_raw"] == "2026-03-07T08:40:00+07:00"


def test_feed_hint_fills_missing():
    f = extract_fields(html(body=BODY), "https://bao.vn/x", None, {"title": "Từ RSS", "published_raw": "Sat, 07 Mar 2026 08:00:00 +0700"})
    assert f["published_at_raw"].startswith("Sat") and f["field_sources"]["published_at_raw"] == "feed"


def test_layout_versions_by_date():
    old = LAYOUT.extend(valid_until=date(2020, 1, 1), title=css("p.sapo"))
    src = Source(name="bao", region="national", domains=("bao.vn",), listings=(Listing("https://bao.vn/"),), layouts=(old, LAYOUT))
    assert extract_fields(PAGE, None, src)["title"] == "Tiêu đề H1"
    old_page = PAGE.replace("2026-03-07T08:47", "2019-03-07T08:47")
    assert extract_fields(old_page, None, src)["title"] == "Tóm tắt bài."


def test_rule_pattern_and_attr():
    lay = Layout(published=css("div.date", pattern=r"(\d\d/\d\d/\d{4} \d\d:\d\d)"), canonical_url=css("link[rel=canonical]", attr="href"))
    src = Source(name="bao", region="national", domains=("bao.vn",), listings=(Listing("https://bao.vn/"),), layouts=(lay,))
    f = extract_fields(PAGE, None, src)
    assert f["published_at_raw"] == "07/03/2026 08:47" and f["canonical_url"] == "https://bao.vn/bai-1.html"


def test_broken_jsonld_ignored():
    page = html(head='<script type="application/ld+json">{"@type": "NewsArticle", "headline": "X",}</script>', body=BODY)
    assert extract_fields(page, None, None)["title"] == "X"
    page = html(head='<script type="application/ld+json">{oops</script><title>T</title>', body=BODY)
    assert extract_fields(page, None, None)["title"] == "T"


def test_pipeline_uses_the_crawl_source():
    class Crawler:  # what the spider leaves on its crawler for the pipelines
        crawl_run = CrawlRun("bao", source=SOURCE)
    item = ExtractPipeline.from_crawler(Crawler()).process_item(
        {"html": PAGE, "url": "https://bao.vn/bai-1.html", "hints": {}})
    assert item["title"] == "Tiêu đề H1"


@pytest.mark.parametrize("raw", [b"", b"<html></html>", b"\x00\x01binary"])
def test_process_page_never_crashes_on_junk(raw):
    out = process_page({"url": "https://bao.vn/x", "raw_body": raw, "http_status": 200, "fetched_at": clock.now()})
    assert out["drop_reason"] in ("no_title", "body_too_short")


def test_process_page_full():
    out = process_page({"url": "https://bao.vn/bai-1.html", "raw_body": PAGE.encode(), "content_type": "text/html",
                        "http_status": 200, "fetched_at": datetime(2026, 3, 8, tzinfo=timezone.utc), "hints": {}}, SOURCE)
    assert out["drop_reason"] is None
    assert out["published_at"] == datetime(2026, 3, 7, 1, 47, tzinfo=timezone.utc)
    assert out["html"] and out["raw_body"]


def test_process_page_http_status():
    out = process_page({"url": "https://bao.vn/x", "raw_body": PAGE.encode(), "http_status": 404,
                        "fetched_at": datetime(2026, 3, 8, tzinfo=timezone.utc)})
    assert out["drop_reason"] == "http_status"
