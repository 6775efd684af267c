"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_server():
    """The bundled demo sites on a free 127.0.0.1 port (default world, no faults)."""
    from crawler.demo.server import DemoServer

    server = DemoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# One real SeaweedFS S3 server per test process, shared by every S3 test (tests/conftest_s3.py).
from tests.conftest_s3 import *  # noqa: E402,F401,F403
