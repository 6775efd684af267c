"""Syndicated copies on the demo sites, crawled through the real Scrapy engine (``scrapy crawlall``
in a subprocess against the demo server on 127.0.0.1), read back from the archive: every
syndicated story is archived once and each copy is in ``duplicates``, in one run and across runs
(the near-duplicate index persisted in the archive)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo.world import build_world
from pipelines.neardup_signature import DEFAULT
from storage import open_archive

ROOT = Path(__file__).resolve().parents[1]
STAGE = "pipelines.neardup.NearDupPipeline"
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "RETRY_TIMES": "0", "LOG_LEVEL": "WARNING"}

pytestmark = pytest.mark.xdist_group("neardup_demo")


def item_pipelines() -> dict:
    """The project's pipelines, with this stage at 650 (after dedupe) if settings.py lacks it."""
    from crawler import settings

    pipes = dict(settings.ITEM_PIPELINES)
    pipes.setdefault(STAGE, 650)
    return pipes


@pytest.fixture(scope="module")
def world():
    return build_world(60)


@pytest.fixture(scope="module")
def server(world):
    from crawler.demo.server import DemoServer

    with DemoServer(world) as srv:
        yield srv


def crawl(archive: Path, base_url: str, sources: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ARCHIVE_URI=str(archive), ARCHIVE_JOURNAL_DIR=str(archive) + "-journal",
               DEMO_BASE_URL=base_url)
    settings = [x for k, v in {**FAST, "ITEM_PIPELINES": json.dumps(item_pipelines())}.items() for x in ("-s", f"{k}={v}")]
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawlall", "--sources", sources, *settings],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def read_back(archive: Path):
    a = open_archive(str(archive))
    articles = a.read_table("articles", columns=["article_id", "source", "url"]).to_pylist()
    dups = a.read_table("duplicates").to_pylist()
    return a, articles, dups


def check_syndication(world, articles, dups):
    key = lambda source, url: (source, urlsplit(url).path)  # noqa: E731
    archived = {key(r["source"], r["url"]): r["article_id"] for r in articles}
    assert len(archived) == len(articles), "an article page archived twice"
    copies = {key(d["source"], d["duplicate_url"]): d for d in dups}
    near_members, expected = set(), set(world.expected_paths())
    for group in world.syndication_groups():
        kept = [m for m in group if m in archived]
        assert len(kept) == 1, (group, kept)
        [copy] = group - set(kept)
        assert copy in copies, (copy, "not in duplicates")
        assert copies[copy]["article_id"] == archived[kept[0]]
        [syndicated] = group - expected  # the page the world made as a copy
        if world.get(syndicated[1]).syndication == "near":
            assert copies[copy]["method"] == "near", copies[copy]
            assert copies[copy]["similarity"] >= min(DEFAULT.share, DEFAULT.threshold)
            near_members.add(copy)
    assert {k for k, d in copies.items() if d["method"] == "near"} == near_members  # no other story merged
    assert len(near_members) == 6
    swapped = {m for g in world.syndication_groups() for m in g}
    assert (expected - swapped) <= set(archived), "an original story lost"


def test_one_run_all_sources_every_syndicated_story_once(world, server, tmp_path):
    archive = tmp_path / "archive"
    crawl(archive, server.base_url, "demo_*")
    a, articles, dups = read_back(archive)
    check_syndication(world, articles, dups)
    assert [o.key for o in a.backend.list("_state/neardup/")], "the index was not published"


def test_runs_one_source_at_a_time_share_the_index(world, server, tmp_path):
    archive = tmp_path / "archive"
    for source in ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte"):
        crawl(archive, server.base_url, source)
    a, articles, dups = read_back(archive)
    check_syndication(world, articles, dups)
    runs = {d["run_id"] for d in dups if d["method"] == "near"}
    assert len(runs) == 2  # copies found by later runs, in segments published by earlier ones
    segments = [o.key for o in a.backend.list("_state/neardup/")]
    assert len(segments) == 3 and all(k.endswith(".npz") for k in segments)

    near = next(d for d in dups if d["method"] == "near")
    env = dict(os.environ, ARCHIVE_URI=str(archive))
    proc = subprocess.run([sys.executable, "-m", "scrapy", "archive", "duplicates", "--story", near["duplicate_url"]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"story {near['article_id']}" in proc.stdout and near["duplicate_url"] in proc.stdout
    assert " near " in proc.stdout
