"""Layer 3: generic main-content extraction (no site knowledge).

Thin version: trafilatura's main-text extractor run on the already parsed
tree (trafilatura copies it, so no second parse).
"""

from __future__ import annotations

import trafilatura


def generic_body(tree, url: str | None = None) -> str | None:
    """Main text of the page, paragraphs joined by a blank line, or None."""
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, include_tables=True,
            favor_precision=False, deduplicate=False,
        )
    except Exception:  # trafilatura raises on some broken trees; the layer simply finds nothing
        return None
    if doc is None:
        return None
    text = doc.text if hasattr(doc, "text") else doc.get("text")
    if not text:
        return None
    paras = [" ".join(p.split()) for p in text.split("\n")]
    return "\n\n".join(p for p in paras if p) or None
