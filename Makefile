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

test: $(STAMP) redis-server chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -rs tests

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
