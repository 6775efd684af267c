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
