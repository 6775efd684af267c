"""Exact dedupe: one row per canonical URL and per normalised text.

Adds ``canonical_url`` (the page's own canonical link when it stays on the
source's domains, else the requested URL), ``article_id``, ``content_hash`` and
``word_count``, then claims both keys in the archive's dedupe state. A page
whose URL or text is already archived (this run, an earlier one, or a
concurrent one) is dropped and recorded in the ``duplicates`` dataset with the
id of the copy that was kept; the drop comes once that row is durable (the
journal's group commit, as for an archived article).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

from storage.urls import canonical, on_domains
from pipelines.dropped import Dropped
from pipelines.durable import durable
from storage.rows import duplicate_row

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")


def normalised_text(text: str) -> str:
    """Case-, accent-composition- and punctuation-insensitive form of a body."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", text or "").casefold()))


def content_hash(body: str) -> str:
    return hashlib.sha256(normalised_text(body).encode("utf-8")).hexdigest()[:32]


def identify(item: dict, source) -> dict:
    """Fill ``canonical_url``, ``article_id``, ``content_hash``, ``word_count`` (pure)."""
    requested = canonical(item["url"], source.strip_params, source.host_aliases)
    page_canonical = (item.get("canonical_url") or "").strip()
    if page_canonical:
        page_canonical = canonical(page_canonical, source.strip_params, source.host_aliases)
    item["canonical_url"] = page_canonical if page_canonical and on_domains(page_canonical, source.domains) else requested
    item["article_id"] = source.article_id(item["canonical_url"])
    item["content_hash"] = content_hash(item.get("body") or "")
    item["word_count"] = len(_WORD.findall(item.get("body") or ""))
    return item


def field_flags(item: dict) -> tuple[bool, bool, bool, bool]:
    """Title, body, date, authors: which an article has, for the run report's completeness (an item,
    or a journaled row's summary, which says ``has_body`` instead of carrying the text)."""
    body = item["has_body"] if "has_body" in item else bool((item.get("body") or "").strip())
    return (bool((item.get("title") or "").strip()), body, item.get("published_at") is not None,
            any((a or "").strip() for a in item.get("authors") or ()))


class DedupePipeline:
    """Exact dedupe; for pages fetched with ``-a urls=`` (``force``), versioning instead.

    A forced page whose article is already archived is compared with its newest
    archived version: the same cleaned text is dropped as ``unchanged``; a changed
    text is archived as ``version`` = previous + 1 with the same ``article_id``.
    Nothing archived is ever overwritten.
    """

    def __init__(self, source, session, stats, fields: dict | None = None):
        self.source = source
        self.session = session
        self.stats = stats
        self.fields = fields if fields is not None else {}  # URL -> (title, body, dated, authors) of pages let through

    @classmethod
    def from_crawler(cls, crawler):
        run = crawler.crawl_run
        return cls(run.source, run.session, crawler.stats, run.fields)

    async def process_item(self, item):
        session = self.session
        if "content_hash" not in item:  # not identified by pipelines.page.PagePipeline
            identify(item, self.source)
        stats = self.stats
        if item.get("force"):
            previous = session.latest_version(self.source.name, item["article_id"])
            if previous is not None:
                version, old_hash = previous
                if old_hash == item["content_hash"]:
                    stats.inc_value("pipeline/dropped/unchanged")
                    raise Dropped("unchanged", f"unchanged: version {version} of {item['article_id']} has the same "
                                  f"text: {item['url']}", kept=item["article_id"], version=version)
                owner = session.state.lookup_hash(item["content_hash"])
                if owner is None or owner == item["article_id"]:
                    item["version"] = version + 1
                    session.note_version(item["article_id"], version + 1, item["content_hash"])
                    stats.inc_value("dedupe/new_version")
                    self._note_fields(item)
                    return item
        status, kept = session.claim(item["article_id"], item["content_hash"])
        if status == "new":
            if item.get("force"):
                session.note_version(item["article_id"], 1, item["content_hash"])
            self._note_fields(item)
            return item
        # the drop is the acknowledgement of its duplicates row: only once that row is durable
        await durable(session.accept_grouped("duplicates", duplicate_row(
            kept, item["url"], item["source"], item.get("title"), 1.0, status, item["run_id"], item["fetched_at"])),
            stats)
        stats.inc_value(f"dedupe/{status}")
        stats.inc_value(f"pipeline/dropped/duplicate_{status}")
        raise Dropped(f"duplicate_{status}", f"duplicate_{status}: copy of {kept}: {item['url']}", kept=kept)

    def _note_fields(self, item) -> None:
        """For the run report's completeness: what the spider counts if this page ends archived."""
        self.fields[item["url"]] = field_flags(item)
