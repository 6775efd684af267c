"""Every saved real page of ../shared/data/vn-pages against its ground truth.

Articles: title exact, published_at exact to the minute (UTC), the article text
(lead + body) contains every ``with`` snippet, neither lead nor body contains a
``without`` snippet, and lead + body scores F1 >= 0.98 against the gold body
(the gold bodies keep the lead as their first paragraph). Listings: the
expected article URLs and next-page URL.

The pages are read where they lie. Without the folder the tests skip, except
under CI (env ``CI`` set), where a missing folder is a failure.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.sources import registry
from crawler.sources.base import Source
from pipelines.decode import decode_html
from crawler.listing import listing_links
from pipelines.extraction.scoring import page_prf
from pipelines.process import process_page

DATA = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
VN = DATA / "vn-pages"
FETCHED = datetime(2026, 3, 10, tzinfo=timezone.utc)


def require(path: Path) -> Path:
    """Skip (or fail under CI) when the shared data is not there."""
    if not path.exists():
        message = f"shared real-page data not found at {path} (a clone without ../shared/data)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI requires it")
        pytest.skip(message)
    return path


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_page(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def source_for(url: str) -> Source | None:
    host = re.sub(r"^https?://([^/:]+).*$", r"\1", url).lower()
    for src in registry().sources.values():
        if any(host == d or host.endswith("." + d) for d in src.domains):
            return src
    return None


ARTICLES = _jsonl(VN / "articles.jsonl")
GOLD = {g["file"]: g["body"] for g in _jsonl(VN / "gold-bodies.jsonl")}
for _a in ARTICLES:
    if _a.get("body_text") and _a["file"] not in GOLD:
        GOLD[_a["file"]] = _a["body_text"]
ARTICLE_IDS = [a["file"].split("/")[-1] for a in ARTICLES] or ["no-data"]
_cache: dict[str, dict] = {}


def processed(case: dict) -> dict:
    if case["file"] not in _cache:
        page = {"url": case["url"], "raw_body": read_page(require(VN / case["file"])), "content_type": None,
                "http_status": 200, "fetched_at": FETCHED, "hints": {}}
        _cache[case["file"]] = process_page(page, source_for(case["url"]))
    return _cache[case["file"]]


@pytest.fixture(params=ARTICLES or [None], ids=ARTICLE_IDS)
def case(request):
    require(VN / "articles.jsonl")
    return request.param


def text_of(item: dict) -> str:
    return "\n\n".join(x for x in (item["lead"], item["body"]) if x)


def test_title_exact(case):
    assert processed(case)["title"] == case["title"]


def test_published_to_the_minute_utc(case):
    expected = datetime.fromisoformat(case["published_at_iso"]).astimezone(timezone.utc).replace(second=0)
    got = processed(case)["published_at"]
    assert got is not None and got.replace(second=0, microsecond=0) == expected


def test_with_and_without_snippets(case):
    item = processed(case)
    text = text_of(item)
    for snippet in case.get("with", []):
        assert snippet in text, f"missing {snippet!r}"
    for snippet in case.get("without", []):
        assert snippet not in text, f"furniture {snippet!r} in the text"


def test_body_f1_against_gold(case):
    if case["file"] not in GOLD:
        pytest.skip(f"no gold body for {case['file']}")
    precision, recall, f1 = page_prf(text_of(processed(case)), GOLD[case["file"]])
    assert f1 >= 0.98, f"F1 {f1:.4f} (P {precision:.4f} R {recall:.4f})"


def test_checked_sources_use_their_rules(case):
    src = source_for(case["url"])
    assert src is not None and src.checked_against_saved_pages
    sources = processed(case)["field_sources"]
    assert sources["title"] == "rules" and sources["body"] == "rules"


LISTING_TRUTH = {}
if (VN / "tracking-ground-truth.json").exists():
    LISTING_TRUTH = json.loads((VN / "tracking-ground-truth.json").read_text(encoding="utf-8"))["list_pages"]
URL_END = {"vnexpress": r"\.html$", "cafef": r"\.chn$", "tuoitre": r"-\d+\.htm$", "baodautu": r"\.html$",
           "dantri": r"\.htm$", "nld": r"\.htm$", "vietnamnet": r"\.html$", "baochinhphu": r"\.htm$"}


@pytest.mark.parametrize("name", sorted(LISTING_TRUTH) or ["no-data"])
def test_listing_page(name):
    require(VN / "listings")
    truth = LISTING_TRUTH[name]
    site = name.split("_")[0]
    src = registry().get(site)
    html, _ = decode_html(read_page(VN / "listings" / name), None)
    articles, nexts = listing_links(html, truth["base_url"], src)
    host = re.match(r"https?://[^/]+/", truth["base_url"]).group(0)
    assert len(articles) >= 10
    assert len(articles) == len(set(articles))
    assert all(u.startswith(host) and "#" not in u and re.search(URL_END[site], u) for u in articles), articles
    assert truth["base_url"].rstrip("/") not in {u.rstrip("/") for u in articles}
    if site == "dantri":
        assert articles[0].startswith("https://dantri.com.vn/kinh-doanh/")
    if truth.get("next_page"):
        assert nexts[:1] == [truth["next_page"]]
    assert all(src.article_url(u) for u in articles)
