"""The source registry.

Every module below ``crawler/sources/`` (recursively) that defines ``SOURCE``
(one :class:`~crawler.sources.base.Source`) or ``SOURCES`` (a sequence of them)
is registered. Adding a source is adding such a module: no spider to write.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from crawler.sources.base import (  # noqa: F401  (re-exported for declarations)
    ANY_URL, FieldRule, Layout, Listing, Source, SourceError, SourceSet, css, path_regex, regex, xpath,
)


@lru_cache(maxsize=1)
def registry() -> SourceSet:
    found = SourceSet()
    for mod in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        if mod.name.endswith(".base"):
            continue
        module = importlib.import_module(mod.name)
        if hasattr(module, "SOURCE"):
            found.add(module.SOURCE)
        for src in getattr(module, "SOURCES", ()):
            found.add(src)
    return found


def get_source(name: str, base_url: str | None = None) -> Source:
    """The declaration named ``name``, with ``{base}`` resolved when it has one."""
    return registry().get(name).resolve(base_url)


def source_names() -> list[str]:
    return registry().names()
