"""The Parquet format of the archive, on an open file: it never knows where the bytes go.

Like Scrapy's exporters: ``write_table(table, file, dataset)`` writes to any binary
file object; ``check_file(path, rows)`` reads the footer back before anything is published.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import CorruptFile
from .schema import DICTIONARY_COLUMNS, SCHEMAS, SORT_KEYS

ROW_GROUP_ROWS = 100_000  # DuckDB parallelises per row group; ~100k rows is its sweet spot
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 6


@dataclass(frozen=True)
class FileInfo:
    rows: int
    bytes: int
    sha256: str


def to_table(dataset: str, rows: list[dict]) -> pa.Table:
    """Normalized row dicts -> a table of the dataset's schema, sorted by its sort keys."""
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[dataset])
    return sort_table(dataset, table)


def sort_table(dataset: str, table: pa.Table) -> pa.Table:
    keys = [k for k in SORT_KEYS[dataset] if k[0] in table.column_names]
    return table.sort_by(keys) if keys and table.num_rows > 1 else table


def write_table(table: pa.Table, file, dataset: str) -> None:
    """Write ``table`` (already sorted) as one Parquet file to the open binary ``file``."""
    schema = SCHEMAS[dataset]
    table = table.cast(schema) if table.schema != schema else table
    sorting = [
        pq.SortingColumn(schema.get_field_index(name), descending=(order == "descending"))
        for name, order in SORT_KEYS[dataset]
    ]
    with pq.ParquetWriter(
        file,
        schema,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=DICTIONARY_COLUMNS[dataset],
        coerce_timestamps="us",
        allow_truncated_timestamps=False,
        write_statistics=True,
        write_page_index=True,
        write_page_checksum=True,
        sorting_columns=sorting,
        version="2.6",
    ) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


def check_file(path: str, expected_rows: int | None = None, key: str | None = None) -> FileInfo:
    """Read the footer of a local file; raise ``CorruptFile`` unless it is whole and as expected."""
    name = key or str(path)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException) as exc:
        raise CorruptFile(name, exc) from exc
    if expected_rows is not None and meta.num_rows != expected_rows:
        raise CorruptFile(name, f"{meta.num_rows} rows in footer, {expected_rows} written")
    return FileInfo(rows=meta.num_rows, bytes=size, sha256=digest.hexdigest())


def write_file(table: pa.Table, path: str, dataset: str) -> FileInfo:
    """Write, fsync and check one local file."""
    import os

    with open(path, "wb") as fh:
        write_table(table, fh, dataset)
        fh.flush()
        os.fsync(fh.fileno())
    return check_file(path, table.num_rows)
