"""The near-duplicate index in a real S3-compatible store (SeaweedFS on 127.0.0.1): published by one
run, found by the next, concurrent publishers, compaction. Shares the S3 server (xdist group "s3")."""

from __future__ import annotations


import pytest

from pipelines import neardup_signature as nd
from pipelines.neardup_index import NearDupIndex, index_prefix
from storage import open_archive
from tests.test_neardup import BODY, OTHER_BODY, syndicated


pytestmark = pytest.mark.xdist_group("s3")

THIRD_BODY = ("Chiều 22/10, Cục Thống kê tỉnh Bình Phước công bố chỉ số giá tiêu dùng tháng 10 tăng 0,3% so với tháng "
              "trước, chủ yếu do giá thực phẩm và xăng dầu. So với cùng kỳ năm ngoái, chỉ số tăng 3,1%.\n\n"
              "Giá điều thô tại các đại lý thu mua trong tỉnh dao động quanh mức 30.000 đồng/kg, cao hơn đầu vụ "
              "khoảng 2.000 đồng; nhiều hộ nông dân chờ giá lên thêm mới bán.")


def test_index_on_s3_across_runs_concurrent_publishers_and_compaction(s3_uri, tmp_path):
    archive = open_archive(s3_uri, journal_dir=tmp_path / "j")
    a, b = NearDupIndex(archive.backend, max_segments=2), NearDupIndex(archive.backend, max_segments=2)
    a.refresh(), b.refresh()
    a.add("aaaaaaaaaaaaaaaa", nd.signature(BODY))
    b.add("bbbbbbbbbbbbbbbb", nd.signature(syndicated()))
    b.add("cccccccccccccccc", nd.signature(OTHER_BODY))
    assert a.publish("runA") == []
    assert [(x, m.article_id) for x, m in b.publish("runB")] == [("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa")]
    a.add("dddddddddddddddd", nd.signature(THIRD_BODY))
    a.publish("runA")  # third segment: over max_segments, compacted
    keys = [o.key for o in archive.backend.list(index_prefix())]
    assert any("/cmp-" in k for k in keys) and len(keys) <= 2

    later = NearDupIndex(archive.backend)
    later.refresh()
    assert len(later) == 3
    assert later.lookup(nd.signature(syndicated())).article_id == "aaaaaaaaaaaaaaaa"
    assert later.lookup(nd.signature(OTHER_BODY)).article_id == "cccccccccccccccc"
