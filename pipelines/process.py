"""Steps 0-4 as one plain function: ``process_page(page, source) -> dict``.

Used by ``scrapy extract`` and the benchmarks; the item pipelines call the
same functions, so both paths produce the same fields. Nothing here needs
Scrapy. A page that validation would drop comes back with ``drop_reason`` set
(None when it is kept).
"""

from __future__ import annotations

from pipelines.clean import clean_fields
from pipelines.dates import resolve_dates
from pipelines.decode import decode_html
from pipelines.extract import extract_fields
from pipelines.validate import drop_reason


def process_page(page: dict, source=None, **options) -> dict:
    """A copy of ``page`` with every field of steps 0-3 and ``drop_reason``; ``options`` go to
    :func:`~pipelines.extract.extract_fields` (the benchmark measures the layers one by one)."""
    item = dict(page)
    item.setdefault("hints", {})
    if "html" not in item:
        item["html"], _ = decode_html(item.get("raw_body") or b"", item.get("content_type"))
    url = item.get("response_url") or item.get("url")
    item.update(extract_fields(item["html"], url, source, item.get("hints"), **options))
    item.update(clean_fields(item))
    item.update(resolve_dates(item, getattr(source, "timezone", None)))
    item["drop_reason"] = drop_reason(item)
    return item
