"""Where the archive's bytes go, picked by URI scheme from one registry (like Scrapy's FEED_STORAGES).

Adding a store is one class and one entry here. Entries are import paths so that a backend's
optional driver (boto3 for ``s3``) is imported only when that backend is used.
"""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from ..errors import ArchiveConfigError

BACKENDS: dict[str, str] = {
    "": "storage.backends.local.LocalBackend",
    "file": "storage.backends.local.LocalBackend",
    "s3": "storage.backends.s3.S3Backend",
}


def scheme_of(uri: str) -> str:
    if not isinstance(uri, str) or not uri.strip():
        raise ArchiveConfigError("empty archive URI; give a folder, file:///path or s3://bucket/prefix")
    scheme = urlsplit(uri).scheme.lower()
    return "" if len(scheme) == 1 else scheme  # "C:\\..." is a path, not a scheme


def load_backend_class(scheme: str):
    path = BACKENDS.get(scheme)
    if path is None:
        known = ", ".join(repr(s + "://") for s in sorted(BACKENDS) if s) + " or a local path"
        raise ArchiveConfigError(f"unknown scheme {scheme!r}; expected {known}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def get_backend(uri: str, **options):
    return load_backend_class(scheme_of(uri)).from_uri(uri, **options)
