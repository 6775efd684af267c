# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   install, serve the bundled demo sites, crawl them all, print a summary
#   make test   install, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install eval bench clean redis-server chromium

$(STAMP): requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/scrapy demo

PYTEST := $(BIN)/python -m pytest -n 2 --dist loadgroup -q -rs
# The tests about dates and time (the product's clock, date parsing, the demo world's calendar, the
# crawls that skip by date: second runs, reruns, backfill windows, retry and lock expiry) run again with
# the clock at other instants (NEWSARCHIVE_NOW: a year ahead, and a leap day's last half hour in Vietnam)
# and in Vietnam's zone; the whole suite runs in a zone that is neither UTC nor Vietnam's.
DATE_TESTS := tests/test_clock.py tests/test_dates.py tests/test_extraction_dates.py tests/test_demo_sites.py \
	tests/test_e2e_demo.py tests/test_ops_crawlall.py tests/test_ops_resume.py tests/test_ops_window.py tests/test_ops_units.py
# The crawls among them take most of the time: a year ahead, only the unit-level date tests run again.
DATE_UNIT_TESTS := tests/test_clock.py tests/test_dates.py tests/test_extraction_dates.py tests/test_demo_sites.py tests/test_ops_units.py
LEAP_NOW := 2028-02-29T23:30:00+07:00

test: $(STAMP) redis-server chromium
	TZ=America/Los_Angeles $(PYTEST) tests
	@set -e; now="$$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%S+00:00)"; \
		echo "== date unit tests at NEWSARCHIVE_NOW=$$now TZ=Asia/Ho_Chi_Minh"; \
		NEWSARCHIVE_NOW=$$now TZ=Asia/Ho_Chi_Minh $(PYTEST) $(DATE_UNIT_TESTS); \
		echo "== date-sensitive tests at NEWSARCHIVE_NOW=$(LEAP_NOW) TZ=Asia/Ho_Chi_Minh"; \
		NEWSARCHIVE_NOW=$(LEAP_NOW) TZ=Asia/Ho_Chi_Minh $(PYTEST) $(DATE_TESTS)

# The distributed tests (tests/test_distributed*.py) start a real Redis on 127.0.0.1.
redis-server:
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server)

# The report tests (tests/test_report.py) open `scrapy archive report`'s page in a headless Chromium.
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Extraction quality and speed on ../shared/data (fundus-pages, vn-pages), beside trafilatura, readability-lxml
# and htmldate; writes benchmarks/results/eval-*.json. readability-lxml is installed with --no-deps: beside
# trafilatura's lxml[html_clean] extra it trips pip 23's resolver.
eval: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps readability-lxml==0.9 chardet==5.2.0
	$(BIN)/python benchmarks/eval.py

# Throughput, memory and archive size (docs/BENCHMARKS.md); not part of `make test`.
# BENCH_ARTICLES=2000 BENCH_ARTICLES_LARGE=0 BENCH_QUERY_ARTICLES=100000 make bench   for a quick run
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps py-spy==0.4.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
		--target $(VENV)/bench-peer -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks.perf

clean:
	rm -rf $(VENV) archive .pytest_cache
