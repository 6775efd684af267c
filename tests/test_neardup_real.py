"""The near-duplicate stage on real text (../shared/data, read in place): no two outlets' rewrites of
one event are merged; syndicated copies of real bodies are caught. Figures: docs/NEARDUP.md."""

from __future__ import annotations

import pytest

from pipelines import neardup_signature as nd
from tests.shared import shared_data

pytestmark = pytest.mark.xdist_group("neardup_real")  # one worker builds the sets and the index once


@pytest.fixture(scope="session")
def sets():
    from benchmarks.neardup_corpus import load_gold, load_same_story, positives

    ss = load_same_story(shared_data("vn-same-story", "clusters"))
    gold = load_gold(shared_data("vn-pages", "gold-bodies.jsonl"))
    return ss, gold, positives(ss + gold)


@pytest.fixture(scope="session")
def result(sets):
    from benchmarks.neardup_corpus import load_fundus
    from benchmarks.neardup_eval import index_eval

    ss, gold, pos = sets
    fundus = load_fundus(shared_data("fundus-pages", "pairs.jsonl").parents[1])
    return index_eval(ss + gold, pos, nd.DEFAULT, fundus)


def test_sets_are_what_the_figures_say(sets):
    ss, gold, pos = sets
    assert len(ss) == 628 and len({d.cluster for d in ss}) == 199 and len(gold) == 10
    assert len(pos) == 6164


def test_no_same_story_rewrites_nor_other_pages_merged(result):
    assert result["negatives"]["articles"] == 628 + 10 + 257
    assert result["negatives"]["merged"] == 0, result["negatives"]["merges"]


def test_syndicated_copies_of_real_bodies_are_caught(result):
    by_kind, overall = result["positives"]["by_kind"], result["positives"]["all"]
    assert overall["precision"] == 1.0  # a copy is never attributed to another story
    assert overall["recall"] >= 0.98
    for kind in ("headline", "lead", "caption", "credit", "cut", "furniture", "syndicated"):
        assert by_kind[kind]["recall"] >= 0.99, (kind, by_kind[kind])
    assert by_kind["reword"]["recall"] >= 0.98
    assert by_kind["syndicated+"]["recall"] >= 0.95 and by_kind["syndicated++"]["recall"] >= 0.89


def test_thresholds_are_the_rules_choice(sets):
    """Share: the lowest above every rewrite pair even with one more copied sentence; Jaccard: the
    lowest with no pair merged and expected merges <= 0.01 (the negatives alone decide)."""
    from benchmarks.neardup_eval import calibrate, pairwise

    ss, gold, pos = sets
    pw = pairwise(ss + gold, pos[:20], nd.DEFAULT)
    cal = calibrate(pw, nd.DEFAULT)
    assert (cal.share, cal.threshold) == (nd.DEFAULT.share, nd.DEFAULT.threshold)
    assert max(n["share"] for n in pw["neg"]) < nd.DEFAULT.share - 0.1  # the margin, in plain share
