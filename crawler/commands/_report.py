"""Crawl several sources in one process and print what each one did."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import CrawlerProcess


def crawl_and_report(settings, names: list[str], title: str, spider_args: dict | None = None) -> int:
    """Crawl ``names`` in one process (one archive run), print a summary, return an exit code."""
    process = CrawlerProcess(settings, install_root_handler=True)
    results: dict[str, dict] = {}
    for name in names:
        crawler = process.create_crawler(name)

        def closed(spider, reason, _crawler=crawler):
            results[spider.name] = {"reason": reason, "stats": dict(_crawler.stats.get_stats())}

        crawler.signals.connect(closed, signal=signals.spider_closed)
        process.crawl(crawler, **(spider_args or {}))
    process.start()
    print_summary(results, settings.get("ARCHIVE_URI") or "archive", title)
    failed = [n for n in names if results.get(n, {}).get("reason") not in ("finished", "max_articles")]
    return 1 if failed else 0


def summarise(stats: dict) -> dict:
    dropped: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith("pipeline/dropped/"):
            dropped[key.rsplit("/", 1)[1]] = value
        elif key.startswith("article/failed/"):
            dropped[key.rsplit("/", 1)[1]] = dropped.get(key.rsplit("/", 1)[1], 0) + value
        elif key.startswith("httperror/response_ignored_status_count/"):
            dropped["http_" + key.rsplit("/", 1)[1]] = value
    duplicates = sum(v for k, v in stats.items() if k.startswith("dedupe/"))
    return {
        "archived": stats.get("archive/articles_accepted", 0) or stats.get("archive/would_archive", 0),
        "duplicates": duplicates,
        "skipped_known": stats.get("discovery/known_skipped", 0),
        "pages": stats.get("article/pages_fetched", 0),
        "requests": stats.get("downloader/request_count", 0),
        "dropped": dropped,
    }


def print_summary(results: dict[str, dict], archive_uri: str, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title}: what each source did")
    for col in ("source", "archived", "duplicates", "already archived", "article pages", "requests",
                "dropped (why)", "ended"):
        table.add_column(col, justify="right" if col not in ("source", "dropped (why)", "ended") else "left")
    totals = {"archived": 0, "duplicates": 0}
    for name in sorted(results):
        s = summarise(results[name]["stats"])
        totals["archived"] += s["archived"]
        totals["duplicates"] += s["duplicates"]
        why = ", ".join(f"{k}: {v}" for k, v in sorted(s["dropped"].items())) or "-"
        table.add_row(name, str(s["archived"]), str(s["duplicates"]), str(s["skipped_known"]), str(s["pages"]),
                      str(s["requests"]), why, results[name]["reason"])
    console = Console()
    console.print(table)
    console.print(f"archived {totals['archived']} articles, skipped {totals['duplicates']} duplicates")
    console.print(f"archive: {archive_uri}")
    path = archive_uri.rstrip("/")
    console.print("try:", style="bold")
    console.print(
        f"  duckdb -c \"SELECT source, month, count(*) FROM read_parquet('{path}/articles/**/*.parquet', "
        f"hive_partitioning=true) GROUP BY ALL ORDER BY ALL\"",
        soft_wrap=True,
    )
