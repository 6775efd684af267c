"""The product's one clock (storage/clock.py): NEWSARCHIVE_NOW sets it, subprocesses share it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from storage import clock
from tests._ops import ROOT, scrapy

LEAP = "2028-02-29T23:30:00+07:00"
CHILD = "from storage import clock; import json; print(json.dumps([clock.time(), clock.now().isoformat()]))"


def _child(env: dict) -> tuple[float, datetime]:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    stamp, iso = json.loads(out)
    return stamp, datetime.fromisoformat(iso)


def test_unset_is_the_real_time(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    before = time.time()
    now = clock.now()
    assert before - 1 <= now.timestamp() <= time.time() + 1 and now.tzinfo == timezone.utc


def test_set_starts_at_the_instant_and_moves_on(monkeypatch):
    monkeypatch.setenv(clock.ENV, LEAP)
    monkeypatch.setenv(clock.ANCHOR_ENV, "")
    first = clock.now()
    start = datetime(2028, 2, 29, 16, 30, tzinfo=timezone.utc)
    assert -timedelta(milliseconds=1) <= first - start < timedelta(seconds=5)   # float rounding
    assert clock.today() == start.date()
    assert clock.today(timezone(timedelta(hours=7))).isoformat() == "2028-02-29"
    time.sleep(0.3)
    assert clock.now() - first >= timedelta(seconds=0.3)
    assert os.environ[clock.ANCHOR_ENV].endswith(" " + LEAP)   # what children inherit


def test_a_child_process_goes_on_from_the_parents_clock(monkeypatch):
    monkeypatch.setenv(clock.ENV, LEAP)
    monkeypatch.setenv(clock.ANCHOR_ENV, "")
    parent = clock.time()
    time.sleep(1.0)
    stamp, now = _child(dict(os.environ))
    # not the instant again: the child's clock is a second (plus its start-up) later, as the parent's is
    assert 1.0 <= stamp - parent < 30 and abs(now.timestamp() - stamp) < 1
    pinned = clock.pinned("2030-01-01T00:00:00Z")
    stamp, _ = _child({**os.environ, **pinned})
    assert 0 <= stamp - datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() < 30


@pytest.mark.parametrize("value", ["2028-02-29T23:30:00", "tomorrow", "2028-02-30T00:00:00+07:00"])
def test_a_malformed_value_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv(clock.ENV, value)
    with pytest.raises(clock.ClockError, match="NEWSARCHIVE_NOW=.*ISO 8601 instant with an offset"):
        clock.now()


def test_a_crawl_with_a_malformed_clock_stops_at_start(tmp_path):
    result = scrapy("crawl", "demo_kinhte", archive=tmp_path / "a", base_url="http://127.0.0.1:9",
                    NEWSARCHIVE_NOW="2028-02-29 23:30")
    assert result.returncode == 2
    assert "NEWSARCHIVE_NOW='2028-02-29 23:30': expected an ISO 8601 instant with an offset" in result.stderr
    assert not (tmp_path / "a").exists()
