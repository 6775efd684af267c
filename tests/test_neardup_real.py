"""The near-duplicate stage on real text (../shared/data, read in place): no two outlets' rewrites of
one event are merged; syndicated copies of real bodies are caught. Figures: docs/NEARDUP.md."""

from __future__ import annotations

import pytest

from pipelines import neardup as nd
from tests.shared import shared_data


@pytest.fixture(scope="module")
def sets():
    from benchmarks.neardup_eval import load_gold, load_same_story, positives

    ss = load_same_story(shared_data("vn-same-story", "clusters"))
    gold = load_gold(shared_data("vn-pages", "gold-bodies.jsonl"))
    return ss, gold, positives(ss + gold)


@pytest.fixture(scope="module")
def result(sets):
    from benchmarks.neardup_eval import index_eval

    ss, gold, pos = sets
    return index_eval(ss + gold, pos, nd.DEFAULT)


def test_sets_are_what_the_figures_say(sets):
    ss, gold, pos = sets
    assert len(ss) == 628 and len({d.cluster for d in ss}) == 199 and len(gold) == 10
    assert len(pos) > 6000


def test_no_same_story_rewrites_merged(result):
    assert result["negatives"]["merged"] == 0, result["negatives"]["merges"]


def test_syndicated_copies_of_real_bodies_are_caught(result):
    by_kind, overall = result["positives"]["by_kind"], result["positives"]["all"]
    assert overall["precision"] == 1.0  # a copy is never attributed to another story
    for kind in ("headline", "caption", "credit", "reword", "cut", "furniture"):
        assert by_kind[kind]["recall"] >= 0.98, (kind, by_kind[kind])
    assert by_kind["lead"]["recall"] >= 0.93 and by_kind["syndicated"]["recall"] >= 0.93
    assert overall["recall"] >= 0.94


def test_threshold_is_the_lowest_with_no_merge_and_a_margin(sets):
    from benchmarks.neardup_eval import pairwise, select_threshold

    ss, gold, pos = sets
    pw = pairwise(ss + gold, pos[:50], nd.DEFAULT)
    assert select_threshold(pw["neg_exact"], pw["neg_est"], nd.DEFAULT) == nd.DEFAULT.threshold
