"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    """One clock and one demo "today" for the whole run, in every process it starts.

    ``NEWSARCHIVE_NOW`` (when set) is anchored now, so the test processes, the demo server and every
    crawl they start read one clock moving on from it (storage/clock.py). ``DEMO_TODAY`` is fixed
    once, so a run that passes midnight does not see two demo worlds. Set here, before any test module
    builds a world, and inherited by pytest-xdist's workers and every subprocess.
    """
    from crawler.demo.timeline import ENV, demo_today
    from storage import clock

    clock.check()
    os.environ.setdefault(ENV, demo_today().isoformat())


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
