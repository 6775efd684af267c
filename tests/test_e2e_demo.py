"""End to end: `scrapy demo` crawls the bundled demo sites through the real Scrapy
engine on 127.0.0.1 and the archive it writes is read back with DuckDB and pyarrow.

Ground truth comes from the demo world (crawler/demo/world.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pyarrow.dataset as pads
import pytest

from crawler.demo.world import build_world

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = [sys.executable, "-m", "scrapy"]
WIDGETS = ("Phản hồi", "Các tin khác", "Tin liên quan", "Chia sẻ", "In bài", "Gửi email", "Ý kiến bạn đọc",
           "Xem thêm")

pytestmark = pytest.mark.xdist_group("e2e_demo")


def run_scrapy(*args: str, archive: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, ARCHIVE_URI=str(archive), ARCHIVE_JOURNAL_DIR=str(archive) + "-journal")
    return subprocess.run([*SCRAPY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def world():
    return build_world()


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    archive = tmp_path_factory.mktemp("e2e") / "archive"
    first = run_scrapy("demo", archive=archive)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
    con = duckdb.connect()
    count_after_first = con.execute(
        f"SELECT count(*) FROM read_parquet('{archive}/articles/**/*.parquet', hive_partitioning=true)"
    ).fetchone()[0]
    second = run_scrapy("demo", archive=archive)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-5000:]
    return archive, first, second, count_after_first


@pytest.fixture(scope="module")
def rows(demo_runs):
    archive = demo_runs[0]
    con = duckdb.connect()
    # instants in UTC: in the zone of the machine (the suite runs in Los Angeles) a time in the hour a
    # clock goes back is ambiguous, and Python never finds such a time equal to one of another zone
    con.execute("SET TimeZone = 'UTC'")
    cur = con.execute(f"SELECT * FROM read_parquet('{archive}/articles/**/*.parquet', hive_partitioning=true)")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_summary_names_sources_counts_and_a_query(demo_runs):
    out = demo_runs[1].stdout
    for name in ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte"):
        assert name in out
    assert "archived" in out and "duplicates" in out
    assert "http_404" in out and "http_500" in out  # dropped pages and why
    assert "scrapy archive query" in out


def test_every_expected_article_archived_exactly_once(world, rows):
    by_path = {}
    for r in rows:
        by_path.setdefault(path_of(r["url"]), []).append(r)
    assert all(len(v) == 1 for v in by_path.values()), [k for k, v in by_path.items() if len(v) > 1]
    ids = [r["article_id"] for r in rows]
    assert len(ids) == len(set(ids))
    groups = world.syndication_groups()
    in_group = {p for g in groups for (_, p) in g}
    for art in world.expected():
        if art.path in in_group:
            continue
        assert art.path in by_path, f"missing {art.source} {art.path}"
        assert by_path[art.path][0]["source"] == art.source
    # a syndicated story (exact or near copy) is archived once, whichever copy the crawl met first
    assert len(groups) >= 16
    for group in groups:
        kept = [p for (_, p) in group if p in by_path]
        assert len(kept) == 1, group


def test_counts_per_source(world, rows, demo_runs):
    assert len(world.expected()) >= 150
    assert len(rows) == len(world.expected())
    got = {}
    for r in rows:
        got[r["source"]] = got.get(r["source"], 0) + 1
    # per source: its originals, give or take the syndicated stories whose other copy was kept
    for source in ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte"):
        originals = sum(1 for a in world.expected() if a.source == source)
        in_groups = sum(1 for g in world.syndication_groups() for (s, _) in g if s == source)
        assert originals - in_groups <= got[source] <= originals + in_groups, source
    # every copy that was not kept is in the duplicates dataset, pointing at a kept article
    archive = demo_runs[0]
    con = duckdb.connect()
    dups = con.execute(
        f"SELECT d.method, count(*), count(a.article_id) FROM read_parquet('{archive}/duplicates/**/*.parquet') d "
        f"LEFT JOIN read_parquet('{archive}/articles/**/*.parquet') a USING (article_id) GROUP BY ALL"
    ).fetchall()
    by_method = {m: (n, joined) for m, n, joined in dups}
    assert by_method["exact"][0] == 12 and by_method["exact"][1] == 12
    assert by_method["near"][0] == 6 and by_method["near"][1] == 6


def test_titles_bodies_and_dates_match_ground_truth(world, rows):
    by_path = {path_of(r["url"]): r for r in rows}
    checked = 0
    with_date = 0
    for art in world.expected():
        row = by_path.get(art.path)
        if row is None:
            continue  # a syndicated original whose copy was kept
        checked += 1
        assert row["title"] == art.title, art.path
        assert row["body"] == "\n\n".join(art.paragraphs), art.path
        if row["published_at"] is not None:
            with_date += 1
            assert row["published_at"] == art.published_utc, (art.path, art.date_line)
    assert checked >= 150
    assert with_date / checked >= 0.95


def test_dates_in_each_site_format(world, rows):
    by_path = {path_of(r["url"]): r for r in rows}
    for source in ("demo_binhduong_portal", "demo_baobinhduong", "demo_kinhte"):
        sample = [a for a in world.expected() if a.source == source and a.path in by_path][:5]
        assert sample
        for art in sample:
            row = by_path[art.path]
            assert row["published_at"] == art.published_utc
            assert row["published_at_raw"], art.path


def test_seed_article(world, rows):
    seed = next(a for a in world.articles if a.is_seed)
    (row,) = [r for r in rows if r["title"] == "Bình Dương: Phát triển khu công nghiệp xanh, bền vững"]
    assert row["source"] == "demo_binhduong_portal"
    # the lead's "Trong ảnh: ..." sentence is the photo's caption: in image_captions once, not in the lead
    assert row["lead"] == "Bình Dương tiếp tục xây dựng phát triển các KCN theo hướng xanh, công nghệ cao."
    paragraphs = row["body"].split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Theo đó, tỉnh đã tập trung thu hút")
    assert paragraphs[1].startswith("Để phát triển công nghiệp bền vững, tạo bước đột phá sản xuất")
    assert paragraphs[2].startswith("Để công nghiệp phát triển bền vững, là địa chỉ tin cậy")
    assert paragraphs == seed.paragraphs
    assert list(row["image_captions"]) == ["VSIP, khu công nghiệp kiểu mẫu của cả nước."]
    assert "VSIP, khu công nghiệp kiểu mẫu" not in row["body"] and "Trong ảnh" not in row["lead"]
    for widget in WIDGETS:
        assert widget not in row["body"] and widget not in row["lead"]


def test_no_widgets_anywhere(rows):
    for r in rows:
        for widget in WIDGETS:
            assert widget not in (r["body"] or ""), (widget, r["url"])
            assert widget not in (r["lead"] or ""), (widget, r["url"])
        assert r["body"] == r["body"].strip()
        assert "\n\n\n" not in r["body"]


def test_captions_kept_once(rows):
    for r in rows:
        caps = list(r["image_captions"] or [])
        assert len(caps) == len(set(caps)), r["url"]
        for cap in caps:
            assert cap not in r["body"], r["url"]


def test_traps(world, rows):
    paths = {path_of(r["url"]) for r in rows}
    for name in ("not_found", "server_error", "truncated", "tag_page", "video_page", "search_page"):
        if name in world.traps:
            assert world.traps[name] not in paths, name
    for p in world.non_articles:
        assert urlsplit(p).path not in paths
    # charset traps are real articles, archived with correct NFC text
    by_path = {path_of(r["url"]): r for r in rows}
    for name in ("cp1258_article", "lying_charset_article"):
        art = world.get(world.traps[name])
        row = by_path[urlsplit(world.traps[name]).path]
        assert row["title"] == art.title
        assert row["body"] == "\n\n".join(art.paragraphs)
    # the same article under several URLs is one row, with the clean URL
    aliased = [a for a in world.expected() if a.alias_paths]
    assert aliased
    for art in aliased:
        assert art.path in paths or any(art.path in {p for _, p in g} for g in world.syndication_groups())
        for alias in art.alias_paths:
            assert urlsplit(alias).path == art.path or urlsplit(alias).path not in paths


def test_readers_need_no_options(demo_runs, rows):
    archive = demo_runs[0]
    table = pads.dataset(str(archive / "articles")).to_table()
    assert table.num_rows == len(rows)
    assert {"source", "article_id", "published_at"} <= set(table.column_names)
    con = duckdb.connect()
    types = dict(con.execute(
        f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
        f"read_parquet('{archive}/articles/**/*.parquet', hive_partitioning=true))").fetchall())
    assert types["site"] == "VARCHAR" and types["month"] == "VARCHAR"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    import polars as pl

    frame = pl.scan_parquet(str(archive / "articles" / "**" / "*.parquet")).select("source").collect()
    assert frame.height == len(rows)


def test_second_run_archives_nothing_new(demo_runs):
    archive, first, second, count_after_first = demo_runs
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM read_parquet('{archive}/articles/**/*.parquet')").fetchone()[0]
    assert n == count_after_first
    assert "archived 0 articles" in second.stdout


def test_archive_query_and_verify_commands(demo_runs, rows):
    archive = demo_runs[0]
    got = run_scrapy("archive", "query", "--format", "csv",
                     "SELECT source, count(*) AS n FROM articles GROUP BY ALL ORDER BY ALL", archive=archive)
    assert got.returncode == 0, got.stderr[-2000:]
    lines = got.stdout.strip().splitlines()
    assert lines[0] == "source,n"
    counts = {line.split(",")[0]: int(line.split(",")[1]) for line in lines[1:]}
    expected = {}
    for r in rows:
        expected[r["source"]] = expected.get(r["source"], 0) + 1
    assert counts == expected
    bad = run_scrapy("archive", "query", "SELECT no_such_column FROM articles", archive=archive)
    assert bad.returncode == 2
    assert "no_such_column" in bad.stderr and "Traceback" not in bad.stderr
    verify = run_scrapy("archive", "verify", archive=archive)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # articles + duplicates (12 exact, 6 near) + one run row per source, twice (two runs)
    assert verify.stdout.startswith("OK:") and f"{len(rows) + 18 + 6} rows" in verify.stdout, verify.stdout
