"""``scrapy extract`` on saved pages (a real subprocess in the project directory)."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from crawler.commands.extract import source_for_url
from crawler.sources import registry

ROOT = Path(__file__).resolve().parents[1]
BODY = "".join(f"<p>Đoạn {i}: kim ngạch xuất khẩu của Bình Dương tăng mạnh trong quý này.</p>" for i in range(10))
PAGE = f"""<html lang="vi"><head><title>Xuất khẩu tăng</title>
<meta property="article:published_time" content="2026-03-07T08:47:00+07:00"></head>
<body><h1>Xuất khẩu tăng</h1><article>{BODY}</article></body></html>"""


def run(*args):
    scrapy = Path(sys.executable).with_name("scrapy")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(scrapy), "extract", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc.stderr


def test_source_for_url_matches_hosts_and_subdomains():
    assert source_for_url("https://vnexpress.net/a-1234567.html").name == "vnexpress"
    assert source_for_url("https://m.cafef.vn/x.chn").name == "cafef"
    assert source_for_url("https://example.org/x") is None
    assert source_for_url(None) is None


def test_files_manifest_and_gzip(tmp_path):
    plain = tmp_path / "a.html"
    plain.write_text(PAGE, encoding="utf-8")
    packed = tmp_path / "b.html.gz"
    packed.write_bytes(gzip.compress(PAGE.encode("utf-8")))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"file": "b.html.gz", "url": "https://vnexpress.net/xuat-khau-1234567.html",
                                    "fetched_at": "2026-03-08T00:00:00"}) + "\n", encoding="utf-8")  # no offset: UTC
    code, rows, err = run(str(plain), "--url", "https://example.org/xuat-khau", "--manifest", str(manifest))
    assert code == 0, err
    assert [r["file"] for r in rows] == [str(plain), str(tmp_path / "b.html.gz")]
    first, second = rows
    assert first["source"] is None and first["title"] == "Xuất khẩu tăng" and "Đoạn 9" in first["body"]
    # printed in the page's own offset; the offset, precision and local day beside it
    assert first["published_at"] == "2026-03-07T08:47:00+07:00" and first["drop_reason"] is None
    assert (first["published_at_offset"], first["published_at_precision"], first["published_date"]) \
        == (420, "second", "2026-03-07")
    assert second["source"] == "vnexpress" and second["crawled_at"] == "2026-03-08T00:00:00+00:00"
    assert {"field_sources", "canonical_url", "tags", "authors", "image_captions"} <= set(first)


def test_forced_source_and_missing_file(tmp_path):
    page = tmp_path / "a.html"
    page.write_text(PAGE, encoding="utf-8")
    code, rows, err = run(str(page), str(tmp_path / "missing.html"), "--source", "cafef")
    assert code == 1 and "missing.html" in err
    assert rows[0]["source"] == "cafef"
    assert "cafef" in registry().names()


def test_a_bad_fetch_time_is_named_and_the_other_pages_still_come_out(tmp_path):
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text(PAGE, encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in (
        {"file": "a.html", "fetched_at": "2026-03-08T00:00:00+00:00+00:00"},  # the offset given twice
        {"file": "b.html", "fetched_at": "2026-03-08T07:00:00+07:00"},
    )), encoding="utf-8")
    code, rows, err = run("--manifest", str(manifest))
    assert code == 1
    assert "a.html" in err and "'2026-03-08T00:00:00+00:00+00:00' is not an ISO 8601 time" in err
    assert "Traceback" not in err
    assert [(Path(r["file"]).name, r["crawled_at"]) for r in rows] == [("b.html", "2026-03-08T07:00:00+07:00")]
    code, rows, err = run(str(tmp_path / "a.html"), "--fetched-at", "yesterday")
    assert code == 2 and rows == [] and "--fetched-at 'yesterday': not an ISO 8601 time" in err
