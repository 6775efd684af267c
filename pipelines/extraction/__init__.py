"""The layers of article extraction: source rules, page metadata, generic content.

All layers share one parsed tree (:func:`pipelines.extraction.tree.parse_html`).
"""
