"""The operations on an s3:// archive (a real SeaweedFS on 127.0.0.1): crawlall twice (the second
fetches no article page), a concurrent crawl stopped by the lock object, the run rows and the
uploaded log, read back through the storage layer."""

from __future__ import annotations

import sys
import time

import pytest

from crawler.demo.server import DemoServer
from crawler.oplock import LOCK_KEY
from storage import open_archive
from tests._ops import DEMO, FAST, accounted, requested_article_paths, run_id_of, scrapy, scrapy_popen

if not hasattr(sys.modules.get("tests.conftest"), "s3_server"):  # until tests/conftest.py imports them
    from tests.conftest_s3 import s3_server  # noqa: F401

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
