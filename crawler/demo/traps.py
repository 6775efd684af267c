"""The fixed trap pages of the demo world (the same in every world size).

| name          | site      | path shape                                   | served as                          | linked from |
|---------------|-----------|----------------------------------------------|------------------------------------|-------------|
| short_page    | portal    | article-like ``...-1900001.html``            | 200, one-sentence notice           | listing kinh-te p.1 |
| server_error  | portal    | article-like ``...-1900002.html``            | 500 always                         | listing kinh-te p.1 |
| search_page   | portal    | ``/binhduong-portal/tim-kiem?tukhoa=...``    | 200, result list                   | every listing page |
| not_found     | newspaper | article-like ``...-a2900002.html``           | 404                                | feeds kinh-te, tin-moi |
| truncated     | newspaper | article-like ``...-a2900003.html``           | Content-Length > bytes sent, close | feeds kinh-te, tin-moi |
| tag_page      | newspaper | ``/baobinhduong/tag/khu-cong-nghiep``        | 200, link list                     | feed tin-moi, article tags |
| video_page    | outlet    | article-like ``.../video-...-3900001.htm``   | 200, og:type video.other, no body  | news + monthly sitemap |
| topic_page    | outlet    | ``/kinhte/chu-de/khu-cong-nghiep.htm``       | 200, link list                     | last monthly sitemap |

Trap pages are dated the world's last day so they sit at the top of listings and feeds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from crawler.demo import corpus
from crawler.demo.model import DemoArticle
from crawler.demo.sites import NEWSPAPER, OUTLET, PORTAL, SITES, date_line


@dataclass
class TrapPage:
    name: str
    si: int
    path: str                  # without query
    status: int
    non_article: bool
    title: str
    local: datetime
    query: str = ""
    article: object = None     # a DemoArticle used to render it, for article-like pages

    @property
    def link(self) -> str:
        return self.path + self.query


def _fake(world, si: int, name: str, title: str, local: datetime, path: str, aid: int, kind="article",
          paragraphs=None, lead=None, caption=None):
    site = SITES[si]
    rng = random.Random(f"{world.seed}:trap:{name}")
    head = corpus.make_head(rng, "kcn", local, site.national)
    sec = site.sections[0 if site is not OUTLET else 1]
    return DemoArticle(
        source=site.name, path=path, title=title, lead=head["lead"] if lead is None else lead,
        paragraphs=paragraphs if paragraphs is not None else corpus.make_body(rng, "kcn", head["fixed"]),
        caption=caption, authors=head["authors"], section=sec.label, tags=head["tags"], published_local=local,
        published_utc=(local - timedelta(hours=7)).replace(tzinfo=timezone.utc), date_line=date_line(site, local),
        section_slug=sec.slug, article_id=aid, kind=kind)


def trap_pages(world) -> dict[str, TrapPage]:
    day = world.start + timedelta(days=world.n_days - 1)   # the world's last day
    ny, nm, _ = world.months[-1]                            # the month after it
    out: dict[str, TrapPage] = {}

    def add(name, si, title, hour, slug, aid, status=200, non_article=True, **fake):
        local = day + timedelta(hours=hour)
        site = SITES[si]
        sec = site.sections[0 if site is not OUTLET else 1].slug
        path = site.article_path(sec, slug or corpus.slugify(title), aid)
        art = _fake(world, si, name, title, local, path, aid, **fake)
        out[name] = TrapPage(name, si, path, status, non_article, title, local, article=art)

    add("short_page", 0, f"Thông báo lịch tiếp công dân tháng {nm}/{ny}", 16.5, None, 1_900_001, kind="notice", lead="",
        paragraphs=[f"Lịch tiếp công dân định kỳ tháng {nm}/{ny} của lãnh đạo UBND tỉnh được niêm yết tại Trung tâm Phục vụ hành chính công."])
    add("server_error", 0, "Bình Dương công bố quy hoạch phân khu đô thị mới", 17.25, None, 1_900_002, status=500, non_article=False)
    add("not_found", 1, "Doanh nghiệp gỗ tăng tốc hoàn thành đơn hàng xuất khẩu cuối năm", 18.0, None, 2_900_002,
        status=404, non_article=False)
    add("truncated", 1, "Bình Dương: Kiến nghị tháo gỡ vướng mắc cho các dự án nhà ở công nhân", 18.5, None, 2_900_003,
        non_article=False, caption="Một dự án nhà ở xã hội cho công nhân tại Bến Cát.")
    add("video_page", 2, "Video: Toàn cảnh làn sóng đầu tư vào các khu công nghiệp phía Nam", 19.0,
        "video-toan-canh-lan-song-dau-tu-vao-cac-khu-cong-nghiep-phia-nam", 3_900_001, kind="video",
        paragraphs=["Phóng viên Kinh tế Việt ghi nhận không khí sản xuất tại các khu công nghiệp phía Nam."])
    out["search_page"] = TrapPage("search_page", 0, PORTAL.prefix + "tim-kiem", 200, True, "Kết quả tìm kiếm",
                                  day + timedelta(hours=9), query="?tukhoa=khu+cong+nghiep")
    out["tag_page"] = TrapPage("tag_page", 1, NEWSPAPER.prefix + "tag/khu-cong-nghiep", 200, True,
                               "Chủ đề: Khu công nghiệp", day + timedelta(hours=20))
    out["topic_page"] = TrapPage("topic_page", 2, OUTLET.prefix + "chu-de/khu-cong-nghiep.htm", 200, True,
                                 "Chủ đề: Khu công nghiệp", day + timedelta(hours=20))
    return out
