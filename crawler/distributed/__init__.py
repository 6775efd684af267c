"""Distributed mode: many crawl workers on many machines, one archive, on scrapy-redis.

Switched on by settings alone (``DISTRIBUTED=1`` and ``REDIS_URL``); same sources,
same pipelines, same ``ARCHIVE_URI``. See docs/DISTRIBUTED.md for the deployment.

- ``scrapy crawlall`` becomes the *coordinator* (:mod:`.coordinator`): it takes the
  archive's crawl lock, announces a run in Redis, seeds every source's discovery
  requests, waits until the workers drained the queue, and writes the run report.
- ``scrapy worker`` (:mod:`.worker`) joins each announced run, crawls with
  scrapy-redis's scheduler adapted in :mod:`.scheduler` / :mod:`.frontier` (a leased
  queue so a dead worker's requests go back, a bounded per-run duplicate filter, JSON
  instead of pickle), and publishes to the archive under its own run id
  ``<run_id>.<worker>``.
- Dedupe across workers: :mod:`.claims` (atomic Lua claim on article id and content
  hash, falling back to the archive state), near-duplicates in :mod:`.neardup`.
- What the report needs from every worker (URLs found and their one outcome,
  counters) lives in per-run keys (:mod:`.runstate`) and is merged by :mod:`.report`.
"""

from __future__ import annotations


def enabled(settings) -> bool:
    """Whether ``DISTRIBUTED`` is on (``1``/``true``/``yes``/``on``)."""
    from crawler.spiders.arguments import TRUE_WORDS

    return str(settings.get("DISTRIBUTED") or "").strip().lower() in TRUE_WORDS
