"""The generic main-text extractor on small pages built like real ones."""

from pipelines.extraction.generic import boilerplate, generic_paragraphs
from pipelines.extraction.tree import parse_html

P = ("Kim ngạch xuất khẩu của tỉnh trong quý đạt mức cao nhất từ trước đến nay, các doanh nghiệp FDI "
     "đóng góp phần lớn, theo sở công thương.")


def paras(n, text=P):
    return "".join(f"<p>{i}. {text}</p>" for i in range(n))


def run(body, title=None):
    return generic_paragraphs(parse_html(f"<html><body>{body}</body></html>"), title)


def test_article_beats_navigation_and_teasers():
    page = f"""<nav><ul>{''.join(f'<li><a href="/{i}">Mục {i}</a></li>' for i in range(30))}</ul></nav>
    <div class="main"><h1>Tiêu đề</h1><div class="article-body">{paras(6)}</div>
    <div class="related"><h3>Tin liên quan</h3><ul>{''.join(f'<li><a href="/r{i}">{P}</a></li>' for i in range(5))}</ul></div></div>
    <footer><p>© 2026 Báo. {P}</p></footer>"""
    out = run(page, "Tiêu đề")
    assert len(out) == 6 and all(p.endswith("công thương.") for p in out)


def test_paragraphs_wrapped_one_by_one_are_all_kept():
    blocks = "".join(f'<div class="text-block"><div class="x"><p>{i}. {P}</p></div></div>' for i in range(8))
    out = run(f"<main><article><h1>T</h1>{blocks}<div class='share'>Chia sẻ</div></article></main>")
    assert len(out) == 8


def test_body_split_around_ads_is_joined():
    chunk = '<div class="article__body">{}</div>'
    page = f"""<article>{chunk.format(paras(4))}<div class="ad-slot">Quảng cáo</div>{chunk.format(paras(3, 'Phần sau: ' + P))}
    <div class="article__body"><a href="/1">{P}</a></div></article>"""
    out = run(page)
    assert len(out) == 7 and out[-1].startswith("2. Phần sau")


def test_furniture_class_wrapping_the_whole_article_is_not_believed():
    # sites put the article in 'hidden-xs' or 'sidebar-layout' containers
    out = run(f'<div class="container hidden-xs"><article>{paras(5)}</article></div><aside>{paras(1)}</aside>')
    assert len(out) == 5


def test_captions_credits_labels_and_headings():
    page = f"""<article><h1>T</h1>{paras(2)}<figure><img src=x><figcaption>Ảnh minh họa</figcaption></figure>
    <p>Cảng Cát Lái nhộn nhịp. Ảnh: Hoàng Phong</p><h2>Đầu tư công</h2><p>Chia sẻ</p><p>8 giờ trước</p>
    <p>https://example.vn/bai-viet</p>{paras(2)}<h3>Các tin khác</h3><p>{P}</p></article>"""
    out = run(page, "T")
    assert "Đầu tư công" in out
    assert not any("Ảnh" in p or "giờ trước" in p or p.startswith("http") or p == "Chia sẻ" for p in out)
    assert len(out) == 5  # the "Các tin khác" box at the end is cut


def test_no_article_on_the_page():
    assert run('<nav><a href="/">Trang chủ</a></nav>') == []


def test_boilerplate_marks_subtrees():
    tree = parse_html(f'<html><body><div class="comments"><p>{P}</p></div><script>var a=1</script></body></html>')
    bad = boilerplate(tree)
    assert any(el.tag == "p" for el in bad) and any(el.tag == "script" for el in bad)


# ---------------------------------------------------------------- the ensemble (pipelines/extraction/peers.py)

ARTICLE = "".join(f"<p>{i}. {P} {P}</p>" for i in range(8))  # jusText wants paragraphs of 200+ characters
TEASERS = "".join(f'<li><a href="/t{i}">Tin khác {i}: giá vàng hôm nay tăng, doanh nghiệp lo ngại</a></li>'
                  for i in range(12))
COMMENTS = "".join(f"<p>Bình luận {i}: bài viết rất hay, cảm ơn tác giả đã chia sẻ thông tin hữu ích.</p>"
                   for i in range(6))
ENSEMBLE_PAGE = f"""<html lang="vi"><head><title>Xuất khẩu tăng mạnh</title></head><body>
<nav><ul>{TEASERS}</ul></nav><main><h1>Xuất khẩu tăng mạnh</h1><article>{ARTICLE}</article>
<section id="comments" class="comments">{COMMENTS}</section></main><footer>© 2026 Báo</footer></body></html>"""


def test_agreement_picks_what_the_others_share():
    from pipelines.extraction.peers import agreement

    article = "\n\n".join(f"{i}. {P}" for i in range(8))
    menu = "Trang chủ Kinh tế Thời sự Thể thao Giải trí Pháp luật Xe Du lịch"
    name, scores = agreement({"a": menu, "b": article, "c": article + "\n\nChia sẻ bài viết"})
    assert name == "b" and scores["a"] < 0.1 < scores["c"] <= scores["b"]
    assert agreement({"a": None, "b": article, "c": None})[0] == "b"  # one candidate: itself
    assert agreement({"a": article, "b": menu, "c": None})[0] == "a"  # two cannot outvote: order decides


def test_each_peer_reads_the_one_html_tree_without_changing_it():
    import lxml.html

    from pipelines.extraction import peers

    tree = peers.html_tree(ENSEMBLE_PAGE)
    before = lxml.html.tostring(tree)
    texts = {"trafilatura": peers.trafilatura_text(tree), "justext": peers.justext_text(tree, "vi")}
    assert lxml.html.tostring(tree) == before
    for name, text in texts.items():
        assert text.startswith("0. Kim ngạch") and "7. Kim ngạch" in text and "Tin khác" not in text, name
    assert "Bình luận" not in texts["trafilatura"]  # no comments; jusText cannot tell them from text


def test_generic_path_ensemble_body_and_its_label():
    from pipelines.extract import extract_fields

    f = extract_fields(ENSEMBLE_PAGE, "https://example.org/xuat-khau", None)
    assert f["field_sources"]["body"] == "generic"  # ours and trafilatura agree: the first is kept
    paragraphs = f["body"].split("\n\n")
    assert [p[:2] for p in paragraphs] == [f"{i}." for i in range(8)]
    alone = extract_fields(ENSEMBLE_PAGE, "https://example.org/xuat-khau", None, body_candidates=("trafilatura",))
    assert alone["field_sources"]["body"] == "trafilatura" and alone["body"].split("\n\n") == paragraphs
    alone = extract_fields(ENSEMBLE_PAGE, "https://example.org/xuat-khau", None, body_candidates=("justext",))
    assert alone["field_sources"]["body"] == "justext" and alone["body"].split("\n\n")[:8] == paragraphs


def _choice_fixture():
    """An article, a list of other stories, and ``make(texts)``: candidate makers that note who was asked."""
    article = "\n\n".join(f"{i}. {P}" for i in range(8))
    menu = "\n\n".join(f"Tin khác {i}: giá vàng hôm nay tăng mạnh, doanh nghiệp lo ngại" for i in range(8))
    asked: list = []

    def make(texts):
        return {k: (lambda k=k: asked.append(k) or texts.get(k)) for k in ("generic", "trafilatura", "justext", "jsonld")}

    return article, menu, asked, make


def test_jusText_settles_a_disagreement_and_without_a_voter_ours_stands():
    from pipelines.extract import generic_choice

    article, menu, asked, make = _choice_fixture()
    pair = ("generic", "trafilatura")
    # ours took the menu, trafilatura the article: jusText sides with trafilatura
    assert generic_choice(pair, make({"generic": menu, "trafilatura": article, "justext": article})) \
        == ("trafilatura", article)
    assert asked == ["generic", "jsonld", "trafilatura", "justext"]  # no articleBody to confirm ours
    # ... or with ours
    assert generic_choice(pair, make({"generic": article, "trafilatura": menu, "justext": article}))[0] == "generic"
    # both are always asked; where they agree, jusText is not, and ours is kept
    asked.clear()
    assert generic_choice(pair, make({"generic": article, "trafilatura": article + "\n\nChia sẻ",
                                      "justext": menu})) == ("generic", article)
    assert asked == ["generic", "jsonld", "trafilatura"]
    # one of them found nothing: the other, with no vote
    asked.clear()
    assert generic_choice(pair, make({"generic": None, "trafilatura": article, "justext": menu})) \
        == ("trafilatura", article)
    assert "justext" not in asked
    assert generic_choice(pair, make({})) == ("generic", None)
    # no voter, or a voter with nothing to say: the first stands
    assert generic_choice(pair, make({"generic": menu, "trafilatura": article}), voters=()) == ("generic", menu)
    assert generic_choice(pair, make({"generic": menu, "trafilatura": article})) == ("generic", menu)
    # the voters are asked in order until one has a text (the publisher's articleBody, where measured)
    asked.clear()
    assert generic_choice(pair, make({"generic": menu, "trafilatura": article, "justext": menu}),
                          voters=("jsonld", "justext")) == ("generic", menu)
    assert asked == ["generic", "jsonld", "trafilatura", "jsonld", "justext"]


def test_the_publishers_articleBody_confirms_ours_without_asking_the_others():
    from pipelines.extract import generic_choice

    article, menu, asked, make = _choice_fixture()
    pair = ("generic", "trafilatura")
    assert generic_choice(pair, make({"generic": article, "jsonld": article + "\n\nChia sẻ", "trafilatura": menu})) \
        == ("generic", article)
    assert asked == ["generic", "jsonld"]
    # an articleBody that says something else confirms nothing: the ensemble runs (and the articleBody
    # does not vote)
    asked.clear()
    assert generic_choice(pair, make({"generic": menu, "jsonld": article, "trafilatura": article,
                                      "justext": article})) == ("trafilatura", article)
    assert asked == ["generic", "jsonld", "trafilatura", "justext"]
    # without confirmers, trafilatura is asked whatever the page declares
    asked.clear()
    generic_choice(pair, make({"generic": article, "jsonld": article, "trafilatura": article}), confirmers=())
    assert asked == ["generic", "trafilatura"]


def test_htmldate_is_the_last_date_reader_and_only_without_metadata():
    from pipelines.extract import extract_fields

    page = ENSEMBLE_PAGE.replace("<h1>", "<p>Veröffentlicht: Samstag, 19. Juli 2014</p><h1>")
    f = extract_fields(page, "https://example.org/2014/07/19/xuat-khau", None)
    labels = [label for _, label in f["published_candidates"]]
    assert labels[-1] == "htmldate" and f["published_candidates"][-1][0] == "2014-07-19"
    meta = page.replace("<title>", '<meta property="article:published_time" content="2014-07-19T08:00:00+02:00"><title>')
    assert "htmldate" not in [label for _, label in extract_fields(meta, None, None)["published_candidates"]]
    assert "htmldate" not in [label for _, label in extract_fields(page, None, None, use_htmldate=False)
                              ["published_candidates"]]


UNDATED_PAGE = """<html><head><title>Xuất khẩu tăng</title>
<script>var v = '20261101'; document.write(v);</script></head><body>
<nav><a href="/">Trang chủ</a> <span>(01/12/2026)</span></nav>
<article><h1>Xuất khẩu tăng mạnh</h1>
<p>Kim ngạch xuất khẩu của tỉnh tiếp tục tăng trong nhiều tháng qua nhờ các dự án mới đi vào hoạt động.</p>
<p>Các doanh nghiệp trong khu công nghiệp cho biết đơn hàng đã kín đến cuối năm sau.</p></article>
<ul class="related"><li><a href="/tin-khac-1.html">Tin khác: đầu tư công</a> <span>(29/11/2026)</span></li>
<li><a href="/tin-khac-2.html">Tin khác: thu hút FDI</a> <span>(28/11/2026)</span></li></ul>
<div class="site-footer">© 2026 Cổng thông tin điện tử</div></body></html>"""


def test_htmldate_reads_no_date_from_other_stories_code_or_a_copyright_line():
    """A page that states no date of its own: the related stories' dates, a script's build stamp and
    the copyright year (htmldate's whole-text search answers a related story's day, and without the
    related stories 2026-11-01, then 2026-01-01) are not its day."""
    from datetime import datetime, timezone

    import lxml.html
    from htmldate import find_date

    from pipelines.extraction.peers import htmldate_raw

    latest = datetime(2100, 1, 1, tzinfo=timezone.utc)  # a bound, not today: the page's dates are fixed
    # what is avoided: htmldate on the whole page answers a related story's day
    assert find_date(UNDATED_PAGE, extensive_search=True, original_date=True) in ("2026-11-28", "2026-11-29")
    assert htmldate_raw(lxml.html.document_fromstring(UNDATED_PAGE), "https://example.org/xuat-khau.html",
                        latest) is None
    own = UNDATED_PAGE.replace("<h1>Xuất khẩu tăng mạnh</h1>",
                               "<h1>Xuất khẩu tăng mạnh</h1><p class='date'>Thứ bảy, 19/07/2014 08:30</p>")
    assert htmldate_raw(lxml.html.document_fromstring(own), None, latest) == "2014-07-19"


def test_generic_path_on_a_table_layout_portal_keeps_the_text_and_drops_the_frame():
    """The demo provincial portal is laid out in tables: trafilatura (tables included) reads the whole
    frame, banner and link labels with it, where ours keeps the story; jusText's vote settles it. Every
    body paragraph is kept and none of the frame."""
    import unicodedata
    from collections import Counter

    from crawler.demo.world import build_world
    from pipelines.extract import extract_fields

    world = build_world(120)
    portal = [a for a in world.articles if a.source == "demo_binhduong_portal" and a.kind == "article"
              and a.charset == "utf-8"][:12]
    assert len(portal) == 12
    labels = Counter()
    for a in portal:
        html = unicodedata.normalize("NFC", world.render(a.path, "http://127.0.0.1:9").body.decode("utf-8"))
        f = extract_fields(html, "http://127.0.0.1:9" + a.path, None)
        labels[f["field_sources"]["body"]] += 1
        for paragraph in a.paragraphs:
            assert paragraph in f["body"], (a.path, paragraph)
        for frame in ("CỔNG THÔNG TIN", "Tin liên quan", "Phản hồi", "Các tin khác", "LIÊN KẾT WEBSITE"):
            assert frame not in f["body"], (a.path, frame)
    assert labels["justext"] > 0, labels  # the vote ran, and chose


def test_jusText_abstains_on_a_page_of_too_many_paragraphs():
    """Its neighbour search grows with the square of the paragraphs: past the cap it gives no text (the
    vote goes without it) instead of holding the crawl's thread for seconds."""
    from pipelines.extraction import peers

    nav = "<li><a href='/x'>Tin khác về giá vàng hôm nay</a></li>"

    def page(n):
        paragraphs = "".join(f"<p>{i}. {P} {P}</p>" for i in range(n))  # long: good, not near-good
        return peers.html_tree(f"<html><body><nav><ul>{nav * n}</ul></nav><article>{paragraphs}</article></body></html>")

    n = peers.JUSTEXT_MAX_PARAGRAPHS // 4  # a page of n links and n paragraphs: 2n paragraphs for jusText
    text = peers.justext_text(page(n), "vi")
    assert text is not None and text.count("\n\n") == n - 1 and f"{n - 1}. Kim" in text and "Tin khác" not in text
    assert peers.justext_text(page(2 * n + 1), "vi") is None


def test_whitespace_normalised_as_jusText_does():
    """The voter's whitespace rule, two passes in C instead of a callback per run: the same string as
    jusText's on every mix of spaces, breaks and other Unicode whitespace up to length 6."""
    from itertools import product

    from justext.utils import normalize_whitespace

    from pipelines.extraction.peers import _normalize_whitespace

    alphabet = ["a", " ", "\t", "\n", "\r", "\x0b", "\u2028", "\x85", "\xa0", "\u3000"]
    checked = 0
    for n in range(7):
        for chars in product(alphabet, repeat=n):
            s = "".join(chars)
            assert _normalize_whitespace(s) == normalize_whitespace(s), repr(s)
            checked += 1
    assert checked == sum(len(alphabet) ** n for n in range(7))


def test_jusText_voter_returns_what_stock_jusText_returns_on_real_pages():
    """The cheaper paragraph maker changes no paragraph: on every multilingual real page of
    ../shared/data (and 30 pages of the demo sites) the voter's text equals the text of jusText's
    own ParagraphMaker, every other page with a stop-word list."""
    import unicodedata

    from justext.core import ParagraphMaker

    from benchmarks.eval import load_fundus
    from crawler.demo.world import build_world
    from pipelines.extraction import peers
    from tests.shared import shared_data

    pages = [(c.raw.decode("utf-8", "replace"), "en") for c in
             load_fundus(shared_data("fundus-pages", "pairs.jsonl").parents[1], None)]
    world = build_world(60)
    pages += [(unicodedata.normalize("NFC", world.render(a.path, "http://127.0.0.1:9").body.decode("utf-8")), "vi")
              for a in world.articles if a.kind == "article" and a.charset == "utf-8"][:30]
    assert len(pages) > 250
    texts = 0
    for i, (html, language) in enumerate(pages):
        tree = peers.html_tree(html)
        lang = language if i % 2 else None  # every other page without a stop-word list
        ours = peers.justext_text(tree, lang)
        assert ours == peers.justext_text(tree, lang, maker=ParagraphMaker)
        texts += bool(ours)
    assert texts > 150  # the comparison compared texts, not Nones


def test_class_words_are_matched_whatever_their_case():
    """The furniture and content class words are written in lower case and matched against lower-cased
    class and id values: 'Related-Articles', 'SIDEBAR' and 'ArticleBody' read as their lower-case forms."""
    import re

    from pipelines.extraction.generic import _NEGATIVE, _POSITIVE, _furniture_marks, _marks
    from pipelines.extraction.tree import parse_html

    for pattern in (_NEGATIVE, _POSITIVE):
        letters = re.sub(r"\\[a-zA-Z]", "", pattern.pattern)
        assert letters == letters.lower() and not pattern.flags & re.IGNORECASE
    tree = parse_html('<html><body><div class="Related-Articles" id="X"></div><div class="SIDEBAR ArticleBody">'
                      '</div><div class="lg:Share-Box"></div></body></html>')
    marks = [_marks(el) for el in tree.iter("div")]
    assert marks == ["related-articles x", "sidebar articlebody", "share-box"]
    assert [_furniture_marks(m) for m in marks] == [True, False, True]  # the content word wins
    out = run(f'<div class="ARTICLE-BODY">{paras(3)}</div><div class="Related-Stories">{paras(1, "Khác: " + P)}</div>')
    assert len(out) == 3 and not any("Khác" in p for p in out)
