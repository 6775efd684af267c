"""storage/statefiles.py: the one compaction routine of the files under ``<archive>/_state/``."""

from __future__ import annotations

from storage import open_archive
from storage.statefiles import StateFiles


def _area(tmp_path):
    return StateFiles(open_archive(str(tmp_path / "archive")).backend, "_state/test/", ".bin")


def test_merge_publishes_the_merged_file_then_deletes_the_merged_ones(tmp_path):
    area = _area(tmp_path)
    for name in ("a", "b", "c"):
        assert area.put(area.key(name), name.encode())
    assert not area.put(area.key("a"), b"again")  # create-only: a name is written once
    assert area.get(area.key("a")) == b"a"
    assert area.merge([area.key("a"), area.key("b")], area.key("ab"), b"ab")
    assert area.listing() == [area.key("ab"), area.key("c")]
    assert area.get(area.key("a")) is None  # gone: a reader that listed it skips it
    assert area.get(area.key("ab")) == b"ab"


def test_a_merge_whose_name_is_taken_deletes_nothing(tmp_path):
    area = _area(tmp_path)
    for name in ("a", "b", "ab"):
        area.put(area.key(name), name.encode())
    assert not area.merge([area.key("a"), area.key("b")], area.key("ab"), b"new")
    assert area.listing() == [area.key("a"), area.key("ab"), area.key("b")]
    assert area.get(area.key("ab")) == b"ab"  # the file it did not write is left as it was


def test_other_suffixes_and_areas_are_not_listed(tmp_path):
    area = _area(tmp_path)
    area.put(area.key("a"), b"a")
    area.backend.put_bytes("_state/test/notes.json", b"{}")
    area.backend.put_bytes("_state/other/b.bin", b"b")
    assert area.listing() == [area.key("a")]
