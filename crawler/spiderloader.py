"""Spider loader that makes one spider per declared source.

``scrapy list`` prints every source name; ``scrapy crawl <source>`` runs the
generic :class:`~crawler.spiders.news.NewsSpider` on that declaration.
"""

from __future__ import annotations

from scrapy.http import Request

from crawler.sources import registry
from crawler.spiders.news import NewsSpider
from storage.urls import on_domains


class SourceSpiderLoader:
    def __init__(self, settings):
        self.settings = settings
        self._classes: dict[str, type[NewsSpider]] = {}

    @classmethod
    def from_settings(cls, settings):
        return cls(settings)

    def load(self, spider_name: str) -> type[NewsSpider]:
        cls = self._classes.get(spider_name)
        if cls is None:
            try:
                decl = registry().get(spider_name)
            except ValueError as exc:
                raise KeyError(str(exc)) from None
            cls = type(f"{decl.name}_spider", (NewsSpider,), {"name": decl.name, "source_decl": decl})
            self._classes[spider_name] = cls
        return cls

    def list(self) -> list[str]:
        return registry().names()

    def find_by_request(self, request: Request) -> list[str]:
        base = self.settings.get("DEMO_BASE_URL")
        names = []
        for name in self.list():
            decl = registry().get(name)
            if decl.uses_base and not base:
                continue
            if on_domains(request.url, decl.resolve(base).domains):
                names.append(name)
        return names
