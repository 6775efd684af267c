"""The operations on an s3:// archive (a real SeaweedFS on 127.0.0.1): crawlall twice (the second
fetches no article page), a concurrent crawl stopped by the lock object, the run rows and the
uploaded log, read back through the storage layer."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from crawler.demo.server import DemoServer
from storage.crawllock import LOCK_KEY
from storage import open_archive
from tests._ops import DEMO, FAST, accounted, requested_article_paths, run_id_of, scrapy, scrapy_popen


pytestmark = pytest.mark.xdist_group("s3")


@pytest.fixture(scope="module")
def s3_runs(s3_server, tmp_path_factory):
    import uuid

    uri = f"s3://{s3_server.bucket}/ops-{uuid.uuid4().hex[:8]}"
    env = dict(s3_server.env(), ARCHIVE_URI=uri)
    journal = tmp_path_factory.mktemp("s3journal") / "j"
    server = DemoServer()
    base = server.start()
    patch = pytest.MonkeyPatch()
    for name, value in s3_server.env().items():  # for open_archive in this process
        patch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        patch.delenv(name, raising=False)
    try:
        first = scrapy_popen("crawlall", "--sources", "demo_*", *FAST, archive=journal, base_url=base, **env)
        archive = open_archive(uri)
        deadline = time.monotonic() + 60
        while not archive.backend.exists(LOCK_KEY) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        concurrent = scrapy("crawl", "demo_kinhte", *FAST, archive=journal, base_url=base, **env)
        out, err = first.communicate(timeout=240)
        mark = len(server.requests)
        second = scrapy("crawlall", "--sources", "demo_*", *FAST, archive=journal, base_url=base, **env)
        yield {"uri": uri, "first": (first.returncode, out, err), "concurrent": concurrent, "second": second,
               "second_requests": server.requests[mark:], "world": server.world}
    finally:
        server.stop()
        patch.undo()


def test_crawlall_on_s3_twice(s3_runs):
    code, out, err = s3_runs["first"]
    assert code == 0, out[-3000:] + err[-3000:]
    second = s3_runs["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert requested_article_paths(s3_runs["second_requests"], s3_runs["world"]) == []
    archive = open_archive(s3_runs["uri"])
    runs = archive.read_table("runs").to_pylist()
    first_rows = [r for r in runs if r["run_id"] == run_id_of(out)]
    assert sorted(r["source"] for r in first_rows) == sorted(DEMO)
    for r in first_rows:
        r["dropped"] = dict(r["dropped"])
        assert r["status"] == "ok" and accounted(r)
    log = archive.backend.get_bytes(f"runs/_logs/{run_id_of(out)}.log").decode("utf-8")
    assert "demo_kinhte: OK; archived" in log and "exit code 0" in log
    assert not archive.backend.exists(LOCK_KEY)


def test_concurrent_crawl_on_s3_exits_on_the_lock(s3_runs):
    concurrent = s3_runs["concurrent"]
    assert concurrent.returncode == 3, concurrent.stdout + concurrent.stderr
    assert "another crawl is writing to s3://" in concurrent.stderr


@pytest.fixture(scope="module")
def local_twin(s3_runs, tmp_path_factory):
    """The same demo crawl into a local folder, for comparison with the s3:// archive."""
    archive = tmp_path_factory.mktemp("local-twin") / "archive"
    server = DemoServer()
    base = server.start()
    try:
        done = scrapy("crawlall", "--sources", "demo_*", *FAST, archive=archive, base_url=base)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return open_archive(str(archive))


def _story_key(row: dict, groups: list[set]) -> str:
    """A syndicated story is one story whichever copy a crawl kept."""
    path = urlsplit(row["url"]).path
    for i, group in enumerate(groups):
        if any(p == path for _, p in group):
            return f"story-{i}"
    return path


def test_s3_archive_holds_the_same_rows_as_a_local_crawl(s3_runs, local_twin):
    columns = ["article_id", "url", "source", "title", "lead", "body", "authors", "tags", "published_at",
               "modified_at", "content_hash", "image_captions"]
    s3_rows = open_archive(s3_runs["uri"]).read_table("articles", columns=columns).to_pylist()
    local_rows = local_twin.read_table("articles", columns=columns).to_pylist()
    groups = s3_runs["world"].syndication_groups()
    assert len(s3_rows) == len(local_rows) == len(s3_runs["world"].expected())

    def by_story(rows):
        out = {}
        for row in rows:
            key = _story_key(row, groups)
            assert key not in out, key
            row["url"] = urlsplit(row["url"]).path  # each demo server has its own port
            out[key] = row
        return out

    s3_by, local_by = by_story(s3_rows), by_story(local_rows)
    assert s3_by.keys() == local_by.keys()
    for key, row in local_by.items():
        if key.startswith("story-") and row["article_id"] != s3_by[key]["article_id"]:
            continue  # the two crawls kept different copies of a syndicated story: both are right
        assert s3_by[key] == row, key
