import unicodedata

import pytest

from pipelines.cleaning.rules import repair_mojibake
from pipelines.decode import DecodePipeline, decode_html

VIET = "Kinh tế Việt Nam tăng trưởng mạnh, xuất khẩu đạt kỷ lục"


TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Encode like a windows-1258 CMS: precomposed vowel, then the tone as a combining mark."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
            out += (base + "".join(c for c in parts if c in TONES)).encode("cp1258")
    return out


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


def test_utf8_declared_in_header():
    text, how = decode_html(page(VIET).encode("utf-8"), "text/html; charset=utf-8")
    assert VIET in text and how.startswith("utf_8")


def test_windows_1258_is_decoded_and_composed():
    raw = to_cp1258(page(VIET, '<meta charset="windows-1258">'))
    text, how = decode_html(raw, None)
    assert how.startswith("cp1258")
    assert VIET in text


def test_windows_1258_undeclared_is_sniffed():
    text, how = decode_html(to_cp1258(page(VIET)), None)
    assert how.startswith("cp1258") and VIET in text
    assert unicodedata.is_normalized("NFC", text)


def test_utf8_bytes_declared_latin1_by_header_are_utf8():
    raw = page(VIET).encode("utf-8")
    text, how = decode_html(raw, "text/html; charset=ISO-8859-1")
    assert VIET in text and "lied" in how


def test_utf8_bytes_declared_windows_1252_in_meta_are_utf8():
    raw = page(VIET, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">').encode("utf-8")
    text, _ = decode_html(raw, None)
    assert VIET in text


def test_real_latin1_page_stays_latin1():
    raw = page("Café crème à la française").encode("latin-1")
    text, _ = decode_html(raw, "text/html; charset=iso-8859-1")
    assert "Café crème à la française" in text


def test_bom_wins_over_header():
    raw = b"\xef\xbb\xbf" + page(VIET).encode("utf-8")
    text, how = decode_html(raw, "text/html; charset=iso-8859-1")
    assert VIET in text and "bom" in how


def test_combining_marks_in_utf8_are_left_to_the_clean_step():
    # decoding does no whole-page NFC pass (too slow on 100+ kB pages); the clean step composes the fields
    from pipelines.clean import clean_fields

    decomposed = unicodedata.normalize("NFD", VIET)
    text, _ = decode_html(page(decomposed).encode("utf-8"), None)
    assert decomposed in text
    for name in ("title", "lead", "body", "section"):
        assert clean_fields({name: decomposed})[name] == VIET
    for name in ("tags", "authors", "image_captions"):
        assert clean_fields({name: [unicodedata.normalize("NFD", "Việt Nam")]})[name] == ["Việt Nam"]


def test_mojibake_in_fields_is_repaired_by_the_clean_step():
    from pipelines.clean import clean_fields

    broken = VIET.encode("utf-8").decode("cp1252", errors="replace")
    text, _ = decode_html(page(broken).encode("utf-8"), "text/html; charset=utf-8")
    assert broken in text  # decoding keeps the bytes' text as is
    for name in ("title", "lead", "body", "section"):
        assert clean_fields({name: broken})[name] == VIET
    assert clean_fields({"body": f"Đoạn đầu.\n\n{broken}"})["body"] == f"Đoạn đầu.\n\n{VIET}"
    for name in ("tags", "image_captions"):
        assert clean_fields({name: ["Viá»‡t Nam"]})[name] == ["Việt Nam"]


def test_mojibake_line_repaired_good_text_untouched():
    broken = VIET.encode("utf-8").decode("cp1252", errors="replace")
    assert repair_mojibake(broken) == VIET
    assert repair_mojibake(VIET) == VIET
    assert repair_mojibake("Giá 1.000 USD – “tăng” 5%") == "Giá 1.000 USD – “tăng” 5%"


def test_undecodable_bytes_do_not_crash():
    text, _ = decode_html(b"<p>\xff\xfe\xfa abc</p>", "text/html; charset=utf-8")
    assert "abc" in text


def test_pipeline_adds_html():
    item = {"raw_body": page(VIET).encode("utf-8"), "content_type": None}
    assert VIET in DecodePipeline().process_item(item)["html"]


@pytest.mark.parametrize("raw", [b"", None])
def test_empty(raw):
    assert decode_html(raw or b"", None)[0] == ""


def test_utf8_bytes_declared_windows_1258_are_utf8():
    raw = page(VIET, '<meta charset="windows-1258">').encode("utf-8")
    text, how = decode_html(raw, None)
    assert VIET in text and "lied" in how


def test_header_beats_meta_when_both_are_honest():
    raw = to_cp1258(page(VIET, '<meta charset="utf-8">'))
    text, how = decode_html(raw, "text/html; charset=windows-1258")
    assert VIET in text and how.startswith("cp1258:header")
