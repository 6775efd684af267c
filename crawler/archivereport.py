"""What ``scrapy archive report`` shows, computed from the archive with DuckDB (local or ``s3://``).

``collect(archive, days=30)`` returns plain data (dicts, lists, dates); ``crawler/reporthtml.py``
draws it. The window is the ``days`` local days ending at ``end``: by default the latest day any
article of the archive was published on (in its source's zone), so the report of an archive
depends on the archive, not on the clock of the machine that draws it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from crawler.drift import FIELDS, JUDGED, DriftRule

log = logging.getLogger(__name__)

SMALL_FILE_BYTES = 8 << 20      # a Parquet file smaller than this is "small"
COMPACT_DUE_SMALL_FILES = 8     # a partition with this many small files is due for `archive compact`
LATEST_RUNS = 8                 # runs shown per source
TOP_STORIES = 15
SYNDICATION_METHODS = ("exact", "near")   # `url` duplicates are aliases of one page, not copies


def _zones(names) -> dict[str, str]:
    from crawler.sources import SourceError, registry

    zones = {}
    for name in names:
        try:
            zones[name] = registry().get(name).timezone
        except (SourceError, KeyError):
            zones[name] = "UTC"  # a source no longer declared: its days in UTC
    return zones


def _maps(row: dict) -> dict:
    for key in ("dropped", "http_errors"):
        value = row.get(key)
        if isinstance(value, list):  # DuckDB may hand maps back as key/value lists
            row[key] = {kv["key"]: kv["value"] for kv in value}
        elif value is None:
            row[key] = {}
    return row


def _dicts(cur) -> list[dict]:
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, r)) for r in cur.fetchall()]


def collect(archive, days: int = 30, end: date | None = None, rule: DriftRule | None = None,
            latest_runs: int = LATEST_RUNS) -> dict:
    """Everything the report shows, for ``days`` local days ending at ``end`` (see the module doc)."""
    rule = rule or DriftRule()
    days = max(1, int(days))
    con = archive.duckdb(skip_corrupt=True)
    con.execute("SET TimeZone = 'UTC'")  # timestamps come back in UTC, whatever the machine's zone
    names = sorted({r[0] for r in con.execute(
        "SELECT DISTINCT source FROM articles UNION SELECT DISTINCT source FROM runs").fetchall()})
    zones = _zones(names)
    con.execute("CREATE TEMP TABLE zones (source VARCHAR, tz VARCHAR)")
    if zones:
        con.executemany("INSERT INTO zones VALUES (?, ?)", list(zones.items()))
    if end is None:
        end = con.execute("SELECT max(CAST(timezone(z.tz, a.published_at) AS DATE)) FROM articles a "
                          "JOIN zones z USING (source)").fetchone()[0]
        end = end or datetime.now(timezone.utc).date()
    start = end - timedelta(days=days - 1)
    lo = datetime.combine(start - timedelta(days=1), datetime.min.time(), timezone.utc)
    hi = datetime.combine(end + timedelta(days=2), datetime.min.time(), timezone.utc)
    daily: dict[str, dict[date, int]] = {n: {} for n in names}
    for source, day, n in _per_local_day(con, lo, hi):
        if start <= day <= end:
            daily[source][day] = n
    totals = {s: (n, undated, last) for s, n, undated, last in con.execute(
        "SELECT source, count(*), count(*) FILTER (WHERE published_at IS NULL), max(crawled_at) "
        "FROM articles GROUP BY source").fetchall()}
    authors = {(s, r): (share, n) for s, r, share, n in con.execute(
        "SELECT source, run_id, avg(CASE WHEN len(coalesce(authors, [])) > 0 THEN 1.0 ELSE 0.0 END), count(*) "
        "FROM articles GROUP BY ALL").fetchall()}
    runs = [_maps(r) for r in _dicts(con.execute("SELECT * FROM runs ORDER BY started_at, source"))]
    judged = _judged_days(con, runs, zones, rule)
    sources = []
    for name in names:
        history = [r for r in runs if r["source"] == name]
        sources.append(_source(name, zones[name], start, end, daily[name], totals.get(name, (0, 0, None)),
                               history, authors, rule, latest_runs, judged.get(name, {})))
    return {
        "archive": archive.display_uri,
        "generated_at": datetime.now(timezone.utc),
        "start": start, "end": end, "days": days,
        "rule": rule,
        "sources": sources,
        "syndication": _syndication(con, names),
        "health": health(archive),
        "runs": len({r["run_id"] for r in runs}),
    }


def _per_local_day(con, lo: datetime, hi: datetime) -> list[tuple[str, date, int]]:
    """``(source, local publication day, articles)`` for articles published from ``lo`` to ``hi`` (UTC)."""
    return con.execute(
        "SELECT a.source, CAST(timezone(z.tz, a.published_at) AS DATE) AS day, count(*) FROM articles a "
        "JOIN zones z USING (source) WHERE a.published_at >= ? AND a.published_at < ? GROUP BY ALL",
        [lo, hi]).fetchall()


def _judged_days(con, runs, zones, rule) -> dict[str, dict[date, int]]:
    """``{source: {local day: articles}}`` over the days the count rule reads for each source's
    latest run (``DriftRule.count_days``): the same counts the run report judged that run with."""
    spans = {}
    for r in runs:  # ordered by started_at: the last one of a source wins
        spans[r["source"]] = rule.count_days(r, zones.get(r["source"], "UTC"))
    out: dict[str, dict[date, int]] = {name: {} for name in spans}
    if not spans:
        return out
    lo = datetime.combine(min(f for f, _ in spans.values()) - timedelta(days=1), datetime.min.time(), timezone.utc)
    hi = datetime.combine(max(t for _, t in spans.values()) + timedelta(days=2), datetime.min.time(), timezone.utc)
    for source, day, n in _per_local_day(con, lo, hi):
        if source in spans and spans[source][0] <= day <= spans[source][1]:
            out[source][day] = n
    return out


def _source(name, tz, start, end, daily, totals, history, authors, rule, latest_runs, judged_days) -> dict:
    n_days = (end - start).days + 1
    series = [(start + timedelta(days=i), daily.get(start + timedelta(days=i), 0)) for i in range(n_days)]
    completeness = []
    for r in history:
        values = {f: r.get(f"completeness_{f}") for f in FIELDS}
        if values["authors"] is None:  # a runs row written before completeness_authors: from its articles
            values["authors"] = authors.get((name, r["run_id"]), (None, 0))[0]
        completeness.append({"run_id": r["run_id"], "started_at": r["started_at"], "archived": r["articles_archived"],
                             **values})
    alerts, status_alert = [], None
    if history:  # the drift rule whatever the latest status (failed and not_fetched runs are not `degraded`)
        latest = history[-1]
        alerts = rule.assess(history[:-1], latest, judged_days, tz)
        if latest["status"] not in JUDGED:
            status_alert = f"latest run {latest['run_id']}: {latest['status']} ({latest.get('notes') or 'no notes'})"
    shown = history[-latest_runs:]
    http_errors: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for r in shown:
        for code, n in r["http_errors"].items():
            http_errors[code] = http_errors.get(code, 0) + n
        for reason, n in r["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + n
    ok = [r for r in history if r["status"] in JUDGED]
    return {
        "name": name, "timezone": tz, "daily": series, "in_window": sum(n for _, n in series),
        "articles": totals[0], "undated": totals[1], "last_archived": totals[2],
        "last_success": ok[-1]["started_at"] if ok else None,
        "latest_runs": list(reversed(shown)), "http_errors": http_errors, "dropped": dropped,
        "completeness": completeness, "alerts": alerts, "status_alert": status_alert,
    }


def _syndication(con, names) -> dict:
    methods = ", ".join(f"'{m}'" for m in SYNDICATION_METHODS)
    con.execute(f"CREATE TEMP TABLE copies AS SELECT article_id, source AS copier FROM duplicates "
                f"WHERE method IN ({methods})")
    con.execute("CREATE TEMP TABLE kept AS SELECT article_id, any_value(source) AS source, "
                "arg_min(title, version) AS title FROM articles "
                "WHERE article_id IN (SELECT article_id FROM copies) GROUP BY article_id")
    top = _dicts(con.execute(
        "SELECT k.article_id, k.title, k.source, count(*) AS copies, list(DISTINCT c.copier ORDER BY c.copier) "
        "AS copied_by FROM kept k JOIN copies c USING (article_id) GROUP BY ALL "
        f"ORDER BY copies DESC, k.title LIMIT {TOP_STORIES}"))
    pairs = con.execute("SELECT k.source, c.copier, count(*) FROM kept k JOIN copies c USING (article_id) "
                        "GROUP BY ALL").fetchall()
    involved = sorted({p[0] for p in pairs} | {p[1] for p in pairs})
    matrix = [[0] * len(involved) for _ in involved]
    for original, copier, n in pairs:
        matrix[involved.index(original)][involved.index(copier)] = n
    total = con.execute("SELECT count(*) FROM copies").fetchone()[0]
    return {"top": top, "sources": involved, "matrix": matrix, "copies": total}


def health(archive) -> dict:
    """Rows, bytes, files and small files per partition; whether `compact` is due; the last `verify`."""
    partitions = archive.stats()
    small: dict[tuple[str, str], int] = {}
    for dataset in ("articles", "duplicates", "runs"):
        sizes = {o.key: o.size for o in archive.backend.list(f"{dataset}/")}
        for key in archive.files(dataset):
            if sizes.get(key, 0) < SMALL_FILE_BYTES:
                part = (dataset, key[len(dataset) + 1: key.rfind("/")])
                small[part] = small.get(part, 0) + 1
    due = []
    for p in partitions:
        p["small_files"] = small.get((p["dataset"], p["partition"]), 0)
        if p["small_files"] >= COMPACT_DUE_SMALL_FILES:
            due.append(f"{p['dataset']}/{p['partition']}")
    totals = {}
    for p in partitions:
        t = totals.setdefault(p["dataset"], {"rows": 0, "bytes": 0, "files": 0, "small_files": 0})
        for k in t:
            t[k] += p[k]
    return {"partitions": partitions, "totals": totals, "compact_due": due,
            "small_file_bytes": SMALL_FILE_BYTES, "compact_due_small_files": COMPACT_DUE_SMALL_FILES,
            "verify": archive.last_verify()}


def write(archive, out: str, days: int = 30, end: date | None = None, rule: DriftRule | None = None) -> dict:
    """Collect, draw and write the page to the local path ``out`` (replaced whole, never half-written)."""
    import os
    import tempfile
    import time

    from crawler.reporthtml import render

    t0 = time.perf_counter()
    data = collect(archive, days=days, end=end, rule=rule)
    t1 = time.perf_counter()
    page = render(data).encode("utf-8")
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return {"path": out, "bytes": len(page), "collect_s": t1 - t0, "total_s": time.perf_counter() - t0,
            "sources": len(data["sources"]), "degraded": [s["name"] for s in data["sources"] if s["alerts"]]}
