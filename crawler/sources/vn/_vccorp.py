"""The article template shared by sites on VCCorp's CMS (cafef, tuoitre, nld, baochinhphu).

They mark fields with ``data-role`` attributes (title, sapo, publishdate,
content) and embed boxes by ``type`` (RelatedNewsBox, RelatedOneNews). Each
site's module extends this layout with what differs.
"""

from crawler.sources.base import Layout, css

RELATED = (
    "div[type=RelatedNewsBox]", "div[type=RelatedOneNews]", ".kbwscwl-relatedbox", ".readmore-body-box",
    "div.tindnd", ".link-source-wrapper", "div[type=VideoStream] .VideoCMS_Caption", "zone", ".adv", "[id^=admzone]",
)

VCCORP = Layout(
    title=css("h1[data-role=title]", "h1.detail-title", "h1.title"),
    lead=css("[data-role=sapo]", "h2.detail-sapo", "h2.sapo"),
    body=css("div.detail-content[data-role=content]", "div.detail-content"),
    published=css("[data-role=publishdate]", ".detail-time", ".pdate"),
    authors=css(".detail-author .author-item-name", ".detail-author", ".author-info .name", "p.author", many=True),
    section=css("[data-role=cate-name]", ".detail-cate a"),
    tags=css(".detail-tab a", ".tags-container a", ".tagdetail a", many=True),
    captions=css("div.detail-content figcaption", "div.detail-content .PhotoCMS_Caption", many=True),
    drop=RELATED,
)
