"""The demo world: every article of the three demo sites, and the ground truth about them.

Stable API (tests across the project rely on it)::

    build_world(n_articles: int | None = None, seed: int = 2026, pad: int = 0,
                today: date | None = None) -> DemoWorld

``n_articles``: number of distinct (original) articles over the three sites,
split 55:60:60 (default 175; minimum 60). The 18 syndicated copies (12 exact,
6 near) and the traps are added on top and do not grow with ``n_articles``.
``pad``: extra bytes added to every article page (an inline ad-config script),
to make pages weigh what real ones do. ``today``: the demo's today (default
``DEMO_TODAY``, else today on the product's clock); articles are dated over the
86 days before it (``crawler/demo/timeline.py``), so the same ``today`` gives
the same world.

``DemoWorld``
    ``articles``        sequence of every article page (originals and copies) as
                        :class:`DemoArticle`; built lazily, one at a time.
    ``expected()``      the articles that must end up archived exactly once (all
                        but the syndicated copies). A concurrent crawl may keep
                        either member of a syndicated pair: see
                        ``syndication_groups()`` (list of sets of (source, path)).
    ``expected_paths()`` the same as paths, without building the articles.
    ``get(path)``       the article served at a path (any alias), or None.
    ``traps``           name -> path: ``not_found`` (404), ``server_error`` (500
                        always), ``truncated`` (Content-Length larger than the body,
                        then the connection closes), ``tag_page``, ``topic_page``,
                        ``video_page`` and ``short_page`` (article-like URLs that are
                        not articles), ``search_page``, ``cp1258_article``,
                        ``lying_charset_article``, ``seed_article``.
    ``non_articles``    paths reachable from discovery that are not articles.
    ``fault_targets()`` fault name -> paths it affects (see ``server.py``).
    ``render(target, base)`` -> ``Rendered(status, headers, body)`` for a path
                        with query; ``base`` is the server's ``http://host:port``.
    ``trap_pages``      name -> ``traps.TrapPage`` (status, title, date, rendering article).
    ``timeline``        the days and months it is dated over (``timeline.Timeline``).

Sizes: 175 originals by default (portal 55, newspaper 60, outlet 60) plus
copies (portal 4 exact; newspaper 4 exact + 4 near; outlet 4 exact + 2 near).
Articles with ``k % 11 == 4`` (and no other role) have aliases: the clean path
plus ``?utm_source=zalo&utm_medium=share`` and a trailing slash; listings link
the utm form ("Xem thêm"), monthly feeds too, and related boxes and the Google
News sitemap link the trailing-slash form. Every article URL ignores its query.

``DemoArticle`` fields: see the class. ``paragraphs`` are the body paragraphs
exactly as on the page, without lead, caption, author line, related boxes or the
trailing credit line of a near copy (that line is in ``credit``; the author of
a near copy is the credited site). Times: ``published_local`` is naive
Asia/Ho_Chi_Minh, ``published_utc``/``modified_utc`` aware UTC.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from hashlib import blake2b
from urllib.parse import urlsplit

from crawler.demo import corpus, render, traps
from crawler.demo.model import ALIAS_QUERY, DemoArticle, Rendered  # noqa: F401 - the world's types
from crawler.demo.sites import OUTLET, PORTAL, SITES, SiteSpec, date_line
from crawler.demo.timeline import timeline

SHARES = (55, 60, 60)
SEED_TITLE = "Bình Dương: Phát triển khu công nghiệp xanh, bền vững"
SEED_LEAD = ("Bình Dương tiếp tục xây dựng phát triển các KCN theo hướng xanh, công nghệ cao. "
             "Trong ảnh: VSIP, khu công nghiệp kiểu mẫu của cả nước.")
SEED_CAPTION = "VSIP, khu công nghiệp kiểu mẫu của cả nước."
SEED_PARAGRAPHS = [
    "Theo đó, tỉnh đã tập trung thu hút các dự án đầu tư có hàm lượng công nghệ cao, thân thiện với môi trường, "
    "sử dụng ít lao động và tiết kiệm năng lượng. Đến nay, toàn tỉnh có 29 khu công nghiệp với tổng diện tích "
    "hơn 12.700 ha, tỷ lệ lấp đầy đạt trên 90%. Các KCN đã thu hút hơn 2.800 dự án, trong đó có trên 2.000 dự án "
    "có vốn đầu tư nước ngoài với tổng vốn đăng ký gần 30 tỷ USD.",
    "Để phát triển công nghiệp bền vững, tạo bước đột phá sản xuất, tỉnh đã chỉ đạo các ngành chức năng rà soát, "
    "điều chỉnh quy hoạch các KCN theo hướng chuyển đổi sang mô hình khu công nghiệp sinh thái, khu công nghiệp - "
    "đô thị - dịch vụ. Nhiều doanh nghiệp đã chủ động đầu tư hệ thống xử lý nước thải đạt chuẩn, lắp đặt điện mặt "
    "trời mái nhà và áp dụng các giải pháp sản xuất sạch hơn.",
    "Để công nghiệp phát triển bền vững, là địa chỉ tin cậy của các nhà đầu tư trong và ngoài nước, Bình Dương xác "
    "định tiếp tục cải thiện môi trường đầu tư kinh doanh, đẩy mạnh cải cách thủ tục hành chính, phát triển hạ tầng "
    "giao thông kết nối vùng và đào tạo nguồn nhân lực chất lượng cao. Tỉnh cũng khuyến khích các chủ đầu tư hạ tầng "
    "KCN dành quỹ đất phát triển nhà ở công nhân và các công trình phúc lợi, bảo đảm đời sống cho người lao động.",
]

# (site index, role, fraction of the site's originals); collisions move to the next free index
ROLES = (
    (0, "seed", .93), (0, "cp1258", .50), (1, "lying", .52),
    (0, "fault:burst500", .21), (0, "fault:burst500", .46), (0, "fault:burst500", .71),
    (1, "fault:ratelimit", .19), (1, "fault:ratelimit", .49), (1, "fault:ratelimit", .69),
    (2, "fault:slow", .17), (2, "fault:slow", .47), (2, "fault:slow", .72),
    (2, "fault:reset", .33), (1, "fault:reset", .55),
    (0, "fault:redirect_private", .31), (1, "fault:redirect_offsite", .35), (2, "fault:gzip_bomb", .39),
)
# (from site, to site, kind, fraction): the original and where its copy appears
SYNDICATION = tuple((0, 1, "exact", f) for f in (.11, .36, .61, .86)) + \
    tuple((1, 2, "exact", f) for f in (.13, .38, .63, .88)) + \
    tuple((2, 0, "exact", f) for f in (.15, .40, .65, .90)) + \
    ((0, 1, "near", .24), (0, 1, "near", .74), (1, 2, "near", .26), (1, 2, "near", .76),
     (2, 1, "near", .28), (2, 1, "near", .78))
_M64 = (1 << 64) - 1


@lru_cache(maxsize=64)
def _salt(name: str) -> int:
    return int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big")


def _mix(seed: int, si: int, k: int, salt: str) -> int:
    """A fast deterministic 64-bit hash of (seed, site, k, salt) (splitmix64 finaliser)."""
    x = (seed * 0x9E3779B97F4A7C15 + si * 0xD1B54A32D192ED03 + k * 0x8CB92BA72F3D8DD7 + _salt(salt)) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class _Articles(Sequence):
    """Every article page, built on access (a 100,000-article world is never in memory)."""

    def __init__(self, world: "DemoWorld"):
        self._w = world

    def __len__(self) -> int:
        return sum(self._w.total)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        for si in range(3):
            if i < self._w.total[si]:
                return self._w.article(si, i)
            i -= self._w.total[si]
        raise IndexError(i)


class DemoWorld:
    def __init__(self, n_articles: int | None = None, seed: int = 2026, pad: int = 0, today: date | None = None):
        total = n_articles or sum(SHARES)
        if total < 60:
            raise ValueError("build_world needs n_articles >= 60 (the traps and copies need room)")
        self.seed, self.pad = seed, pad
        self.timeline = timeline(today)
        self.start, self.n_days, self.months = self.timeline.start, self.timeline.n_days, self.timeline.months
        self.n = [total * s // sum(SHARES) for s in SHARES]
        self.n[2] += total - sum(self.n)
        self.copies: dict[tuple[int, int], tuple[int, int, str]] = {}
        self.roles: dict[tuple[int, int], str] = {}
        used: set[tuple[int, int]] = set()

        def pick(si: int, frac: float) -> int:
            k = int(self.n[si] * frac)
            while (si, k) in used:
                k += 1
            used.add((si, k))
            return k

        for si, role, frac in ROLES:
            self.roles[(si, pick(si, frac))] = role
        self.total = list(self.n)
        for fi, ti, kind, frac in SYNDICATION:
            self.copies[(ti, self.total[ti])] = (fi, pick(fi, frac), kind)
            self.total[ti] += 1
        self.copy_of = {(fi, fk): (ti, tk) for (ti, tk), (fi, fk, _) in self.copies.items()}
        self.minute = [self._timeline(si) for si in range(3)]
        self.section = [bytearray(self._section_of(si, k) for k in range(self.total[si])) for si in range(3)]
        self.order = [sorted(range(self.total[si]), key=lambda k, m=self.minute[si]: (-m[k], -k)) for si in range(3)]
        self.rank = []
        for si in range(3):
            r = array("i", bytes(4 * self.total[si]))
            for pos, k in enumerate(self.order[si]):
                r[k] = pos
            self.rank.append(r)
        self.sec_order = [[[k for k in self.order[si] if self.section[si][k] == s] for s in range(len(SITES[si].sections))]
                          for si in range(3)]
        self.head = lru_cache(maxsize=20000)(self._head)
        self._article = lru_cache(maxsize=512)(self._build_article)
        self.articles = _Articles(self)
        self.trap_pages = traps.trap_pages(self)
        self.trap_by_path = {tp.path: tp for tp in self.trap_pages.values()}
        self.traps = {name: tp.link for name, tp in self.trap_pages.items()}
        self.traps.update(seed_article=self.path_of(0, self._role_k("seed")),
                          cp1258_article=self.path_of(0, self._role_k("cp1258")),
                          lying_charset_article=self.path_of(1, self._role_k("lying")))
        self.non_articles = [tp.link for tp in self.trap_pages.values() if tp.non_article]

    # ------------------------------------------------------------------ timeline and sections

    def _timeline(self, si: int) -> array:
        out = array("i", (self._timeline_one(si, k) for k in range(self.n[si])))
        for k in range(self.n[si], self.total[si]):
            fi, fk, _ = self.copies[(si, k)]
            out.append(self._timeline_one(fi, fk) + 120 + _mix(self.seed, si, k, "delay") % 240)
        return out

    def _timeline_one(self, si: int, k: int) -> int:
        n, days = self.n[si], self.n_days
        d = k * days // n
        first, nxt = -(-d * n // days), -(-(d + 1) * n // days)
        slot = 960 / max(1, nxt - first)
        jitter = ((_mix(self.seed, si, k, "t") % 1000) / 1000 - 0.5) * slot * 0.6
        return d * 1440 + 360 + int((k - first + 0.5) * slot + jitter)

    def _section_of(self, si: int, k: int) -> int:
        if (si, k) in self.copies:
            fi, fk, _ = self.copies[(si, k)]
            topic = self.topic(fi, fk)
            return next((i for i, s in enumerate(SITES[si].sections) if topic in s.topics), 0)
        if self.roles.get((si, k)) == "seed":
            return 0
        return _mix(self.seed, si, k, "s") % len(SITES[si].sections)

    def topic(self, si: int, k: int) -> str:
        if (si, k) in self.copies:
            fi, fk, _ = self.copies[(si, k)]
            return self.topic(fi, fk)
        if self.roles.get((si, k)) == "seed":
            return "kcn"
        sec = SITES[si].sections[_mix(self.seed, si, k, "s") % len(SITES[si].sections)]
        return sec.topics[_mix(self.seed, si, k, "p") % len(sec.topics)]

    def local_time(self, si: int, k: int) -> datetime:
        return self.start + timedelta(minutes=self.minute[si][k])

    def _role_k(self, role: str) -> int:
        return next(k for (si, k), r in self.roles.items() if r == role)

    # ------------------------------------------------------------------ heads and articles

    def _head(self, si: int, k: int) -> dict:
        """What listings and feeds need: title, slug, lead, caption, authors, tags, entities."""
        if (si, k) in self.copies:
            fi, fk, kind = self.copies[(si, k)]
            h = dict(self.head(fi, fk))
            h["title"] = _tweak_title(h["title"], SITES[fi])
            if kind == "near":
                rng = random.Random(f"{self.seed}:{si}:{k}:near")
                lead = h["lead"]
                while lead == h["lead"]:
                    lead = corpus.make_lead(rng, self.topic(fi, fk), h["fixed"])
                h["lead"] = lead
                h["caption"] = None if k % 2 else h["caption"].rstrip(".") + " (Ảnh: tư liệu)."
                h["authors"] = [SITES[fi].credit.removeprefix("Theo ")]
        elif self.roles.get((si, k)) == "seed":
            h = dict(title=SEED_TITLE, lead=SEED_LEAD, caption=SEED_CAPTION, authors=["Minh Hòa"],
                     tags=["Khu công nghiệp", "VSIP", "Phát triển bền vững"], fixed={})
        else:
            rng = random.Random(f"{self.seed}:{si}:{k}:head")
            h = corpus.make_head(rng, self.topic(si, k), self.local_time(si, k), SITES[si].national)
        h["slug"] = corpus.slugify(h["title"])
        return h

    def path_of(self, si: int, k: int) -> str:
        site = SITES[si]
        sec = site.sections[self.section[si][k]].slug
        return site.article_path(sec, self.head(si, k)["slug"], site.id_base + k)

    def link_path(self, si: int, k: int) -> str:
        """The path other pages use to link to an article (an alias for some)."""
        path = self.path_of(si, k)
        return path + "/" if self.is_alias(si, k) else path

    def trap_page(self, name: str):
        return self.trap_pages[name]

    def modified_utc(self, si: int, k: int) -> datetime | None:
        site = SITES[si]
        if (si, k) in self.copies or site is PORTAL or _mix(self.seed, si, k, "m") % 10 >= (3 if site is OUTLET else 2):
            return None
        local = self.local_time(si, k) + timedelta(minutes=45 + _mix(self.seed, si, k, "mm") % 900)
        return (local - timedelta(hours=7)).replace(tzinfo=timezone.utc)

    def modified_local(self, si: int, k: int) -> datetime | None:
        m = self.modified_utc(si, k)
        return m.replace(tzinfo=None) + timedelta(hours=7) if m else None

    def is_alias(self, si: int, k: int) -> bool:
        return k < self.n[si] and k % 11 == 4 and (si, k) not in self.roles and (si, k) not in self.copy_of

    def _body(self, si: int, k: int) -> list[str]:
        if (si, k) in self.copies:
            fi, fk, kind = self.copies[(si, k)]
            paragraphs = list(self._body(fi, fk))
            if kind == "near":
                paragraphs[1] = corpus.reword(paragraphs[1])
            return paragraphs
        if self.roles.get((si, k)) == "seed":
            return list(SEED_PARAGRAPHS)
        rng = random.Random(f"{self.seed}:{si}:{k}:body")
        return corpus.make_body(rng, self.topic(si, k), self.head(si, k)["fixed"])

    def article(self, si: int, k: int) -> DemoArticle:
        return self._article(si, k)

    def _build_article(self, si: int, k: int) -> DemoArticle:
        site, h = SITES[si], self.head(si, k)
        local = self.local_time(si, k)
        utc = (local - timedelta(hours=7)).replace(tzinfo=timezone.utc)
        modified = self.modified_utc(si, k)
        copy = self.copies.get((si, k))
        role = self.roles.get((si, k))
        path = self.path_of(si, k)
        return DemoArticle(
            source=site.name, path=path, title=h["title"], lead=h["lead"], paragraphs=self._body(si, k),
            caption=h["caption"], authors=list(h["authors"]), section=site.sections[self.section[si][k]].label,
            tags=list(h["tags"]), published_local=local, published_utc=utc, date_line=date_line(site, local),
            modified_utc=modified,
            syndicated_from=(SITES[copy[0]].name, self.path_of(copy[0], copy[1])) if copy else None,
            syndication=copy[2] if copy else None,
            alias_paths=[path + ALIAS_QUERY, path + "/"] if self.is_alias(si, k) else [],
            charset={"cp1258": "windows-1258", "lying": "lying"}.get(role, "utf-8"),
            is_seed=role == "seed",
            credit=SITES[copy[0]].credit if copy and copy[2] == "near" else None,
            section_slug=site.sections[self.section[si][k]].slug, article_id=site.id_base + k,
        )

    # ------------------------------------------------------------------ ground truth

    def expected(self) -> list[DemoArticle]:
        return [self.article(si, k) for si in range(3) for k in range(self.n[si])]

    def expected_paths(self) -> list[tuple[str, str]]:
        return [(SITES[si].name, self.path_of(si, k)) for si in range(3) for k in range(self.n[si])]

    def syndication_groups(self) -> list[set[tuple[str, str]]]:
        return [{(SITES[fi].name, self.path_of(fi, fk)), (SITES[ti].name, self.path_of(ti, tk))}
                for (ti, tk), (fi, fk, _) in self.copies.items()]

    def fault_targets(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for (si, k), role in sorted(self.roles.items()):
            if role.startswith("fault:"):
                out.setdefault(role[6:], []).append(self.path_of(si, k))
        out["robots"] = ["/baobinhduong/doanh-nghiep/"]
        out["xml_bomb"] = ["/baobinhduong/rss/tin-moi.rss"]
        return out

    def locate(self, path: str) -> tuple[int, int] | None:
        """(site index, k) of the article served at ``path`` (query ignored), or None."""
        path = urlsplit(path).path
        for si, site in enumerate(SITES):
            m = site.path_re.match(path)
            if m:
                k = int(m.group(3)) - site.id_base
                if 0 <= k < self.total[si] and path.rstrip("/") == self.path_of(si, k):
                    return si, k
        return None

    def get(self, path: str) -> DemoArticle | None:
        found = self.locate(path)
        return self.article(*found) if found else None

    def render(self, target: str, base: str = "http://127.0.0.1") -> Rendered:
        return render.render(self, target, base.rstrip("/"))


def _tweak_title(title: str, origin: SiteSpec) -> str:
    """A syndicating desk's edit of a headline: drop or add the place prefix."""
    head, sep, rest = title.partition(": ")
    if sep:
        return rest[0].upper() + rest[1:]
    place = "Bình Dương" if not origin.national else "Kinh tế"
    return f"{place}: {title}"


def build_world(n_articles: int | None = None, seed: int = 2026, pad: int = 0,
                today: date | None = None) -> DemoWorld:
    """The demo world (see the module docstring). Deterministic for a given seed and today."""
    return DemoWorld(n_articles=n_articles, seed=seed, pad=pad, today=today)
