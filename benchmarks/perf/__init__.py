"""Throughput, memory and archive-size benchmark of the news archive (``make bench``).

``python -m benchmarks.perf`` runs everything and writes ``benchmarks/results/<timestamp>.json``;
see docs/BENCHMARKS.md for what is measured and how to read it. Modules:

- :mod:`.sitegen`  pre-renders a demo world of N articles to one file (cached between runs);
- :mod:`.server`   serves those bytes on 127.0.0.1 from a single asyncio process (not the bottleneck);
- :mod:`.crawl`    runs ``scrapy crawlall`` over the demo sources and measures it (wall, CPU, RSS);
- :mod:`.micro`    per-page costs on the same pages: lxml parse, our steps, trafilatura, a peer;
- :mod:`.queries`  a 1,000,000-article archive written with ``storage.parquet`` and timed with DuckDB;
- :mod:`.profile`  summary of a py-spy profile of the full pipeline;
- :mod:`.report`   the table, the JSON and the figures' ratios.
"""
