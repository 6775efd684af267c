"""The real Vietnamese source declarations: well-formed, filters that mean what they say, paging."""

import pytest

from crawler.sources import registry
from crawler.sources.vn._paging import PagedListing
from crawler.listing import listing_for, listing_links

CHECKED = ("vnexpress", "cafef", "tuoitre", "baodautu", "dantri", "nld", "vietnamnet", "baochinhphu")
REGIONAL = ("thanhnien", "sggp", "hcmcpv", "baobinhduong", "binhduong_gov")

ARTICLES = {
    "vnexpress": "https://vnexpress.net/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html",
    "cafef": "https://cafef.vn/tang-ho-tro-giam-ap-luc-tai-chinh-khi-chuyen-muc-dich-su-dung-dat-188260307071033787.chn",
    "tuoitre": "https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
    "baodautu": "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-vi-thao-tung-co-phieu-d538952.html",
    "dantri": "https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
    "nld": "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
    "vietnamnet": "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html",
    "baochinhphu": "https://baochinhphu.vn/chinh-sach-moi-co-hieu-luc-tu-thang-3-2026-102260228093004191.htm",
}


@pytest.mark.parametrize("name", CHECKED + REGIONAL)
def test_declared_and_well_formed(name):
    src = registry().get(name)
    assert src.name == name and src.country == "VN" and src.timezone == "Asia/Ho_Chi_Minh"
    assert src.checked_against_saved_pages is (name in CHECKED)
    assert src.feeds or src.sitemaps or src.listings
    assert all(u.startswith("https://") for u in (*src.feeds, *src.sitemaps, *(li.url for li in src.listings)))
    assert src.layouts, "every real source says at least what furniture to drop"
    for listing in src.listings:
        assert not src.article_url(listing.url), "a section page is not an article"


@pytest.mark.parametrize("name", CHECKED)
def test_article_filter(name):
    src = registry().get(name)
    url = ARTICLES[name]
    assert src.article_url(url)
    assert not src.article_url(url + "#comment") and not src.article_url(url.replace("https://", "https://evil.example/"))
    assert not src.article_url(src.homepage)


@pytest.mark.parametrize(
    "name, current, zone, expected",
    [
        ("cafef", "https://cafef.vn/thi-truong-chung-khoan.chn", "18831", "https://cafef.vn/timelinelist/18831/2.chn"),
        ("cafef", "https://cafef.vn/timelinelist/18831/2.chn", "18831", "https://cafef.vn/timelinelist/18831/3.chn"),
        ("tuoitre", "https://tuoitre.vn/kinh-doanh.htm", "11", "https://tuoitre.vn/timeline/11/trang-1.htm"),
        ("tuoitre", "https://tuoitre.vn/timeline/11/trang-1.htm", "11", "https://tuoitre.vn/timeline/11/trang-2.htm"),
        ("baodautu", "https://baodautu.vn/tai-chinh-chung-khoan-d6/", None, "https://baodautu.vn/tai-chinh-chung-khoan-d6/p2"),
        ("baodautu", "https://baodautu.vn/tai-chinh-chung-khoan-d6/p2", None, "https://baodautu.vn/tai-chinh-chung-khoan-d6/p3"),
        ("nld", "https://nld.com.vn/kinh-te.htm", None, None),  # zone id needed and missing
    ],
)
def test_paged_listing_next_url(name, current, zone, expected):
    src = registry().get(name)
    listing = listing_for(current, src)
    assert isinstance(listing, PagedListing)
    assert listing.next_url(current, zone) == expected


def test_listing_links_on_a_small_page():
    src = registry().get("cafef")
    html = """<html><body><input type="hidden" id="hdZoneId" value="18831">
      <h3><a href="/a-188260307071033787.chn#x">A</a></h3><h3><a href="/a-188260307071033787.chn">A again</a></h3>
      <h3><a href="https://cafef.vn/thi-truong-chung-khoan.chn">section</a></h3>
      <h3><a href="https://other.vn/b-188260307071033787.chn">elsewhere</a></h3>
      <h3><a href="javascript:void(0)">js</a></h3></body></html>"""
    articles, nexts = listing_links(html, "https://cafef.vn/timelinelist/18831/4.chn", src)
    assert articles == ["https://cafef.vn/a-188260307071033787.chn"]
    assert nexts == ["https://cafef.vn/timelinelist/18831/5.chn"]


def test_layout_versions_of_dantri():
    from datetime import date

    src = registry().get("dantri")
    assert src.layout_for(date(2023, 5, 1)).valid_until == date(2024, 12, 31)
    assert src.layout_for(date(2026, 3, 7)).valid_until is None
    assert src.layout_for(None).valid_until is None


def test_later_timeline_page_without_zone_input_reads_the_zone_from_its_url():
    src = registry().get("nld")
    html = '<html><body><div class="box-category-item"><a href="/x-196260307071308923.htm">x</a></div></body></html>'
    articles, nexts = listing_links(html, "https://nld.com.vn/timelinelist/1961014/2.htm", src)
    assert articles == ["https://nld.com.vn/x-196260307071308923.htm"]
    assert nexts == ["https://nld.com.vn/timelinelist/1961014/3.htm"]
