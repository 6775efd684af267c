"""Extraction benchmark on the shared real pages (run by ``make eval``; not a unit test).

Datasets (read in place, never copied): ``../shared/data/fundus-pages`` (gzip HTML +
``pairs.jsonl``), reported as two halves by publisher, fixed in ``benchmarks/fundus_split.json``
(``fundus-tune``: the only pages anything may be tuned on; ``fundus-heldout``: reported untouched),
and ``../shared/data/vn-pages`` (articles + gold bodies).

Systems, all on the same bytes, timed per page. The project's run through
``crawler.commands.extract.extract_saved``, the very function ``scrapy extract`` runs, with the
same fetch time (``--write-manifest`` writes the manifest that makes ``scrapy extract --manifest``
see exactly these inputs; ``--score-extract`` scores its output with this scorer):

* ``project``          the page's registered source (rules where declared), then every layer;
* ``project-generic``  no source: metadata, the generic body (ours where the JSON-LD articleBody
                       agrees with it, else ours and trafilatura, jusText voting where they
                       disagree), date lines, htmldate's day, the URL;
* ``generic:ours``     no source, our generic extractor alone and no htmldate (the path before issue 13);
* ``generic:trafilatura``, ``generic:justext``  no source, that body candidate alone (with htmldate;
                       trafilatura as the crawl runs it, without its internal fallbacks);
* ``generic:no-vote``  ``project-generic`` without the voter: ours wherever it has a text;
* ``generic:no-confirm``  ``project-generic`` with trafilatura asked on every page, articleBody or not;
* ``trafilatura``      ``trafilatura.bare_extraction`` with metadata (its defaults);
* ``readability``      readability-lxml's ``Document`` (body and title only);
* ``htmldate``         ``htmldate.find_date`` (dates only, original date, extensive search).

Metrics: body precision / recall / F1 with the Zyte shingle metric
(:mod:`pipelines.extraction.scoring`) on lead + body; title exact match (after
NFC and white-space squashing); date accuracy to the day (the publisher's local
day) and to the minute in UTC (only for systems that return a time); mean
milliseconds per page. Prints a table and writes
``benchmarks/results/eval-<timestamp>.json``.

    python benchmarks/eval.py [--data ../shared/data] [--only fundus|vn] [--systems a,b] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.extraction.scoring import page_counts, prf  # noqa: E402


@dataclass
class Case:
    dataset: str
    name: str
    url: str
    raw: bytes
    title: str | None
    body: str | None
    published: datetime | None
    fetched_at: datetime
    file: Path | None = None


@dataclass
class Result:
    title: str | None = None
    text: str | None = None
    published: datetime | None = None  # aware
    day: str | None = None  # YYYY-MM-DD when only a day is known
    ms: float = 0.0
    error: str | None = None


@dataclass
class Score:
    pages: int = 0
    body_pages: int = 0
    precision: list = field(default_factory=list)
    recall: list = field(default_factory=list)
    title_ok: int = 0
    title_pages: int = 0
    day_ok: int = 0
    day_missing: int = 0
    minute_ok: int = 0
    date_pages: int = 0
    has_time: bool = False
    ms: list = field(default_factory=list)
    errors: int = 0


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


# --------------------------------------------------------------------------- datasets


COUNTRY_ALIASES = {"ind": "in", "isl": "is"}


def gold_date(value: str | None, country: str) -> datetime | None:
    """A fundus publishing_date as an aware datetime.

    About a tenth of them carry no zone: fundus parsers keep the wall time the
    publisher printed. Those are read in the publisher's country's zone (the
    ccTLD table of :mod:`pipelines.dates`; US pages in New York time).
    """
    if not value:
        return None
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        from zoneinfo import ZoneInfo

        from pipelines.dates import _TLD_TZ

        dt = dt.replace(tzinfo=ZoneInfo(_TLD_TZ.get(COUNTRY_ALIASES.get(country, country), "UTC")))
    return dt


SPLIT_FILE = ROOT / "benchmarks" / "fundus_split.json"


def fundus_half(publisher: str) -> str:
    """``tune`` or ``heldout``: the fixed split by publisher (sha256 of the name, even or odd)."""
    split = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["publishers"]
    if publisher in split:
        return split[publisher]
    return "tune" if int(hashlib.sha256(publisher.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "heldout"


def fundus_fetched_at(row: dict) -> datetime:
    """The fetch time assumed for a saved fundus page: ``crawl_date`` states no zone, so it is taken
    as UTC plus 14 hours (the latest it can be anywhere); a date after that is in the future."""
    return datetime.fromisoformat(row["crawl_date"]).replace(tzinfo=timezone.utc) + timedelta(hours=14)


def load_fundus(data: Path, limit: int | None) -> list[Case]:
    base = data / "fundus-pages"
    cases = []
    for line in (base / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cases.append(Case("fundus-" + fundus_half(row["publisher"]), row["html"], row["url"],
                          gzip.decompress((base / row["html"]).read_bytes()), row.get("title"), row.get("body_text"),
                          gold_date(row.get("publishing_date"), row["country"]), fundus_fetched_at(row),
                          base / row["html"]))
    return cases[:limit] if limit else cases


def load_vn(data: Path, limit: int | None) -> list[Case]:
    base = data / "vn-pages"
    gold = {}
    for line in (base / "gold-bodies.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold[row["file"]] = row["body"]
    cases = []
    for line in (base / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        raw = (base / row["file"]).read_bytes()
        if row["file"].endswith(".gz"):
            raw = gzip.decompress(raw)
        cases.append(Case("vn", row["file"], row["url"], raw, row["title"], gold.get(row["file"]) or row.get("body_text"),
                          datetime.fromisoformat(row["published_at_iso"]), datetime(2026, 3, 10, tzinfo=timezone.utc),
                          base / row["file"]))
    return cases[:limit] if limit else cases


# --------------------------------------------------------------------------- systems


def _text(lead: str | None, body: str | None) -> str:
    return "\n\n".join(x for x in (lead, body) if x)


def run_project(case: Case, generic: bool, **options) -> Result:
    from crawler.commands.extract import extract_saved, source_for_url

    source = None if generic else source_for_url(case.url)
    t0 = time.perf_counter()
    item = extract_saved(case.raw, case.url, case.fetched_at, source, **options)
    ms = (time.perf_counter() - t0) * 1000
    return result_of(item, ms)


def result_of(item: dict, ms: float = 0.0) -> Result:
    """What the scorer reads from a project item (a ``process_page`` result or a ``scrapy extract`` line)."""
    published = item.get("published_at")
    if isinstance(published, str):
        published = datetime.fromisoformat(published)
    day = item.get("published_date")
    day = day.isoformat() if hasattr(day, "isoformat") else day
    if item.get("published_at_precision") == "day":
        published = None  # only a day was stated: it is scored as a day, not as midnight
    return Result(item.get("title"), _text(item.get("lead"), item.get("body")), published, day, ms)


def run_trafilatura(case: Case) -> Result:
    import trafilatura

    t0 = time.perf_counter()
    doc = trafilatura.bare_extraction(case.raw, url=case.url, with_metadata=True)
    ms = (time.perf_counter() - t0) * 1000
    if doc is None:
        return Result(ms=ms)
    get = (lambda k: getattr(doc, k, None)) if not isinstance(doc, dict) else doc.get
    return Result(get("title"), get("text"), None, get("date"), ms)


def run_readability(case: Case) -> Result:
    import lxml.html
    from readability import Document

    from pipelines.extraction.tree import blocks

    t0 = time.perf_counter()
    doc = Document(case.raw)
    summary = doc.summary(html_partial=True)
    text = "\n\n".join(blocks(lxml.html.fromstring(summary))) if summary.strip() else ""
    title = doc.short_title()
    ms = (time.perf_counter() - t0) * 1000
    return Result(title, text, None, None, ms)


def run_htmldate(case: Case) -> Result:
    from htmldate import find_date

    t0 = time.perf_counter()
    found = find_date(case.raw, url=case.url, original_date=True, extensive_search=True,
                      outputformat="%Y-%m-%dT%H:%M:%S%z")
    ms = (time.perf_counter() - t0) * 1000
    published = None
    if found and "T" in found:
        try:
            dt = datetime.fromisoformat(found)
            published = dt if dt.tzinfo and (dt.hour or dt.minute) else None
        except ValueError:
            published = None
    return Result(None, None, published, found[:10] if found else None, ms)


SYSTEMS = {
    "project": lambda c: run_project(c, generic=False),
    "project-generic": lambda c: run_project(c, generic=True),
    "generic:ours": lambda c: run_project(c, generic=True, body_candidates=("generic",), use_htmldate=False),
    "generic:trafilatura": lambda c: run_project(c, generic=True, body_candidates=("trafilatura",)),
    "generic:justext": lambda c: run_project(c, generic=True, body_candidates=("justext",)),
    "generic:no-vote": lambda c: run_project(c, generic=True, voters=()),
    "generic:no-confirm": lambda c: run_project(c, generic=True, confirmers=()),
    "trafilatura": run_trafilatura,
    "readability": run_readability,
    "htmldate": run_htmldate,
}
# systems whose library is not in requirements.txt (make eval installs them with --no-deps)
OPTIONAL = {"readability": "readability"}
PROJECT_SYSTEMS = {"project", "project-generic", "generic:ours", "generic:trafilatura", "generic:justext",
                   "generic:no-vote", "generic:no-confirm"}
BODY_SYSTEMS = PROJECT_SYSTEMS | {"trafilatura", "readability"}
TITLE_SYSTEMS = PROJECT_SYSTEMS | {"trafilatura", "readability"}
DATE_SYSTEMS = PROJECT_SYSTEMS | {"trafilatura", "htmldate"}


# --------------------------------------------------------------------------- scoring


def score(system: str, case: Case, res: Result, s: Score) -> dict:
    s.pages += 1
    s.ms.append(res.ms)
    detail: dict = {"case": case.name, "ms": round(res.ms, 2)}
    if res.error:
        s.errors += 1
        detail["error"] = res.error
    if system in BODY_SYSTEMS and case.body:
        tp, fp, fn = page_counts(res.text or "", case.body)
        p, r, f1 = prf(tp, fp, fn)
        s.body_pages += 1
        s.precision.append(p)
        s.recall.append(r)
        detail["f1"] = round(f1, 4)
    if system in TITLE_SYSTEMS and case.title:
        s.title_pages += 1
        ok = _norm(res.title) == _norm(case.title)
        s.title_ok += ok
        detail["title_ok"] = ok
    if system in DATE_SYSTEMS and case.published:
        s.date_pages += 1
        gold_day = case.published.date().isoformat()  # the publisher's local day
        day = res.day
        if res.published is not None:
            s.has_time = True
            day = day or res.published.astimezone(case.published.tzinfo).date().isoformat()
            gold_min = case.published.astimezone(timezone.utc).replace(second=0, microsecond=0)
            got_min = res.published.astimezone(timezone.utc).replace(second=0, microsecond=0)
            s.minute_ok += got_min == gold_min
            detail["minute_ok"] = got_min == gold_min
        s.day_ok += day == gold_day
        s.day_missing += day is None
        detail["day_ok"] = day == gold_day
    return detail


def summarise(s: Score) -> dict:
    p = statistics.fmean(s.precision) if s.precision else None
    r = statistics.fmean(s.recall) if s.recall else None
    f1 = (2 * p * r / (p + r) if p and r else 0.0) if p is not None else None
    return {
        "pages": s.pages,
        "body_pages": s.body_pages,
        "precision": p, "recall": r, "f1": f1,
        "title_exact": s.title_ok / s.title_pages if s.title_pages else None,
        "date_day": s.day_ok / s.date_pages if s.date_pages else None,
        "date_missing": s.day_missing / s.date_pages if s.date_pages else None,
        "date_minute_utc": (s.minute_ok / s.date_pages) if s.date_pages and s.has_time else None,
        "ms_mean": statistics.fmean(s.ms) if s.ms else None,
        "ms_median": statistics.median(s.ms) if s.ms else None,
        "errors": s.errors,
    }


def _fmt(v, pct=False):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v * 100:.1f}%" if pct else f"{v:.4f}" if v < 10 else f"{v:.1f}"
    return str(v)


def print_table(results: dict) -> None:
    head = ["dataset", "system", "pages", "P", "R", "F1", "title", "day", "no day", "minute UTC", "ms/page",
            "median ms"]
    rows = []
    for ds, systems in results.items():
        for name, m in systems.items():
            rows.append([ds, name, _fmt(m["pages"]), _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]),
                         _fmt(m["title_exact"], True), _fmt(m["date_day"], True), _fmt(m.get("date_missing"), True),
                         _fmt(m["date_minute_utc"], True), _fmt(m["ms_mean"]), _fmt(m["ms_median"])])
    _print_rows(head, rows)
    halves = [ds for ds in ("fundus-tune", "fundus-heldout") if ds in results]
    if len(halves) == 2:
        print("\nfundus by half (tune | held-out), per layer:")
        head = ["system", "F1", "title", "day", "minute UTC", "ms/page"]
        rows = []
        for name in results[halves[0]]:
            a, b = results[halves[0]][name], results[halves[1]].get(name, {})
            pair = lambda k, pct=False: f"{_fmt(a.get(k), pct)} | {_fmt(b.get(k), pct)}"  # noqa: E731
            rows.append([name, pair("f1"), pair("title_exact", True), pair("date_day", True),
                         pair("date_minute_utc", True), pair("ms_mean")])
        _print_rows(head, rows)


def _print_rows(head: list, rows: list) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def write_manifest(path: Path, cases: list[Case]) -> None:
    """The manifest that makes ``scrapy extract --manifest`` see what this benchmark sees."""
    with path.open("w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(json.dumps({"file": str(c.file.resolve()), "url": c.url, "fetched_at": c.fetched_at.isoformat()})
                     + "\n")
    print(f"written {path} ({len(cases)} pages): scrapy extract --manifest {path} > out.jsonl; "
          f"python benchmarks/eval.py --score-extract out.jsonl", file=sys.stderr)


def score_extract(path: Path, groups: dict[str, list[Case]]) -> int:
    """Score ``scrapy extract`` output as the ``project`` system, with the same scorer."""
    by_file = {str(c.file.resolve()): c for cs in groups.values() for c in cs}
    scores: dict[str, Score] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        case = by_file.get(str(Path(item["file"]).resolve()))
        if case is not None:
            score("project", case, result_of(item), scores.setdefault(case.dataset, Score()))
    print_table({ds: {"scrapy extract": summarise(s)} for ds, s in scores.items()})
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--only", choices=["fundus", "vn"])
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--details", action="store_true", help="keep per-page scores in the JSON")
    ap.add_argument("--write-manifest", type=Path, metavar="F.jsonl",
                    help="write the `scrapy extract --manifest` input of these pages (file, url, fetched_at) and stop")
    ap.add_argument("--score-extract", type=Path, metavar="OUT.jsonl",
                    help="score `scrapy extract` output (one JSON object a line, `file` as given) and stop")
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"data folder {args.data} not found (pass --data)", file=sys.stderr)
        return 2
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        print(f"unknown systems: {sorted(unknown)}; known: {sorted(SYSTEMS)}", file=sys.stderr)
        return 2
    for system, module in OPTIONAL.items():
        if system in systems and importlib.util.find_spec(module) is None:
            print(f"note: {system} skipped ({module} is not installed; `make eval` installs it)", file=sys.stderr)
            systems.remove(system)
    datasets = {"fundus": load_fundus, "vn": load_vn}
    if args.only:
        datasets = {args.only: datasets[args.only]}

    groups: dict[str, list[Case]] = {}
    for loader in datasets.values():
        for case in loader(args.data, args.limit):
            groups.setdefault(case.dataset, []).append(case)
    if args.write_manifest:
        write_manifest(args.write_manifest, [c for cs in groups.values() for c in cs])
        return 0
    if args.score_extract:
        return score_extract(args.score_extract, groups)

    results: dict = {}
    details: dict = {}
    for ds, cases in groups.items():
        for system in systems:  # warm-up: imports, lazily loaded language data and caches are not page costs
            for case in cases[:10]:
                try:
                    SYSTEMS[system](case)
                except Exception:  # noqa: BLE001 - a failing warm-up shows up again as a counted page error
                    pass
        scores = {system: Score() for system in systems}
        per_page: dict = {system: [] for system in systems}
        for case in cases:  # systems interleaved page by page: a busy machine slows them all alike
            for system in systems:
                try:
                    res = SYSTEMS[system](case)
                except Exception as exc:  # noqa: BLE001 - one broken page must not stop a benchmark
                    res = Result(error=f"{type(exc).__name__}: {exc}")
                per_page[system].append(score(system, case, res, scores[system]))
        results[ds] = {system: summarise(scores[system]) for system in systems}
        details[ds] = per_page
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out / f"eval-{stamp}.json"
    payload = {"created": stamp, "argv": sys.argv[1:], "python": sys.version.split()[0], "results": results}
    if args.details:
        payload["pages"] = details
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
