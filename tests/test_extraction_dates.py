"""Date candidates found on the page without site rules (pipelines/extraction/dateline.py)."""

from pipelines.extract import extract_fields
from pipelines.extraction.dateline import date_lines
from pipelines.extraction.tree import parse_html


def page(body):
    return parse_html(f"<html><body>{body}</body></html>")


def test_marked_element_after_h1_beats_teasers_before_it():
    tree = page("""<div class="teaser"><span class="date">01.01.2024</span></div><h1>T</h1>
                   <div class="article-meta">Veröffentlicht am 13. Mai 2026 um 15:44</div>
                   <nav><span class="date">02.02.2024</span></nav>""")
    assert date_lines(tree) == ["Veröffentlicht am 13. Mai 2026 um 15:44", "01.01.2024"]


def test_labelled_date():
    tree = page("<h1>T</h1><ul><li><strong>Datum</strong> 28.04.2023</li></ul>")
    assert date_lines(tree)[0] == "Datum 28.04.2023"


def test_labelled_date_on_a_decomposed_page():
    """A page typed with combining accents (NFD): decode does not compose whole pages."""
    import unicodedata

    html = unicodedata.normalize("NFD", "<h1>Tiêu đề</h1><p><span>Ngày đăng:</span> 07/03/2026 08:07</p>")
    assert unicodedata.normalize("NFC", date_lines(page(html))[0]) == "Ngày đăng: 07/03/2026 08:07"


def test_data_attribute_date():
    tree = page('<h1>T</h1><div data-deploy-dt="2026.01.29 18:40" data-x="1">x</div>')
    assert "2026.01.29 18:40" in date_lines(tree)


def test_not_picked_from_timers_or_comments():
    tree = page('<h1>T</h1><span class="comment-time">12:30 01.01.2024</span><span class="timer">10:00</span>')
    assert date_lines(tree) == []


def test_candidates_in_precedence_order():
    html = """<html><head><meta property="article:published_time" content="2026-03-07T08:40:00+07:00">
    <script type="application/ld+json">//<![CDATA[
    {"@type": "NewsArticle", "headline": "H", "datePublished": "2026-03-07T08:47:00+07:00",
     "description": "line one
line two"}
    //]]></script></head><body><h1>H</h1><p class="date">07/03/2026 08:47</p></body></html>"""
    f = extract_fields(html, "https://bao.vn/a-20260307081500123.htm", None, {"published_raw": "Sat, 07 Mar 2026 08:00:00 +0700"})
    labels = [label for _, label in f["published_candidates"]]
    assert labels == ["jsonld", "meta", "feed", "url"]  # a visible line is only looked for when nothing has a time
    assert f["published_at_raw"] == "2026-03-07T08:47:00+07:00"
