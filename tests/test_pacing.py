"""One pace per site (crawler/middlewares/pacing.py): the demo's three sources share one host, so
one `scrapy crawlall` must fetch from it no faster than its download delay allows one crawler."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crawler.middlewares.pacing import FilePace, LocalPace
from tests._ops import DEMO, FAST, request_rate, rows, scrapy

pytestmark = pytest.mark.xdist_group("pacing")


def test_a_pace_spaces_reservations_and_a_pause_holds_them_all():
    pace = LocalPace()
    waits = [pace.reserve("a.example", 0.5) for _ in range(4)]
    assert waits[0] == 0.0
    assert [round(w, 2) for w in waits[1:]] == [0.5, 1.0, 1.5]  # reserved back to back
    assert pace.reserve("b.example", 0.5) == 0.0  # another site has its own pace
    pace.pause("b.example", 30)  # Retry-After: 30
    assert 29.5 < pace.reserve("b.example", 0.5) <= 30.0
    later = LocalPace()
    later.reserve("c.example", 0.2)
    time.sleep(0.25)
    assert later.reserve("c.example", 0.2) == 0.0  # a free site does not wait


def test_a_file_pace_is_one_pace_for_every_process_of_the_machine(tmp_path):
    """The parts of a `crawlall --processes` run: reservations from another process (a child
    Python here, its own flock) take their turns on the same site's pace."""
    import subprocess
    import sys

    here = FilePace(tmp_path / "pace")
    assert here.reserve("a.example", 5.0) == 0.0
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from crawler.middlewares.pacing import FilePace; "
         "p = FilePace(sys.argv[1]); print(p.reserve('a.example', 5.0), p.reserve('b.example', 5.0)); "
         "p.pause('c.example', 30)", str(tmp_path / "pace")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    waited, other = (float(x) for x in child.stdout.split())
    assert 0.0 < waited <= 5.0 and other == 0.0, child.stdout  # its turn came 5 s after ours
    assert 5.0 < here.reserve("a.example", 5.0) <= waited + 5.0  # and our next 5 s after its
    assert 29.0 < here.reserve("c.example", 0.5) <= 30.0  # its Retry-After pause holds here
    here.close()


def test_a_retry_after_answer_pauses_the_site_for_every_crawler():
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler

    from crawler.middlewares.pacing import SitePacingMiddleware

    pace = LocalPace()
    crawler = get_crawler(settings_dict={"RETRY_AFTER_MAX": 60})
    crawler.stats.open_spider()
    mw = SitePacingMiddleware(crawler, pace)
    request = Request("https://news.example/a")
    for status, header, paused in ((200, b"30", False), (429, b"abc", False), (503, b"600", False),
                                   (429, b"20", True)):
        response = Response(request.url, status=status, headers={"Retry-After": header}, request=request)
        assert mw.process_response(request, response) is response
        wait = pace.reserve("news.example", 0.1)
        assert (19.5 < wait <= 20.0) if paused else wait < 1, (status, header, wait)
    assert crawler.stats.get_value("pacing/paused") == 1
    assert pace.reserve("other.example", 0.1) == 0.0  # only that site


def test_sources_on_one_host_share_its_pace(demo_server, tmp_path):
    """0.1 s delay, one request at a time per crawler: about 10 requests a second for the host
    in all, also when each source is crawled by its own process (--processes 3); with
    SHARED_PACING=0 each of the three crawlers fetches at that rate."""
    polite = [*FAST, "--processes", "3", "-s", "DOWNLOAD_DELAY=0.1", "-s", "RANDOMIZE_DOWNLOAD_DELAY=0",
              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    seen = {}
    for shared in (1, 0):
        archive = tmp_path / f"archive{shared}"
        start = len(demo_server.request_times)
        done = scrapy("crawlall", "--sources", ",".join(DEMO), *polite, "-s", f"SHARED_PACING={shared}",
                      archive=archive, base_url=demo_server.base_url)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        seen[shared] = request_rate(demo_server.request_times[start:])
        assert len(rows(archive, "articles")) == 175
    print("requests, requests/s in the busiest 3 s, span s (shared pace on, off):", seen)
    (n_on, peak_on, span_on), (_, peak_off, _) = seen[1], seen[0]
    assert n_on > 200 and peak_on <= 11.5 and n_on / span_on <= 11, seen
    assert peak_off > 1.5 * peak_on, seen  # what the shared pace prevents
