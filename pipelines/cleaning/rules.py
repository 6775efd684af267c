"""Cleaning rules: each one small, named, and tested on real examples (tests/test_cleaning.py).

Text rules take and return a string. Paragraph rules take and return a list of
paragraphs (plus whatever they move elsewhere).
"""

from __future__ import annotations

import html as htmllib
import re
import unicodedata

import ftfy
from ftfy.badness import badness, is_bad

# --------------------------------------------------------------------------- text rules

_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")


def nfc(text: str) -> str:
    """Canonical composition: 'Việt' typed with combining marks equals the precomposed one."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


# The lead byte of a 2/3-byte UTF-8 sequence read as windows-1252/latin-1, followed by what a
# continuation byte becomes there. Correct Vietnamese or Western text almost never has these pairs;
# ftfy (slow) only looks at lines that do.
_MOJIBAKE_HINT = re.compile(
    "[ÃÂÄÅÆÐÑáâãäåæçèéêëìíîïðñòóôõö][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-windows-1252 damage ('Viá»‡t'), only where ftfy says it is damage.

    Works line by line, so one bad line (a copied title) is fixed without
    touching the rest; lines without a mojibake-looking pair are not even shown
    to ftfy, and correct text is returned as the same object.
    """
    if not _MOJIBAKE_HINT.search(text):
        return text
    out = []
    for line in text.split("\n"):
        if _MOJIBAKE_HINT.search(line) and is_bad(line):
            fixed = ftfy.fix_encoding(line)
            if badness(fixed) < badness(line):
                line = fixed
        out.append(line)
    return "\n".join(out)


def fix_text(text: str) -> str:
    """NFC, then mojibake repair (NFC again when something was repaired).

    This used to run over the whole decoded page in :mod:`pipelines.decode`;
    here it only sees the extracted text fields.
    """
    text = nfc(text)
    repaired = repair_mojibake(text)
    return text if repaired is text else nfc(repaired)


def remove_zero_width(text: str) -> str:
    """Zero-width spaces/joiners, BOMs, soft hyphens and bidi marks leave no trace."""
    return _ZERO_WIDTH.sub("", text)


def normalize_spaces(text: str) -> str:
    """No-break and exotic spaces become one plain space; paragraph breaks survive, lines are trimmed."""
    paras = []
    for para in re.split(r"\n\s*\n", text):
        lines = [_SPACES.sub(" ", ln).strip() for ln in para.split("\n")]
        para = " ".join(ln for ln in lines if ln)
        if para:
            paras.append(para)
    return "\n\n".join(paras)


def unescape_entities(text: str) -> str:
    """Entities that survived (double-escaped CMS output: '&amp;quot;') are decoded, twice at most."""
    for _ in range(2):
        if not _ENTITY.search(text):
            break
        text = htmllib.unescape(text)
    return text


def clean_text(text: str | None) -> str | None:
    """All text rules in order; None stays None, empty becomes None."""
    if text is None:
        return None
    text = normalize_spaces(remove_zero_width(fix_text(unescape_entities(text))))
    return text or None


# --------------------------------------------------------------------------- paragraph rules

# A paragraph that is nothing but page furniture (the whole line matches).
_FURNITURE_LINE = re.compile(
    r"^(?:tin liên quan|xem thêm|xem tiếp|đọc thêm|đọc tiếp|chia sẻ|chia sẻ bài viết|in bài|in bài viết|phản hồi|"
    r"gửi phản hồi|gửi bình luận|bình luận|các tin khác|tin khác|tin cùng chuyên mục|cùng chuyên mục|"
    r"ý kiến bạn đọc|ý kiến của bạn|bạn nghĩ sao\??|tin mới|tin mới nhất|tin nổi bật|đọc nhiều|xem nhiều|"
    r"trở lại [^.]{1,40}|về trang chủ(?: đề)?|copy link|sao chép liên kết|copy link thành công|link bài gốc|"
    r"lấy link|theo dõi .{1,40} trên google news|quảng cáo|advertisement|từ khóa|từ khoá|tags?|chủ đề|"
    r"tham khảo thêm|bài liên quan|bài viết liên quan|có thể bạn quan tâm|đừng bỏ lỡ|video đang được xem nhiều)"
    r"\s*[:.…]*\s*$",
    re.I,
)
# Copyright / imprint lines.
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b|bản quyền\b|.{0,80}\bgiữ bản quyền\b|.{0,60}\ball rights reserved\b|"
    r"cơ quan chủ quản\b|giấy phép (?:số|hoạt động)\b|tổng biên tập\s*:|ghi rõ nguồn\b|"
    r".{0,60}\bnghiêm cấm sao chép\b)",
    re.I,
)
# A heading after which everything is related links / comments (cut the tail of the body there).
_TAIL_HEADING = re.compile(
    r"^(?:tin liên quan|các tin khác|tin cùng chuyên mục|cùng chuyên mục|ý kiến bạn đọc|bình luận|"
    r"tham khảo thêm|bài liên quan|có thể bạn quan tâm|xem thêm|đọc thêm)\s*[:.…]*\s*$",
    re.I,
)


def is_furniture(para: str) -> bool:
    """A whole paragraph that is page furniture or a copyright line."""
    return bool(_FURNITURE_LINE.match(para) or _COPYRIGHT.match(para))


def drop_furniture(paras: list[str]) -> list[str]:
    """Drop furniture paragraphs; a related-links heading in the last third cuts the tail there."""
    out: list[str] = []
    n = len(paras)
    for i, para in enumerate(paras):
        if _TAIL_HEADING.match(para) and n >= 3 and i >= (2 * n) // 3:
            break
        if is_furniture(para):
            continue
        out.append(para)
    return out


_END_MARK = re.compile(r"\s*\.?/\.\s*$")


def strip_end_mark(paras: list[str]) -> list[str]:
    """The official-press end mark './.' (or '/.') after the last sentence is not text."""
    if not paras:
        return paras
    last = _END_MARK.sub(".", paras[-1]).strip() if _END_MARK.search(paras[-1]) else paras[-1]
    if last in ("", "."):
        return paras[:-1]
    return paras[:-1] + [last]


_CREDIT = re.compile(
    r"^\(?\s*(?:theo|nguồn|nguồn tin|tổng hợp từ|lược dịch theo)\s*:?\s*"
    r"(?P<who>[^()\n]{2,60}?)\s*\)?\s*\.?$",
    re.I,
)
_NAME_WORD = r"(?:[A-ZÀ-Ỹ][a-zà-ỹ]*\.?|[A-ZÀ-Ỹ]{1,}\.?)"
_LONE_NAME = re.compile(
    rf"^(?:{_NAME_WORD}\s+){{0,4}}{_NAME_WORD}(?:\s*\((?:tổng hợp|TTXVN|theo [^)]{{2,40}})\))?\s*(?:[-–]\s*{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}})?$"
)


def _names_in(text: str) -> list[str]:
    return [n.strip() for n in re.split(r"\s*[-–,;/]\s*|\s+và\s+", text) if n.strip()]


def move_credit_lines(paras: list[str], authors: list[str]) -> tuple[list[str], list[str]]:
    """Trailing 'Theo TTXVN' / 'Nguồn: ...' lines and a lone author name at the end go to ``authors``."""
    authors = list(authors)
    paras = list(paras)
    for _ in range(3):  # a credit, then a name, at most a few lines
        if len(paras) < 2:
            break
        last = paras[-1].strip()
        m = _CREDIT.match(last)
        who = None
        if m and len(last) <= 80:
            who = m.group("who").strip(" .")
        elif len(last) <= 60 and _LONE_NAME.match(last):
            who = re.sub(r"\s*\((?:tổng hợp)\)\s*$", "", last).strip(" .")
        if not who:
            break
        for name in [who] if m else _names_in(who):
            if name and name.lower() not in {a.lower() for a in authors}:
                authors.append(name)
        paras.pop()
    return paras, authors


_AUTHOR_PREFIX = re.compile(r"^(?:theo|bài(?: và ảnh)?|bài, ảnh|ảnh|tác giả|nguồn|pv|phóng viên|nhóm pv)\s*[:.-]?\s+", re.I)
_NOT_A_NAME = re.compile(r"https?://|www\.|\.(?:vn|com|net|org)\b|@", re.I)


def normalize_author(name: str) -> str | None:
    """'Theo Hồ Hương' -> 'Hồ Hương'; site names ('baochinhphu.vn'), e-mails and sentences -> None."""
    name = _AUTHOR_PREFIX.sub("", name.strip()).strip(" .,;:-–()")
    if not name or _NOT_A_NAME.search(name) or len(name) > 60 or len(name.split()) > 8:
        return None
    return name


def normalize_tags(tags: list[str]) -> list[str]:
    """Comma-joined keyword strings split, '#' and trailing commas removed, duplicates (any case) dropped."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        for part in re.split(r"[,;]", tag):
            part = part.strip().lstrip("#").strip()
            if part and part.casefold() not in seen and len(part) <= 80:
                seen.add(part.casefold())
                out.append(part)
    return out


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def drop_lead_repeat(lead: str | None, paras: list[str]) -> list[str]:
    """The lead printed again as the first body paragraph is dropped from the body."""
    if not lead or not paras:
        return paras
    if _key(paras[0]) == _key(lead):
        return paras[1:]
    return paras


def lead_inside_body(lead: str | None, paras: list[str], first: int = 3) -> bool:
    """True when the lead's words appear inside one of the first body paragraphs (a page that
    prints its summary as the start of the text)."""
    key = _key(lead or "")
    if len(key) < 20:
        return False
    return any(key in _key(p) for p in paras[:first])


def captions_once(paras: list[str], captions: list[str], lead: str | None) -> tuple[list[str], list[str]]:
    """A caption is kept once: repeated caption paragraphs in the body collapse to the first;
    captions equal to the lead are dropped from the caption list (the lead keeps them)."""
    keys = {_key(c) for c in captions if c}
    seen: set[str] = set()
    out = []
    for para in paras:
        k = _key(para)
        if k in keys:
            if k in seen:
                continue
            seen.add(k)
        out.append(para)
    lead_key = _key(lead or "")
    kept: list[str] = []
    for cap in captions:
        k = _key(cap)
        if not k or (lead_key and k == lead_key) or k in {_key(c) for c in kept}:
            continue
        kept.append(cap)
    return out, kept


# "Trong ảnh: VSIP, ..." / "Ảnh: Quang cảnh hội nghị." starting the lead or one of its sentences: the caption of
# the lead photo, printed with the summary. It runs to the end of the lead (captions hold periods: "Ảnh: T.L.").
_LEAD_CAPTION = re.compile(r"(?:^|(?<=[.!?…»\"”)])\s+)[(\[]?\s*(?:trong\s+ảnh|ảnh)\s*:\s*(?P<cap>.+?)[)\]]?\s*$",
                           re.I | re.S)
MIN_CAPTION_WORDS = 4  # "Ảnh: TTXVN", "Ảnh: Hồng Khanh" are photo credits, not captions


def lead_caption(lead: str | None, captions: list[str]) -> tuple[str | None, list[str]]:
    """Move a photo caption out of the lead: ``(lead without it, captions with it once)``.

    A credit alone ("Ảnh: TTXVN") leaves the lead but is not a caption; a lead that is
    nothing but the caption becomes None.
    """
    if not lead:
        return lead, captions
    m = _LEAD_CAPTION.search(lead)
    if not m:
        return lead, captions
    cap = m.group("cap").strip()
    rest = lead[: m.start()].strip() or None
    if len(re.findall(r"\w+", cap)) >= MIN_CAPTION_WORDS and _key(cap) not in {_key(c) for c in captions}:
        captions = [*captions, cap]
    return rest, captions


def dedupe_adjacent(paras: list[str]) -> list[str]:
    """The same paragraph twice in a row (markup printing text for two layouts) is kept once."""
    out: list[str] = []
    for para in paras:
        if out and _key(out[-1]) == _key(para):
            continue
        out.append(para)
    return out
