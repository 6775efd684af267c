"""The archive's datasets and their columns: the analysts' contract.

Changing a column here is a schema change of the archive: add columns at the
end with a default, never rename or retype one in place.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("version", pa.int16(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("canonical_url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("region", pa.string()),
        pa.field("country", pa.string()),
        pa.field("language", pa.string()),
        pa.field("title", pa.string()),
        pa.field("lead", pa.string()),
        pa.field("body", pa.string()),
        pa.field("authors", pa.list_(pa.string())),
        pa.field("section", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("image_captions", pa.list_(pa.string())),
        pa.field("published_at", TS),
        pa.field("published_at_raw", pa.string()),
        pa.field("modified_at", TS),
        pa.field("modified_at_raw", pa.string()),
        pa.field("crawled_at", TS, nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("word_count", pa.int32()),
        pa.field("field_sources", pa.map_(pa.string(), pa.string())),
        pa.field("discovered_via", pa.string()),
        pa.field("http_status", pa.int16()),
        pa.field("run_id", pa.string(), nullable=False),
        # added by issue 13 (files written before lack them; readers fill nulls, see ADDED_COLUMNS)
        pa.field("published_at_offset", pa.int16()),  # minutes east of UTC the page stated (or the source's zone)
        pa.field("published_at_precision", pa.string()),  # day | minute | second
        pa.field("published_date", pa.date32()),  # publication day in that offset
    ]
)

# Columns added after the first files were written: a file without them still reads, with nulls.
ADDED_COLUMNS = {"articles": ("published_at_offset", "published_at_precision", "published_date"),
                 "runs": ("completeness_authors",)}

DUPLICATE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),  # the kept copy
        pa.field("duplicate_url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # the duplicate's source
        pa.field("title", pa.string()),
        pa.field("similarity", pa.float32()),
        pa.field("method", pa.string(), nullable=False),  # url | exact | near
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("crawled_at", TS, nullable=False),
    ]
)

# Columns whose few distinct values make dictionary encoding pay off.
DICTIONARY_COLUMNS = {
    "articles": ["source", "region", "country", "language", "section", "discovered_via", "run_id",
                 "published_at_precision"],
    "duplicates": ["source", "method", "run_id"],
    "runs": ["run_id", "source", "status"],
}

# Sort order inside each file, so min/max statistics prune by source and date.
SORT_KEYS = {
    "articles": [("source", "ascending"), ("published_at", "ascending"), ("article_id", "ascending")],
    "duplicates": [("source", "ascending"), ("crawled_at", "ascending")],
    "runs": [("started_at", "ascending"), ("source", "ascending")],
}

SCHEMAS = {"articles": ARTICLE_SCHEMA, "duplicates": DUPLICATE_SCHEMA}

# One row per crawl of one source, written by the operations step through `Run.accept("runs", row)`.
RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS),
        pa.field("status", pa.string(), nullable=False),  # finished | failed | killed | ...
        pa.field("requests", pa.int64()),
        pa.field("article_pages_fetched", pa.int64()),
        pa.field("articles_found", pa.int64()),
        pa.field("articles_archived", pa.int64()),
        pa.field("duplicates_skipped", pa.int64()),
        pa.field("dropped", pa.map_(pa.string(), pa.int64())),  # reason -> count
        pa.field("http_errors", pa.map_(pa.string(), pa.int64())),  # status -> count
        pa.field("completeness_title", pa.float64()),
        pa.field("completeness_body", pa.float64()),
        pa.field("completeness_date", pa.float64()),
        pa.field("bytes_downloaded", pa.int64()),
        pa.field("duration_s", pa.float64()),
        pa.field("publish_delay_s", pa.float64()),  # how late the archive answered, if it was down
        pa.field("crawler_version", pa.string()),
        pa.field("notes", pa.string()),
        # added by issue 15 (runs rows written before lack it; readers fill nulls, see ADDED_COLUMNS)
        pa.field("completeness_authors", pa.float64()),  # share of archived articles with an author
    ]
)

SCHEMAS["runs"] = RUN_SCHEMA

# The column whose UTC month names the `month=` partition of a row (None -> "undated").
PARTITION_TIME_COLUMN = {"articles": "published_at", "duplicates": "crawled_at", "runs": "started_at"}
