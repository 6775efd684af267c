"""Each cleaning rule on examples taken from real Vietnamese news pages."""

import unicodedata

import pytest

from pipelines.clean import CleanPipeline, clean_fields
from pipelines.cleaning import rules as r


def test_nfc():
    assert r.nfc(unicodedata.normalize("NFD", "Nghị định")) == "Nghị định"


def test_fix_text_composes_and_repairs_mojibake_only_when_bad():
    good = "Giá 1.000 USD – “tăng” 5%"
    assert r.fix_text(good) is good
    assert r.fix_text(unicodedata.normalize("NFD", "Nghị định")) == "Nghị định"
    assert r.fix_text("Viá»‡t Nam") == "Việt Nam"
    assert r.clean_text("Kinh táº¿ Viá»‡t Nam") == "Kinh tế Việt Nam"


def test_zero_width_removed():
    assert r.remove_zero_width("tháng 9.\ufeff Đây\u200b") == "tháng 9. Đây"


def test_nbsp_and_spaces():
    assert r.normalize_spaces("Giá\u00a0vàng  giảm\u2009mạnh \n\n\n  Đồng USD ") == "Giá vàng giảm mạnh\n\nĐồng USD"


def test_entities_double_escaped():
    assert r.unescape_entities("Tập đoàn &amp;quot;FLC&amp;quot; &#8211; cổ phiếu") == 'Tập đoàn "FLC" – cổ phiếu'


def test_entities_plain_text_untouched():
    assert r.unescape_entities("R&D và M&A") == "R&D và M&A"


def test_furniture_lines():
    paras = ["Giá vàng giảm.", "Tin liên quan", "Chia sẻ", "In bài", "Xem thêm:", "Copy link thành công",
             "Trở lại Kinh doanh", "© 2005-2026 Bản quyền thuộc về Báo điện tử Dân trí.",
             "Tuổi Trẻ Online giữ bản quyền nội dung trên website này", "Đồng USD tăng."]
    assert r.drop_furniture(paras) == ["Giá vàng giảm.", "Đồng USD tăng."]


def test_furniture_words_inside_sentences_stay():
    para = "Ông Linh chia sẻ thêm về kế hoạch, xem thêm chi tiết trong báo cáo."
    assert r.drop_furniture([para]) == [para]


def test_related_tail_cut():
    paras = ["a b c.", "d e f.", "g h i.", "j k l.", "Các tin khác", "Giá xăng tăng", "Giá điện giảm"]
    assert r.drop_furniture(paras) == ["a b c.", "d e f.", "g h i.", "j k l."]


def test_end_mark():
    assert r.strip_end_mark(["Hội nghị kết thúc.", "Chính phủ yêu cầu các bộ khẩn trương triển khai./."]) == [
        "Hội nghị kết thúc.", "Chính phủ yêu cầu các bộ khẩn trương triển khai."]
    assert r.strip_end_mark(["Văn bản có hiệu lực từ ngày 1/3 ./."]) == ["Văn bản có hiệu lực từ ngày 1/3."]
    assert r.strip_end_mark(["Câu cuối.", "./."]) == ["Câu cuối."]


def test_credit_theo_ttxvn():
    paras, authors = r.move_credit_lines(["Xuất khẩu tăng 12%.", "Theo TTXVN"], [])
    assert paras == ["Xuất khẩu tăng 12%."] and authors == ["TTXVN"]


def test_credit_lone_name():
    paras, authors = r.move_credit_lines(["Xuất khẩu tăng 12%.", "Hà Thu (tổng hợp)"], ["VnExpress"])
    assert paras == ["Xuất khẩu tăng 12%."] and authors == ["VnExpress", "Hà Thu"]
    paras, authors = r.move_credit_lines(["Xuất khẩu tăng 12%.", "NHẬT XUÂN - NGHI VŨ"], [])
    assert authors == ["NHẬT XUÂN", "NGHI VŨ"]


def test_credit_not_a_sentence():
    paras = ["Xuất khẩu tăng 12%.", "Giá vàng giảm mạnh trong phiên sáng nay."]
    assert r.move_credit_lines(paras, [])[0] == paras


def test_lead_not_repeated():
    lead = "Giá vàng trong nước tiếp tục giảm."
    assert r.drop_lead_repeat(lead, ["Giá vàng trong nước tiếp tục giảm", "Đồng USD tăng."]) == ["Đồng USD tăng."]


def test_captions_once():
    cap = "Một dự án của FLC. Ảnh: Hồng Khanh"
    body, caps = r.captions_once(["a.", cap, "b.", cap], [cap, cap], None)
    assert body == ["a.", cap, "b."] and caps == [cap]


def test_lead_caption_moves_to_captions_once():
    lead = "Tỉnh phát triển các KCN theo hướng xanh. Trong ảnh: VSIP, khu công nghiệp kiểu mẫu của cả nước."
    cap = "VSIP, khu công nghiệp kiểu mẫu của cả nước."
    fields = clean_fields({"lead": lead, "body": "Nội dung.", "image_captions": [cap]})
    assert fields["lead"] == "Tỉnh phát triển các KCN theo hướng xanh."
    assert fields["image_captions"] == [cap]  # once, though both the lead and the figure print it
    fields = clean_fields({"lead": lead, "body": "Nội dung.", "image_captions": []})
    assert fields["image_captions"] == [cap]  # the lead's caption alone is still kept


@pytest.mark.parametrize("lead, kept, captions", [
    ("Trong ảnh: Thủ tướng phát biểu tại hội nghị.", None, ["Thủ tướng phát biểu tại hội nghị."]),
    ("Giá lúa tăng mạnh. (Ảnh: Nông dân thu hoạch lúa ở Cần Thơ)", "Giá lúa tăng mạnh.",
     ["Nông dân thu hoạch lúa ở Cần Thơ"]),
    ("Xuất khẩu tăng 12%. Ảnh: TTXVN", "Xuất khẩu tăng 12%.", []),  # a credit: leaves the lead, not a caption
    ("Hình ảnh: thị trường đã hồi phục, theo báo cáo.", "Hình ảnh: thị trường đã hồi phục, theo báo cáo.", []),
    ("Ảnh hưởng của lãi suất lên thị trường bất động sản.", "Ảnh hưởng của lãi suất lên thị trường bất động sản.", []),
])
def test_lead_caption_rule(lead, kept, captions):
    assert r.lead_caption(lead, []) == (kept, captions)


def test_pipeline_updates_item():
    item = {"title": " Giá\u00a0vàng ", "body": "A.\n\nTheo TTXVN", "authors": []}
    out = CleanPipeline().process_item(item)
    assert out["title"] == "Giá vàng" and out["body"] == "A." and out["authors"] == ["TTXVN"]


def test_author_names_normalised():
    assert r.normalize_author("Theo Hồ Hương") == "Hồ Hương"
    assert r.normalize_author("Bài và ảnh: Minh Anh") == "Minh Anh"
    assert r.normalize_author("baochinhphu.vn") is None
    assert r.normalize_author("NLD.COM.VN") is None
    assert r.normalize_author("toa.soan@vnexpress.net") is None


def test_tags_split_and_deduplicated():
    assert r.normalize_tags(["việt nam,", "MBS,", "# AAT", "Trung Đông,Iran", "iran"]) == [
        "việt nam", "MBS", "AAT", "Trung Đông", "Iran"]


def test_metadata_lead_printed_inside_body_is_dropped():
    lead = "Giá vàng trong nước tiếp tục giảm mạnh trong phiên sáng nay."
    body = "(Dân trí) - Giá vàng trong nước tiếp tục giảm mạnh trong phiên sáng nay. Cụ thể...\n\nĐoạn hai."
    out = clean_fields({"lead": lead, "body": body, "field_sources": {"lead": "meta", "body": "generic"}})
    assert out["lead"] is None and "lead" not in out["field_sources"]
    kept = clean_fields({"lead": lead, "body": body, "field_sources": {"lead": "rules"}})
    assert kept["lead"] == lead  # the site's own sapo stays
