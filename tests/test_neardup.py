"""Near-duplicate stage: the pure functions, the persistent index (local disk), the Scrapy stage
with a real archive session. Real-text figures: tests/test_neardup_real.py; crawls of the demo
sites through the Scrapy engine: tests/test_neardup_demo.py."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import random
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH, bBitMinHash
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from pipelines import neardup_signature as nd
from pipelines.context import CrawlRun
from pipelines.neardup import NearDupPipeline
from pipelines.neardup_index import NearDupIndex, Segment, index_prefix, reindex
from storage import open_archive

P = nd.DEFAULT

STORY = [
    "Sáng 21/10, UBND tỉnh Bình Dương tổ chức hội nghị đánh giá tình hình kinh tế - xã hội 9 tháng đầu năm "
    "và triển khai nhiệm vụ những tháng cuối năm với sự tham dự của lãnh đạo các sở, ngành và địa phương.",
    "Theo báo cáo, tổng sản phẩm trên địa bàn tỉnh tăng 8,2% so với cùng kỳ; kim ngạch xuất khẩu đạt 24,6 tỷ "
    "USD, tăng 12%; thu ngân sách đạt 52.000 tỷ đồng, bằng 80% dự toán năm. Vốn đầu tư trực tiếp nước ngoài "
    "thu hút được 1,9 tỷ USD, trong đó có 75 dự án mới.",
    "Phát biểu chỉ đạo, Chủ tịch UBND tỉnh đề nghị các ngành tập trung tháo gỡ khó khăn cho doanh nghiệp, đẩy "
    "nhanh giải ngân vốn đầu tư công, bảo đảm tiến độ các công trình giao thông kết nối vùng và chăm lo đời "
    "sống công nhân dịp cuối năm.",
    "Tỉnh cũng yêu cầu rà soát các dự án chậm triển khai, kiên quyết thu hồi những dự án không có khả năng "
    "thực hiện để dành quỹ đất cho nhà đầu tư có năng lực, đồng thời cải thiện chỉ số năng lực cạnh tranh.",
]
BODY = "\n\n".join(STORY)
OTHER_BODY = "\n\n".join([
    "Chiều 21/10, Sở Nông nghiệp tỉnh Đồng Nai cho biết dịch tả lợn châu Phi đã được khống chế tại hai huyện "
    "Xuân Lộc và Cẩm Mỹ sau khi ngành thú y tiêu hủy hơn 300 con lợn bệnh và phun khử trùng toàn bộ khu vực.",
    "Ngành chức năng khuyến cáo người chăn nuôi không giấu dịch, không bán chạy lợn bệnh, tiêm vắc xin đầy đủ "
    "và báo ngay cho chính quyền địa phương khi phát hiện lợn có biểu hiện sốt cao, bỏ ăn, xuất huyết.",
])


def syndicated(body: str = BODY) -> str:
    """A provincial portal's copy: own headline line, caption, reworded phrase, credit line, furniture."""
    paras = body.split("\n\n")
    paras[2] = paras[2].replace("đề nghị", "yêu cầu")
    return "\n\n".join(["Bình Dương: Kinh tế 9 tháng tăng trưởng khá",
                        "Quang cảnh hội nghị. Ảnh: Báo Bình Dương", *paras, "Theo TTXVN", "Chia sẻ"])


# ---------------------------------------------------------------------- pure functions
def test_tokens_normalise_case_composition_and_punctuation():
    decomposed = "Kinh t\u00ea\u0301 tăng trưởng, XUẤT KHẨU tăng mạnh trong quý ba năm nay."
    assert nd.tokens(decomposed) == ["kinh", "tế", "tăng", "trưởng", "xuất", "khẩu", "tăng", "mạnh", "trong",
                                     "quý", "ba", "năm", "nay"]


@pytest.mark.parametrize("paragraph, story", [
    ("Theo TTXVN", False),  # credit line
    ("Nguồn: Báo Bình Dương", False),
    ("Chia sẻ", False),  # furniture
    ("Quang cảnh hội nghị sáng nay tại trung tâm hành chính tỉnh - Ảnh: TTXVN", False),  # caption
    ("Lãnh đạo tỉnh trao quyết định cho nhà đầu tư (Ảnh: Đức Tám/TTXVN)", False),
    ("Xem thêm: Bình Dương thu hút thêm 75 triệu USD vốn đầu tư vào các khu công nghiệp", False),  # link line
    ("Bình Dương: Kinh tế 9 tháng tăng trưởng khá", False),  # headline
    (STORY[1], True),
    ("Ảnh: TTXVN cho thấy công trình đã hoàn thành 80% khối lượng và dự kiến thông xe vào cuối năm nay.", True),
])
def test_story_paragraphs_leave_out_what_syndication_changes(paragraph, story):
    words = len(nd._WORD.findall(paragraph.casefold()))
    assert nd.is_story_paragraph(paragraph.casefold(), words) is story


def test_a_body_of_short_lines_only_keeps_them():
    assert nd.tokens("Một dòng\n\nHai dòng") == ["một", "dòng", "hai", "dòng"]


def test_shingles_are_distinct_word_k_grams():
    assert nd.shingles(["a", "b", "c", "a", "b", "c"], 3) and len(nd.shingles(["a", "b", "c", "a", "b", "c"], 3)) == 3
    assert nd.shingles(["a", "b"], 5) == [b"a b"]
    assert nd.shingles([], 5) == []


def test_signature_is_deterministic_and_uses_datasketch_minhash():
    a, b = nd.signature(BODY), nd.signature(BODY)
    assert np.array_equal(a.hashvalues, b.hashvalues) and a.hashvalues.dtype == np.uint32
    m = MinHash(num_perm=P.num_perm, seed=P.seed, scheme="affine32")
    m.update_batch(nd.shingles(nd.tokens(BODY), P.shingle))
    assert np.array_equal(m.hashvalues, a.hashvalues)
    assert a.shingles == len(set(nd.shingles(nd.tokens(BODY), P.shingle)))


def test_band_keys_are_the_keys_minhashlsh_stores():
    sig = nd.signature(BODY)
    lsh = MinHashLSH(num_perm=P.num_perm, params=(P.bands, P.rows), hashfunc=nd.band_hash)
    lsh.insert("x", nd.as_minhash(sig))
    assert [int.from_bytes(h, "big") for h in lsh.keys.get("x")] == nd.band_keys(sig).tolist()


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_packed_similarity_is_the_b_bit_minhash_estimator(bits):
    p = dataclasses.replace(P, sig_bits=bits)
    s1, s2, s3 = nd.signature(BODY, p), nd.signature(syndicated(), p), nd.signature(OTHER_BODY, p)
    for other in (s2, s3):
        expected = bBitMinHash(nd.as_minhash(s1, p), bits).jaccard(bBitMinHash(nd.as_minhash(other, p), bits))
        unpacked = nd.similarity(nd.sketch(s1, p), nd.sketch(other, p)[None, :], p)[0]
        packed = nd.packed_similarity(nd.pack(nd.sketch(s1, p), p), nd.pack(nd.sketch(other, p), p)[None, :], p)[0]
        assert packed == pytest.approx(unpacked) == pytest.approx(max(0.0, min(1.0, expected)))
    assert nd.pack(nd.sketch(s1, p), p).nbytes == p.sketch_bytes == P.num_perm * bits // 8


def test_units_are_normalised_distinct_sentences_lead_first():
    hashes, words = nd.units("Kinh tế tăng trưởng khá. Xuất khẩu tăng 8,2%; nhập khẩu giảm!\n\n"
                             "Kinh tế TĂNG trưởng khá? Thu ngân sách đạt 52.000 tỷ đồng, bằng 80% dự toán.")
    assert words.tolist() == [5, 5, 3, 12]  # the repeated sentence once; "52.000" and "8,2%" split no unit
    assert hashes[0] == nd.unit_hash("kinh tế tăng trưởng khá")
    decomposed = "Kinh t\u00ea\u0301 t\u0103ng tr\u01b0\u1edfng kh\u00e1, \u201cr\u1ea5t\u201d t\u1ed1t ."
    assert nd.units(decomposed)[0][0] == nd.unit_hash("kinh tế tăng trưởng khá rất tốt")
    assert nd.units("Hai từ. Ba từ đây. Một.")[1].tolist() == [3]  # shorter than unit_words: left out
    sig = nd.signature(BODY)
    assert sig.unit_hashes.dtype == np.uint32 and sig.words == int(sig.unit_words[1:].sum())


def test_share_counts_verbatim_sentences_leads_left_out():
    a = nd.signature(BODY)
    assert nd.share(a, a) == (1.0, len(a.unit_hashes) - 1)
    new_lead = "\n\n".join(["Một câu mở đầu hoàn toàn khác do tòa soạn khác tự viết lại cho bài này."] + STORY[1:])
    s, k = nd.share(a, nd.signature(new_lead))
    assert s == 1.0 and k == len(a.unit_hashes) - 1  # a rewritten lead costs nothing
    excerpt = nd.signature("\n\n".join(STORY[:2]))  # an outlet's excerpt: the first half of the story
    s, k = nd.share(a, excerpt)
    assert s < P.share and k >= 2
    s, k = nd.share(a, nd.signature(syndicated()))
    assert P.share <= s < 1.0  # one sentence reworded
    assert nd.share(a, nd.signature(OTHER_BODY)) == (0.0, 0)


def test_scores_vectorised_equal_the_exact_share_and_the_rule():
    from pipelines.neardup_index import Entry

    bodies = [BODY, syndicated(), OTHER_BODY, "\n\n".join(STORY[:2]), "\n\n".join(STORY[1:])]
    sigs = [nd.signature(b) for b in bodies]
    q = Entry.of(sigs[0], P)
    unit, cand = [], []
    for c, sig in enumerate(sigs):
        for j, h in enumerate(q.keys[: len(sigs[0].unit_hashes)].tolist()):
            if j >= P.lead and h in sig.unit_hashes[P.lead :].tolist():
                unit.append(j), cand.append(c)
    s, k, j = nd.scores(q.words, q.unit_words, np.array(unit, int), np.array(cand, int),
                        np.array([g.words for g in sigs]), q.sketch, np.stack([Entry.of(g, P).sketch for g in sigs]), P)
    for c, sig in enumerate(sigs):
        assert (s[c], k[c]) == pytest.approx(nd.share(sigs[0], sig))
    assert nd.is_copy(s, k, j).tolist() == [True, True, False, False, True]
    assert j[2] < 0.1 and nd.decide(s, k, j)[0] == 0


def test_params_tag_names_everything_persisted_and_checks_values():
    assert nd.DEFAULT.tag == (f"k{P.shingle}-p{P.num_perm}-s{P.seed}-bb{P.sig_bits}-u{P.unit_words}-l{P.lead}"
                              f"-f{P.fallback_units}x{P.fallback_bands}x{P.fallback_rows}")
    assert dataclasses.replace(P, share=0.9, threshold=0.9, min_shared_units=5).tag == P.tag  # deciding only
    with pytest.raises(ValueError, match="bands"):
        nd.Params(num_perm=64, bands=32, rows=3)
    with pytest.raises(ValueError, match="bands"):
        nd.Params(fallback_bands=200, fallback_rows=2)
    with pytest.raises(ValueError, match="sig_bits"):
        nd.Params(sig_bits=3)


# ---------------------------------------------------------------------- the index
def test_index_finds_copy_in_this_runs_delta_and_never_itself():
    idx = NearDupIndex(None)
    sig = nd.signature(BODY)
    idx.add("aaaaaaaaaaaaaaaa", sig)
    m = idx.lookup(nd.signature(syndicated()))
    assert m.article_id == "aaaaaaaaaaaaaaaa" and m.similarity >= min(P.share, P.threshold)
    assert idx.lookup(sig, exclude="aaaaaaaaaaaaaaaa") is None  # a new version of the same article
    assert idx.lookup(nd.signature(OTHER_BODY)) is None


def test_pending_folded_or_in_tail_gives_same_answers_and_publishes_same_segment(monkeypatch):
    import pipelines.neardup_index as ndi

    bodies = [BODY + f"\n\nĐoạn riêng số {n} của bài viết này, dài đủ để tính." for n in range(5)] + [OTHER_BODY]
    results, segments = [], []
    for fold in (2, 4096):  # most pending articles folded into in-memory segments / all in the tail
        monkeypatch.setattr(ndi, "FOLD", fold)
        idx = NearDupIndex(None)
        for n, body in enumerate(bodies):
            idx.add(f"{n:016x}", nd.signature(body))
        assert len(idx.pending) == len(bodies) and f"{0:016x}" in idx.pending
        got = [idx.lookup(nd.signature(b), exclude=f"{n:016x}") for n, b in enumerate(bodies + [syndicated()])]
        results.append([(m.article_id, round(m.similarity, 9)) if m else None for m in got])
        idx.publish("t")
        (seg,) = idx.segments.values()
        segments.append((list(seg.ids), seg.keys.tolist(), seg.rows.tolist(), seg.words.tolist(), seg.sketches.tobytes()))
    assert results[0] == results[1] and results[0][-1] is not None
    assert segments[0] == segments[1]


def _segment(ids, sigs, name="s"):
    from pipelines.neardup_index import Entry

    entries = [Entry.of(s, P) for s in sigs]
    return Segment.build(name, ids, [e.words for e in entries], np.stack([e.sketch for e in entries]), entries)


def _counted(sig):
    return (P.lead, len(sig.unit_hashes))


def test_segment_round_trip_with_hex_and_other_ids():
    sigs = [nd.signature(BODY), nd.signature(OTHER_BODY)]
    for ids in (["0123456789abcdef", "fedcba9876543210"], ["ss:cluster_1/1", "x"]):
        seg = _segment(ids, sigs)
        back = Segment.from_bytes("s", seg.to_bytes(P), P)
        assert list(back.ids) == ids and back.nbytes == seg.nbytes
        assert np.array_equal(back.keys, seg.keys) and np.array_equal(back.rows, seg.rows)
        cands, unit, _ = back.matches(sigs[1].unit_hashes, _counted(sigs[1]))
        assert cands.tolist() == [1] and sorted(unit.tolist()) == list(range(1, len(sigs[1].unit_hashes)))
    with pytest.raises(ValueError, match="built with"):
        Segment.from_bytes("s", seg.to_bytes(P), dataclasses.replace(P, shingle=4))


def test_segment_flags_leads_and_counts_boilerplate_units_without_naming_candidates(monkeypatch):
    import pipelines.neardup_index as ndi

    sigs = [nd.signature(BODY), nd.signature(syndicated()), nd.signature(OTHER_BODY)]
    seg = _segment([f"{i:016x}" for i in range(3)], sigs)
    uncounted = sum(len(nd.index_keys(g)) - (len(g.unit_hashes) - P.lead) for g in sigs)
    assert uncounted == 3 + P.fallback_bands  # one lead per article, OTHER_BODY's band keys (2 units)
    assert int(((seg.rows & ndi.UNCOUNTED) > 0).sum()) == uncounted
    assert np.all(np.diff(seg.keys.astype(np.int64)) >= 0)
    q = sigs[0].unit_hashes
    cands, unit, _ = seg.matches(q, _counted(sigs[0]))
    assert cands.tolist() == [0, 1]
    shared = nd.share(sigs[0], sigs[1])[1]
    assert 0 not in unit.tolist() and len(unit) == (len(q) - 1) + shared  # no lead counted, either side
    monkeypatch.setattr(ndi, "COMMON_UNIT", 1)  # units in 2 articles are now boilerplate: they name nobody
    cands2, unit2, _ = seg.matches(q, _counted(sigs[0]))
    assert cands2.tolist() == [0]  # found by its own units only
    assert len(unit2) == len(q) - 1  # ... and the boilerplate units still counted for it


def test_segment_merge_keeps_rows_leads_and_ids():
    a = _segment(["000000000000000a"], [nd.signature(BODY)], "a")
    b = _segment(["000000000000000b", "000000000000000c"], [nd.signature(OTHER_BODY), nd.signature(syndicated())], "b")
    m = Segment.merge("m", [a, b])
    assert list(m.ids) == ["000000000000000a", "000000000000000b", "000000000000000c"] and m.covers == ("a", "b")
    copy = nd.signature(syndicated())
    assert m.matches(copy.unit_hashes, _counted(copy))[0].tolist() == [0, 2]
    assert int(((m.rows & np.uint32(1 << 31)) > 0).sum()) == 3 + P.fallback_bands  # leads, OTHER_BODY's bands


def test_a_body_of_few_units_is_also_found_by_its_band_keys():
    """A list of items without full stops is one unit: a copy with a word changed in it shares no
    unit with it, and is found by the fallback LSH band keys and the Jaccard path."""
    items = ["Nhóm P A K mang đến bản phối mới cho nhạc phẩm Sắc màu của nhạc sĩ Trần Tiến",
             "Chàng trai trẻ trưởng thành từ Giọng hát Việt ra mắt ca khúc Nước mắt trong tim",
             "Phần biểu diễn của Trang Nhung cùng ca khúc Không thể và có thể tạo nên ý kiến trái chiều",
             "Hoàng Quyên rực rỡ cùng ca khúc Ngày nắng trong đêm nhạc cuối tuần tại thành phố"]
    original = nd.signature(" ".join(items))
    copy = nd.signature(" ".join(items).replace("bản phối mới", "bản phối rất mới"))
    assert len(original.unit_hashes) == 1 and nd.share(original, copy) == (0.0, 0)
    assert len(nd.index_keys(original)) == 1 + P.fallback_bands
    assert len(nd.index_keys(nd.signature(BODY))) == len(nd.signature(BODY).unit_hashes)  # enough units: none
    idx = NearDupIndex(None)
    idx.add("aaaaaaaaaaaaaaaa", original)
    for published in (False, True):
        if published:
            idx.publish("r")
        m = idx.lookup(copy)
        assert m.article_id == "aaaaaaaaaaaaaaaa" and m.similarity >= P.threshold
        assert idx.lookup(nd.signature(OTHER_BODY)) is None


def test_index_of_another_format_or_parameters_is_never_read(tmp_path):
    archive = open_archive(str(tmp_path / "a"))
    old = _segment(["aaaaaaaaaaaaaaaa"], [nd.signature(BODY)])
    other = dataclasses.replace(P, unit_words=4)
    archive.backend.put_bytes(index_prefix(other) + "seg-x-00000.npz", old.to_bytes(other))
    archive.backend.put_bytes("_state/neardup/v1-k5-p256-s20131023-b32x3-v8/seg-x-00000.npz", b"format 1")
    idx = NearDupIndex(archive.backend)
    assert idx.refresh() == [] and idx.lookup(nd.signature(syndicated())) is None
    assert idx.other_indexes() == ["v1-k5-p256-s20131023-b32x3-v8", index_prefix(other).split("/")[-2]]


def test_index_persists_across_runs_on_local_disk(tmp_path):
    archive = open_archive(str(tmp_path / "a"))
    first = NearDupIndex(archive.backend)
    first.refresh()
    first.add("aaaaaaaaaaaaaaaa", nd.signature(BODY))
    assert first.publish("run1") == []
    [key] = [o.key for o in archive.backend.list(index_prefix())]
    assert key.startswith(f"_state/neardup/v2-{P.tag}/") and key.endswith("seg-run1-00000.npz")

    later = NearDupIndex(archive.backend)
    assert later.refresh() == [key] and len(later) == 1
    assert later.lookup(nd.signature(syndicated())).article_id == "aaaaaaaaaaaaaaaa"


def test_concurrent_runs_see_each_others_copy_at_publish(tmp_path):
    """Two crawls of different sources each archive a copy before either publishes: the one that
    publishes first keeps it, the other gets it back as a late copy and leaves it out of the index."""
    archive = open_archive(str(tmp_path / "a"))
    a, b = NearDupIndex(archive.backend), NearDupIndex(archive.backend)
    a.refresh(), b.refresh()
    a.add("aaaaaaaaaaaaaaaa", nd.signature(BODY))
    b.add("bbbbbbbbbbbbbbbb", nd.signature(syndicated()))
    b.add("cccccccccccccccc", nd.signature(OTHER_BODY))
    assert a.publish("runA") == []
    late = b.publish("runB")
    assert [(x, m.article_id) for x, m in late] == [("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa")]
    fresh = NearDupIndex(archive.backend)
    fresh.refresh()
    assert len(fresh) == 2  # a's story and b's other story; b's copy is not indexed
    assert fresh.lookup(nd.signature(syndicated())).article_id == "aaaaaaaaaaaaaaaa"


def test_compaction_keeps_every_article_and_removes_covered_segments(tmp_path):
    archive = open_archive(str(tmp_path / "a"))
    bodies = [BODY.replace("21/10", f"{d}/10").replace("8,2%", f"{d},1%") + f"\n\nBài số {d} về chủ đề riêng "
              f"của ngày {d} với nội dung khác hẳn các ngày còn lại trong tháng." for d in range(1, 13)]
    ids = [f"{i:016x}" for i in range(1, 13)]
    idx = NearDupIndex(archive.backend, dataclasses.replace(P, threshold=0.99), max_segments=4)
    idx.refresh()
    for i, body in zip(ids, bodies):
        idx.add(i, nd.signature(body))
        idx.publish("run1")
    keys = [o.key for o in archive.backend.list(index_prefix())]
    assert len(keys) <= 4 and any("/cmp-" in k for k in keys)
    reader = NearDupIndex(archive.backend, dataclasses.replace(P, threshold=0.99))
    reader.refresh()
    assert len(reader) == 12
    for i, body in zip(ids, bodies):
        assert reader.lookup(nd.signature(body)).article_id == i


def test_a_lookup_since_a_generation_answers_as_a_full_lookup_for_what_found_nothing_then(tmp_path):
    """A segment's decision looks again only among the articles that joined the index after the
    crawl's lookup found no copy: through adds, publishes, compactions and another writer's
    segments, lookup_since(q, g) gives what lookup(q) gives for every q that found nothing at g."""
    archive = open_archive(str(tmp_path / "a"))
    params = dataclasses.replace(P, threshold=0.99)
    words = BODY.replace(",", "").replace(".", "").split()
    rng = random.Random(7)
    bodies = ["\n\n".join(" ".join(rng.choice(words) for _ in range(30)) + "." for _ in range(4)) for _ in range(18)]
    sigs = [nd.signature(b, params) for b in bodies]
    idx = NearDupIndex(archive.backend, params, max_segments=3)
    other = NearDupIndex(archive.backend, params)
    idx.refresh(), other.refresh()
    found = lambda q: (m.article_id if (m := idx.lookup(sigs[q])) else None)  # noqa: E731
    snapshots = []
    for i, sig in enumerate(sigs):
        snapshots.append((idx.generation, {q: found(q) for q in range(len(sigs))}))
        if i % 4 == 3:  # another run's segment, seen at the next refresh
            other.add(f"{i:016x}", sig)
            other.publish("other")
        else:
            idx.add(f"{i:016x}", sig)
        if i % 2 == 1:
            idx.publish("run1")  # compacts past 3 segments
        if i % 3 == 2:
            idx.refresh()
    idx.refresh()
    assert any("/cmp-" in k for k in idx.segments)
    now = {q: found(q) for q in range(len(sigs))}
    assert all(now[q] == f"{q:016x}" for q in range(len(sigs))), now  # 18 stories, no copies
    checked = 0
    for generation, then in snapshots:
        for q, was in then.items():
            if was is None:
                m = idx.lookup_since(sigs[q], None, generation)
                assert (m.article_id if m else None) == now[q], (generation, q)
                checked += 1
    assert checked > 50
    # and it does look at less: an article indexed before the last generation is not searched again
    assert idx.lookup_since(sigs[0], None, idx.generation) is None and now[0] is not None
    # an article still pending (not published) is newer than the lookups before it joined
    before, late = idx.generation, nd.signature(OTHER_BODY, params)
    idx.add("ffffffffffffffff", late)
    assert idx.lookup_since(late, None, before).article_id == "ffffffffffffffff"
    assert idx.lookup_since(late, None, idx.generation) is None


def test_a_reader_that_loaded_segments_later_compacted_keeps_each_article_once(tmp_path):
    archive = open_archive(str(tmp_path / "a"))
    writer = NearDupIndex(archive.backend, max_segments=3)
    reader = NearDupIndex(archive.backend)
    for n in range(2):
        writer.add(f"{n:016x}", nd.signature(BODY + f"\n\nĐoạn riêng số {n} của bài viết này, dài đủ để tính."))
        writer.publish("w")
    reader.refresh()
    for n in range(2, 5):
        writer.add(f"{n:016x}", nd.signature(OTHER_BODY + f"\n\nĐoạn riêng số {n} của bài viết này, dài đủ."))
        writer.publish("w")
    reader.refresh()
    assert len(reader) == 5 and len(reader.segments) <= 3


# ---------------------------------------------------------------------- the Scrapy stage
def _item(article_id: str, body: str, source: str, run_id: str, n: int) -> dict:
    return {"article_id": article_id, "body": body, "url": f"https://{source}.example/{n}.html", "source": source,
            "title": f"Tin {n}", "run_id": run_id, "fetched_at": datetime(2026, 11, 1, 8, n, tzinfo=timezone.utc)}


def _stage(tmp_path, **settings):
    from crawler.session import acquire

    crawler = get_crawler(settings_dict={"ARCHIVE_URI": str(tmp_path / "archive"),
                                         "ARCHIVE_JOURNAL_DIR": str(tmp_path / "journal"), **settings})
    session = acquire(crawler.settings)
    crawler.crawl_run = CrawlRun("test", session=session)
    stage = NearDupPipeline.from_crawler(crawler)
    stage.open_spider()
    return crawler, session, stage


def _accept(session, item, published):
    row = {k: v for k, v in item.items() if k != "fetched_at"}
    session.accept("articles", {**row, "version": 1, "canonical_url": item["url"], "content_hash": item["article_id"],
                                "crawled_at": item["fetched_at"], "published_at": published})


@pytest.mark.parametrize("copy_first", [False, True])
def test_copies_of_one_run_are_decided_at_publish_and_the_first_published_is_kept(tmp_path, copy_first):
    """Within a run the stage lets both copies through; publishing the segment keeps the first
    published, whichever was crawled first, and records the other as a near duplicate."""
    from crawler.session import release

    crawler, session, stage = _stage(tmp_path, RUN_ID="20261101T080000Z-aaaaaa")
    run = session.run_id
    original = _item("aaaaaaaaaaaaaaaa", BODY, "portal", run, 1)
    copy = _item("bbbbbbbbbbbbbbbb", syndicated(), "newspaper", run, 2)
    early, late = datetime(2026, 10, 30, 1, tzinfo=timezone.utc), datetime(2026, 10, 31, 9, tzinfo=timezone.utc)
    for item, published in ([(copy, late), (original, early)] if copy_first else [(original, early), (copy, late)]):
        assert asyncio.run(stage.process_item(item)) is item  # not decided in crawl order
        _accept(session, item, published)
    short = _item("cccccccccccccccc", "Tin ngắn.", "portal", run, 3)
    assert asyncio.run(stage.process_item(short)) is short
    stats = crawler.stats.get_stats()
    assert stats["neardup/skipped_short"] == 1 and "neardup/near" not in stats
    stage.close_spider()
    release(session)

    archive = open_archive(str(tmp_path / "archive"))
    assert [r["article_id"] for r in archive.read_table("articles").to_pylist()] == ["aaaaaaaaaaaaaaaa"]
    dup = archive.read_table("duplicates").to_pylist()
    assert len(dup) == 1
    assert dup[0]["article_id"] == "aaaaaaaaaaaaaaaa" and dup[0]["method"] == "near"
    assert dup[0]["duplicate_url"] == "https://newspaper.example/2.html" and dup[0]["source"] == "newspaper"
    assert min(P.share, P.threshold) <= dup[0]["similarity"] < 1.0
    later = NearDupIndex(archive.backend)
    later.refresh()
    assert len(later) == 1  # the kept story only

    # a copy of an archived story, crawled by the next run: dropped at once and recorded
    crawler2, session2, stage2 = _stage(tmp_path, RUN_ID="20261102T080000Z-bbbbbb")
    again = _item("dddddddddddddddd", syndicated(), "other", session2.run_id, 4)
    with pytest.raises(DropItem, match="near"):
        asyncio.run(stage2.process_item(again))
    assert crawler2.stats.get_value("pipeline/dropped/duplicate_near") == 1
    stage2.close_spider()
    release(session2)
    dup = open_archive(str(tmp_path / "archive")).read_table("duplicates").to_pylist()
    assert sorted(d["duplicate_url"] for d in dup) == ["https://newspaper.example/2.html", "https://other.example/4.html"]

    # an index lost (or an archive older than this stage): rebuilt from the articles dataset
    for obj in archive.backend.list("_state/neardup/"):
        archive.backend.delete(obj.key)
    assert reindex(archive)["added"] == 1
    assert reindex(archive) == {"indexed_before": 1, "added": 0, "too_short": 0, "segments": 1}


def test_each_article_signature_is_computed_once_from_crawl_to_index(tmp_path, monkeypatch):
    """The stage's signature serves the segment's decision and the index: a kept article's is
    not computed again when it joins the index (it was, once per kept article, at every publish)."""
    import pipelines.neardup as stage_module
    from crawler.session import release

    computed = []
    real = stage_module.signature
    monkeypatch.setattr(stage_module, "signature", lambda body, p=P: computed.append(body) or real(body, p))
    crawler, session, stage = _stage(tmp_path, RUN_ID="20261101T080000Z-cccccc")
    run = session.run_id
    original = _item("aaaaaaaaaaaaaaaa", BODY, "portal", run, 1)
    copy = _item("bbbbbbbbbbbbbbbb", syndicated(), "newspaper", run, 2)
    for item, day in ((original, 30), (copy, 31)):
        item["content_hash"] = item["article_id"]  # as dedupe's identify step sets it (_accept's rows)
        assert asyncio.run(stage.process_item(item)) is item
        _accept(session, item, datetime(2026, 10, day, 1, tzinfo=timezone.utc))
    stage.close_spider()
    release(session)
    archive = open_archive(str(tmp_path / "archive"))
    assert [r["article_id"] for r in archive.read_table("articles").to_pylist()] == ["aaaaaaaaaaaaaaaa"]
    assert len(archive.read_table("duplicates").to_pylist()) == 1
    assert len(computed) == 2, len(computed)  # one per article crawled


def test_a_failed_index_publish_is_retried_later_not_at_every_item(tmp_path, monkeypatch):
    from crawler.session import release

    crawler, session, stage = _stage(tmp_path, RUN_ID="20261101T080000Z-dddddd", NEARDUP_PUBLISH_ITEMS=1)
    calls = []

    def down(run_id):
        calls.append(run_id)
        raise OSError("store down")

    monkeypatch.setattr(stage.shared.index, "publish", down)
    for n in range(5):
        body = " ".join(f"câu{n} số{k} về kinh tế Bình Dương tháng {k}." for k in range(40))
        item = _item(f"{n:016x}", body, "portal", session.run_id, n)
        asyncio.run(stage.process_item(item))
        _accept(session, item, None)
        session.run.flush()  # a segment published: its articles join the index's pending entries
    assert len(calls) == 1 and crawler.stats.get_value("neardup/publish_failed") == 1
    monkeypatch.undo()
    stage.close_spider()  # the last publish is tried whatever the wait: now it works
    release(session)
    later = NearDupIndex(open_archive(str(tmp_path / "archive")).backend)
    later.refresh()
    assert len(later) == 5


def test_pipeline_warns_when_only_an_index_of_another_format_exists(tmp_path, caplog):
    from crawler.session import release

    archive = open_archive(str(tmp_path / "archive"))
    archive.backend.put_bytes("_state/neardup/v1-k5-p256-s20131023-b32x3-v8/seg-x-00000.npz", b"format 1")
    with caplog.at_level("WARNING", logger="pipelines.neardup"):
        _, session, stage = _stage(tmp_path, RUN_ID="20261101T080000Z-cccccc")
    assert "--reindex" in caplog.text and "v1-k5-p256-s20131023-b32x3-v8" in caplog.text
    stage.close_spider()
    release(session)


def _bare(settings: dict):
    crawler = get_crawler(settings_dict=settings)
    crawler.crawl_run = CrawlRun("test")  # what the spider makes; no session is needed to read the settings
    return crawler


def test_pipeline_settings(tmp_path):
    with pytest.raises(NotConfigured):
        NearDupPipeline.from_crawler(_bare({"NEARDUP_ENABLED": False}))
    with pytest.raises(ValueError, match="NEARDUP_THRESHOLD"):
        NearDupPipeline.from_crawler(_bare({"NEARDUP_THRESHOLD": 1.5}))
    stage = NearDupPipeline.from_crawler(_bare({"NEARDUP_THRESHOLD": 0.7}))
    assert stage.params.threshold == 0.7 and stage.params.tag == P.tag
    with pytest.raises(ValueError, match="NEARDUP_SHARE"):
        NearDupPipeline.from_crawler(_bare({"NEARDUP_SHARE": 0}))
    assert NearDupPipeline.from_crawler(_bare({"NEARDUP_SHARE": 0.8})).params.share == 0.8


def test_duplicates_subcommand_lists_and_shows_a_story(tmp_path):
    from pipelines.neardup_cli import Duplicates

    archive = open_archive(str(tmp_path / "a"), journal_dir=str(tmp_path / "j"))
    run = archive.begin_run("20261101T080000Z-bbbbbb")
    when = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
    run.accept("articles", {"article_id": "aaaaaaaaaaaaaaaa", "version": 1, "url": "https://portal.example/1.html",
                            "canonical_url": "https://portal.example/1.html", "source": "portal", "title": "Gốc",
                            "body": BODY, "crawled_at": when, "content_hash": "h", "run_id": run.run_id,
                            "published_at": when})
    for n, (source, method, sim) in enumerate([("newspaper", "near", 0.91), ("outlet", "exact", 1.0)]):
        run.accept("duplicates", {"article_id": "aaaaaaaaaaaaaaaa", "duplicate_url": f"https://{source}.example/{n}",
                                  "source": source, "title": f"Bản sao {n}", "similarity": sim, "method": method,
                                  "run_id": run.run_id, "crawled_at": when})
    run.commit({})
    sub, out = Duplicates(), io.StringIO()
    opts = SimpleNamespace(story=None, method=None, source=None, limit=50, json=False)
    assert sub.run(archive, opts, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[2].split()[:3] == ["aaaaaaaaaaaaaaaa", "portal", "2"] and "exact,near" in lines[2]
    out = io.StringIO()
    assert sub.run(archive, SimpleNamespace(**{**vars(opts), "story": "https://newspaper.example/0"}), out) == 0
    text = out.getvalue()
    assert "story aaaaaaaaaaaaaaaa  portal" in text and "2 copies" in text
    assert "newspaper  near    0.91" in text and "outlet     exact   1.0" in text
    assert sub.run(archive, SimpleNamespace(**{**vars(opts), "story": "nope"}), io.StringIO()) == 1
