"""Near-duplicate stage: the pure functions, the persistent index (local disk), the Scrapy stage
with a real archive session. Real-text figures: tests/test_neardup_real.py; crawls of the demo
sites through the Scrapy engine: tests/test_neardup_demo.py."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH, bBitMinHash
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from pipelines import neardup as nd
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


def test_similarity_is_the_b_bit_minhash_estimator():
    s1, s2 = nd.signature(BODY), nd.signature(syndicated())
    expected = bBitMinHash(nd.as_minhash(s1), P.sig_bits).jaccard(bBitMinHash(nd.as_minhash(s2), P.sig_bits))
    got = nd.similarity(nd.sketch(s1), nd.sketch(s2)[None, :])[0]
    assert got == pytest.approx(expected)


def test_copy_is_similar_and_another_story_is_not():
    base = nd.sketch(nd.signature(BODY))
    assert nd.similarity(base, nd.sketch(nd.signature(syndicated()))[None, :])[0] >= P.threshold
    assert nd.similarity(base, nd.sketch(nd.signature(OTHER_BODY))[None, :])[0] < 0.1


def test_params_tag_names_everything_persisted_and_checks_bands():
    assert nd.DEFAULT.tag == f"k{P.shingle}-p{P.num_perm}-s{P.seed}-b{P.bands}x{P.rows}-v{P.sig_bits}"
    with pytest.raises(ValueError, match="bands"):
        nd.Params(num_perm=64, bands=32, rows=3)
    assert nd.candidate_probability(P.threshold) > 0.995 and nd.candidate_probability(0.05) < 0.01


# ---------------------------------------------------------------------- the index
def test_index_finds_copy_in_this_runs_delta_and_never_itself():
    idx = NearDupIndex(None)
    sig = nd.signature(BODY)
    idx.add("aaaaaaaaaaaaaaaa", sig)
    m = idx.lookup(nd.signature(syndicated()))
    assert m.article_id == "aaaaaaaaaaaaaaaa" and m.similarity >= P.threshold
    assert idx.lookup(sig, exclude="aaaaaaaaaaaaaaaa") is None  # a new version of the same article
    assert idx.lookup(nd.signature(OTHER_BODY)) is None


def test_segment_round_trip_with_hex_and_other_ids():
    for ids in (["0123456789abcdef", "fedcba9876543210"], ["ss:cluster_1/1", "x"]):
        sigs = [nd.signature(BODY), nd.signature(OTHER_BODY)]
        seg = Segment.build("s", ids, [s.shingles for s in sigs], np.stack([nd.sketch(s) for s in sigs]),
                            np.stack([nd.band_keys(s) for s in sigs]))
        back = Segment.from_bytes("s", seg.to_bytes(P), P)
        assert list(back.ids) == ids
        assert back.candidates(nd.band_keys(sigs[1])).tolist() == [1]
    with pytest.raises(ValueError, match="built with"):
        Segment.from_bytes("s", seg.to_bytes(P), dataclasses.replace(P, shingle=4))


def test_index_persists_across_runs_on_local_disk(tmp_path):
    archive = open_archive(str(tmp_path / "a"))
    first = NearDupIndex(archive.backend)
    first.refresh()
    first.add("aaaaaaaaaaaaaaaa", nd.signature(BODY))
    assert first.publish("run1") == []
    [key] = [o.key for o in archive.backend.list(index_prefix())]
    assert key.startswith("_state/neardup/v1-") and key.endswith("seg-run1-00000.npz")

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
    crawler.spider = SimpleNamespace(session=session, name="test")
    stage = nd.NearDupPipeline.from_crawler(crawler)
    stage.open_spider()
    return crawler, session, stage


def test_pipeline_drops_copy_records_it_and_publishes_the_index(tmp_path):
    from crawler.session import release

    crawler, session, stage = _stage(tmp_path, RUN_ID="20261101T080000Z-aaaaaa")
    run = session.run_id
    kept = _item("aaaaaaaaaaaaaaaa", BODY, "portal", run, 1)
    assert stage.process_item(kept) is kept
    row = {k: v for k, v in kept.items() if k != "fetched_at"}
    session.accept("articles", {**row, "version": 1, "canonical_url": kept["url"], "content_hash": "h1",
                                "crawled_at": kept["fetched_at"]})
    with pytest.raises(DropItem, match="near"):
        stage.process_item(_item("bbbbbbbbbbbbbbbb", syndicated(), "newspaper", run, 2))
    short = _item("cccccccccccccccc", "Tin ngắn.", "portal", run, 3)
    assert stage.process_item(short) is short
    stats = crawler.stats.get_stats()
    assert stats["neardup/near"] == 1 and stats["neardup/skipped_short"] == 1
    assert stats["pipeline/dropped/duplicate_near"] == 1
    stage.close_spider()
    release(session)

    archive = open_archive(str(tmp_path / "archive"))
    dup = archive.read_table("duplicates").to_pylist()
    assert len(dup) == 1
    assert dup[0]["article_id"] == "aaaaaaaaaaaaaaaa" and dup[0]["method"] == "near"
    assert dup[0]["duplicate_url"] == "https://newspaper.example/2.html" and dup[0]["source"] == "newspaper"
    assert P.threshold <= dup[0]["similarity"] <= 1.0
    later = NearDupIndex(archive.backend)
    later.refresh()
    assert len(later) == 1  # the kept story only

    # an index lost (or an archive older than this stage): rebuilt from the articles dataset
    for obj in archive.backend.list("_state/neardup/"):
        archive.backend.delete(obj.key)
    assert reindex(archive)["added"] == 1
    assert reindex(archive) == {"indexed_before": 1, "added": 0, "too_short": 0, "segments": 1}


def test_pipeline_settings(tmp_path):
    with pytest.raises(NotConfigured):
        nd.NearDupPipeline.from_crawler(get_crawler(settings_dict={"NEARDUP_ENABLED": False}))
    with pytest.raises(ValueError, match="NEARDUP_THRESHOLD"):
        nd.NearDupPipeline.from_crawler(get_crawler(settings_dict={"NEARDUP_THRESHOLD": 1.5}))
    stage = nd.NearDupPipeline.from_crawler(get_crawler(settings_dict={"NEARDUP_THRESHOLD": 0.7}))
    assert stage.params.threshold == 0.7 and stage.params.tag == P.tag


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
