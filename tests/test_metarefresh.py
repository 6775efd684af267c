"""The meta-refresh check that looks at the bytes first (crawler/middlewares/metarefresh.py), with
Scrapy's default METAREFRESH_* settings; the crawl tests run it on every demo page."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares.metarefresh import HEAD_BYTES, ByteCheckedMetaRefreshMiddleware

URL = "https://baobinhduong.vn/kinh-te/a1.html"
FILLER = "<p>Kim ngạch xuất khẩu tăng mạnh trong quý.</p>" * 40


def _mw():
    return ByteCheckedMetaRefreshMiddleware.from_crawler(get_crawler())


def _response(html: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(URL, body=html.encode(encoding), headers={"Content-Type": f"text/html; charset={encoding}"},
                        request=Request(URL))


def test_a_declared_refresh_is_followed_and_a_page_without_one_is_not_decoded():
    mw = _mw()
    moved = _response(f'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL=/kinh-te/a2.html"></head>'
                      f"<body>{FILLER}</body></html>")
    out = mw.process_response(moved.request, moved)
    assert isinstance(out, Request) and out.url == "https://baobinhduong.vn/kinh-te/a2.html"

    plain = _response(f"<html><head><title>Tin</title></head><body>{FILLER}</body></html>")
    assert mw.process_response(plain.request, plain) is plain
    assert getattr(plain, "_cached_ubody", None) is None  # Scrapy's decoded body was never made

    # the word alone (in the text, not a tag) goes to Scrapy's check, which finds no redirect
    worded = _response(f"<html><body><p>Refresh the page</p>{FILLER}</body></html>")
    assert mw.process_response(worded.request, worded) is worded


def test_a_refresh_past_the_first_characters_scrapy_reads_is_not_one_and_utf16_is_checked_by_scrapy():
    mw = _mw()
    late = _response(f"<html><body>{'x' * HEAD_BYTES}<meta http-equiv=refresh content='0;url=/b'></body></html>")
    assert mw.process_response(late.request, late) is late  # Scrapy reads 4,096 characters too

    utf16 = _response('<html><head><meta http-equiv="refresh" content="0; url=/kinh-te/a3.html"></head>'
                      f"<body>{FILLER}</body></html>", "utf-16")
    out = mw.process_response(utf16.request, utf16)
    assert isinstance(out, Request) and out.url.endswith("/kinh-te/a3.html")
