"""Static description of the three demo sites: names, prefixes, sections, URL shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    slug: str
    label: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class SiteSpec:
    name: str          # demo source name
    display: str       # how the site calls itself
    prefix: str        # URL path prefix, with both slashes
    id_base: int       # article ids are id_base + k
    path_fmt: str      # canonical article path: {section} {slug} {aid}
    path_re: re.Pattern
    sections: tuple[Section, ...]
    national: bool
    credit: str        # the credit line a copy of this site's story carries

    def article_path(self, section: str, slug: str, aid: int) -> str:
        return self.path_fmt.format(section=section, slug=slug, aid=aid)


PORTAL = SiteSpec(
    name="demo_binhduong_portal",
    display="Cổng thông tin điện tử tỉnh Bình Dương",
    prefix="/binhduong-portal/",
    id_base=1_000_000,
    path_fmt="/binhduong-portal/{section}/{slug}-{aid}.html",
    path_re=re.compile(r"^/binhduong-portal/([a-z0-9-]+)/([a-z0-9-]+)-(\d{7})\.html/?$"),
    sections=(
        Section("kinh-te", "Kinh tế", ("kcn", "fdi", "xuat_khau", "ngan_sach", "ngan_hang", "doanh_nghiep")),
        Section("dau-tu-phat-trien", "Đầu tư - Phát triển", ("ha_tang", "kcn", "fdi", "nong_nghiep")),
    ),
    national=False,
    credit="Theo Cổng TTĐT Bình Dương",
)

NEWSPAPER = SiteSpec(
    name="demo_baobinhduong",
    display="Báo Bình Dương",
    prefix="/baobinhduong/",
    id_base=2_000_000,
    path_fmt="/baobinhduong/{section}/{slug}-a{aid}.html",
    path_re=re.compile(r"^/baobinhduong/([a-z0-9-]+)/([a-z0-9-]+)-a(\d{7})\.html/?$"),
    sections=(
        Section("kinh-te", "Kinh tế", ("ngan_sach", "xuat_khau", "ngan_hang", "ha_tang", "kcn")),
        Section("doanh-nghiep", "Doanh nghiệp", ("doanh_nghiep", "fdi", "kcn")),
        Section("nong-nghiep", "Nông nghiệp", ("nong_nghiep",)),
    ),
    national=False,
    credit="Theo Báo Bình Dương",
)

OUTLET = SiteSpec(
    name="demo_kinhte",
    display="Kinh tế Việt",
    prefix="/kinhte/",
    id_base=3_000_000,
    path_fmt="/kinhte/{section}/{slug}-{aid}.htm",
    path_re=re.compile(r"^/kinhte/([a-z0-9-]+)/([a-z0-9-]+)-(\d{7})\.htm/?$"),
    sections=(
        Section("vi-mo", "Vĩ mô", ("ngan_sach", "xuat_khau", "ha_tang")),
        Section("dau-tu", "Đầu tư", ("fdi", "kcn", "ha_tang")),
        Section("tai-chinh", "Tài chính - Ngân hàng", ("ngan_hang", "ngan_sach")),
        Section("doanh-nghiep", "Doanh nghiệp", ("doanh_nghiep", "xuat_khau", "nong_nghiep")),
    ),
    national=True,
    credit="Theo Kinh tế Việt",
)

SITES = (PORTAL, NEWSPAPER, OUTLET)
SITE_BY_NAME = {s.name: s for s in SITES}

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def date_line(site: SiteSpec, when) -> str:
    """The raw date line each template prints (``when``: naive local datetime)."""
    if site is PORTAL:
        return f"{WEEKDAYS_VI[when.weekday()]}, {when:%d/%m/%Y - %H:%M}"
    if site is NEWSPAPER:
        return f"{when:%d/%m/%Y %H:%M} GMT+7"
    return f"Cập nhật: {when:%H:%M} ngày {when:%d/%m/%Y}"
