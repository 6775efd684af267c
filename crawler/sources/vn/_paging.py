"""Listings whose next page is not a link in the HTML.

Several Vietnamese CMSs (VCCorp: cafef, tuoitre, nld, baochinhphu) load older
items with JavaScript from a ``timelinelist`` URL built from the section's
zone id, which the page carries in a hidden input or a ``data-cd-key``
attribute; baodautu appends ``/p<n>`` to the section URL. A
:class:`PagedListing` declares that URL as a template instead of a CSS
selector for an ``<a>``:

``next_template``: the URL with ``{page}`` and, when needed, ``{zone}``;
``zone_css`` / ``zone_attr`` / ``zone_pattern``: where the zone id is read
(first element matching ``zone_css``, attribute ``zone_attr``, first group of
``zone_pattern``); ``page_pattern``: reads the current page number from the
URL (the listing's own URL is page ``first_next - 1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.sources.base import Listing


@dataclass(frozen=True)
class PagedListing(Listing):
    next_template: str = ""
    zone_css: str | None = None
    zone_attr: str = "value"
    zone_pattern: str = r"(\d+)"
    page_pattern: str = r"(\d+)\D*$"
    first_next: int = 2

    def next_url(self, current_url: str, zone: str | None) -> str | None:
        """The URL of the page after ``current_url`` (None when the zone is needed but unknown)."""
        if "{zone}" in self.next_template and not zone:
            return None
        if current_url.rstrip("/") == self.url.rstrip("/"):
            page = self.first_next
        else:
            m = re.search(self.page_pattern, current_url)
            if not m:
                return None
            page = int(m.group(1)) + 1
        return self.next_template.format(page=page, zone=zone or "")
