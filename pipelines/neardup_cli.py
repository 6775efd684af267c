"""``scrapy archive duplicates [--story ARTICLE_ID|URL]``: the copies of a story across sources.

Without ``--story``: one line per archived story that has copies (most copies first): the kept
article, its source and title, how many copies, from which sources, by which methods
(``url``, ``exact``, ``near``). With ``--story``: the kept article, then each copy with its
source, method, similarity, crawl time, title and URL. ``--story`` also takes the URL of a
copy and shows the story it copies. ``--reindex`` adds the archived articles the near-duplicate
index lacks (an archive crawled before the stage existed, a lost index publish, an index of an
earlier format: ``docs/NEARDUP.md``).

A subcommand of ``crawler/commands/archive.py`` (registry entry ``"duplicates":
"pipelines.neardup_cli.Duplicates"``); the queries are plain functions over the archive's DuckDB
views, so they are tested without Scrapy.
"""

from __future__ import annotations

import json
import sys

# The newest version of each archived article (a story may be re-archived with a new version).
_KEPT = """
kept AS (
  SELECT article_id, arg_max(source, version) AS source, arg_max(title, version) AS title,
         arg_max(url, version) AS url, arg_max(published_at, version) AS published_at
  FROM articles GROUP BY article_id)
"""


def stories(con, limit: int = 50, method: str | None = None, source: str | None = None) -> list[dict]:
    """Stories with copies, most copies first."""
    where, args = [], []
    if method:
        where.append("d.method = ?")
        args.append(method)
    if source:
        where.append("(d.source = ? OR k.source = ?)")
        args += [source, source]
    sql = f"""
      WITH {_KEPT}
      SELECT d.article_id, k.source, k.title, count(*) AS copies,
             string_agg(DISTINCT d.source, ', ' ORDER BY d.source) AS copy_sources,
             string_agg(DISTINCT d.method, ',' ORDER BY d.method) AS methods,
             max(d.crawled_at) AS last_copy_at
      FROM duplicates d LEFT JOIN kept k USING (article_id)
      {"WHERE " + " AND ".join(where) if where else ""}
      GROUP BY d.article_id, k.source, k.title
      ORDER BY copies DESC, last_copy_at DESC, d.article_id
      LIMIT {int(limit)}"""
    return _dicts(con.execute(sql, args))


def resolve_story(con, story: str) -> str | None:
    """An article id from an article id, the URL of an archived article or the URL of a copy."""
    row = con.execute(f"WITH {_KEPT} SELECT article_id FROM kept WHERE article_id = ? OR url = ? LIMIT 1",
                      [story, story]).fetchone()
    if row:
        return row[0]
    row = con.execute("SELECT article_id FROM duplicates WHERE duplicate_url = ? LIMIT 1", [story]).fetchone()
    return row[0] if row else None


def story_copies(con, article_id: str) -> dict:
    """``{"story": the kept article or None, "copies": [...]}`` (copies oldest first)."""
    kept = _dicts(con.execute(f"WITH {_KEPT} SELECT * FROM kept WHERE article_id = ?", [article_id]))
    copies = _dicts(con.execute(
        "SELECT source, method, round(CAST(similarity AS DOUBLE), 3) AS similarity, crawled_at, title, duplicate_url AS url, run_id "
        "FROM duplicates WHERE article_id = ? ORDER BY crawled_at, source, duplicate_url", [article_id]))
    return {"story": kept[0] if kept else None, "copies": copies}


def _dicts(cursor) -> list[dict]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _table(rows: list[dict], columns: list[str], out, widths: dict[str, int] | None = None) -> None:
    widths = widths or {}

    def cell(v, c):
        text = "" if v is None else str(v)
        limit = widths.get(c)
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

    cells = [[cell(r.get(c), c) for c in columns] for r in rows]
    w = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(x) for c, x in zip(columns, w)).rstrip() + "\n")
    out.write("  ".join("-" * x for x in w) + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(x) for v, x in zip(r, w)).rstrip() + "\n")


class Duplicates:
    help = "copies of stories across sources: duplicates [--story ARTICLE_ID|URL] [--method near] [--json]"

    def add_arguments(self, parser):
        parser.add_argument("--story", default=None, help="an article id (or URL of the story or of a copy)")
        parser.add_argument("--method", choices=["url", "exact", "near"], default=None)
        parser.add_argument("--source", default=None, help="stories kept or copied by this source")
        parser.add_argument("--limit", type=int, default=50)
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--reindex", action="store_true",
                            help="add archived articles missing from the near-duplicate index, then exit")

    def run(self, archive, opts, out=None) -> int:
        out = out or sys.stdout
        if getattr(opts, "reindex", False):
            from pipelines.neardup_index import reindex

            out.write(json.dumps(reindex(archive)) + "\n")
            return 0
        con = archive.duckdb()
        if opts.story:
            article_id = resolve_story(con, opts.story)
            if article_id is None:
                print(f"no archived story or copy {opts.story!r}", file=sys.stderr)
                return 1
            found = story_copies(con, article_id)
            if opts.method:
                found["copies"] = [c for c in found["copies"] if c["method"] == opts.method]
            if opts.json:
                out.write(json.dumps(found, default=str, ensure_ascii=False, indent=1) + "\n")
                return 0
            s = found["story"] or {}
            out.write(f"story {article_id}  {s.get('source') or '(not in articles)'}  "
                      f"{s.get('published_at') or ''}\n  {s.get('title') or ''}\n  {s.get('url') or ''}\n")
            out.write(f"{len(found['copies'])} cop{'y' if len(found['copies']) == 1 else 'ies'}:\n")
            _table(found["copies"], ["source", "method", "similarity", "crawled_at", "title", "url"], out,
                   {"title": 60})
            return 0
        rows = stories(con, opts.limit, opts.method, opts.source)
        if opts.json:
            for r in rows:
                out.write(json.dumps(r, default=str, ensure_ascii=False) + "\n")
            return 0
        _table(rows, ["article_id", "source", "copies", "copy_sources", "methods", "title"], out, {"title": 70})
        return 0
