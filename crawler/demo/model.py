"""The demo world's types: an article as the world holds it, and a rendered response.

Kept apart from :mod:`crawler.demo.world` so that the modules the world uses (``traps``, ``render``)
need not import it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

ALIAS_QUERY = "?utm_source=zalo&utm_medium=share"


@dataclass
class DemoArticle:
    source: str
    path: str
    title: str
    lead: str
    paragraphs: list[str]
    caption: str | None
    authors: list[str]
    section: str
    tags: list[str]
    published_local: datetime
    published_utc: datetime
    date_line: str
    modified_utc: datetime | None = None
    syndicated_from: tuple[str, str] | None = None
    syndication: str | None = None
    alias_paths: list[str] = field(default_factory=list)
    charset: str = "utf-8"
    is_seed: bool = False
    credit: str | None = None           # trailing credit line of a near copy ("Theo Báo Bình Dương")
    section_slug: str = ""
    article_id: int = 0                 # the number in the URL
    kind: str = "article"               # "article", or for trap pages "video", "notice"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class Rendered(NamedTuple):
    status: int
    headers: dict
    body: bytes
