"""Rows as plain dicts: validation against the schema, partition paths, the journal's JSON codec.

Nothing here knows where bytes go or how Parquet is laid out.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timezone

import pyarrow as pa

from .errors import InvalidRow
from .schema import PARTITION_TIME_COLUMN, SCHEMAS

# Names that become path segments (source names, run ids): no "/", no "..", no leading dot.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UNDATED = "undated"


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is safe as one path segment, else raise ``InvalidRow``."""
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise InvalidRow(what, f"{value!r} is not a valid {what} (letters, digits, _ . -; no '..', '/')")
    return value


def check_month(value: str) -> str:
    if value != UNDATED and not _MONTH_RE.match(value):
        raise InvalidRow("month", f"{value!r} is not YYYY-MM or {UNDATED!r}")
    return value


def duplicate_row(kept: str, url: str, source: str, title: str | None, similarity: float, method: str,
                  run_id: str, crawled_at: datetime) -> dict:
    """The ``duplicates`` row of a copy of the archived article ``kept`` (``method``: ``url``,
    ``exact`` or ``near``): written by the dedupe and near-duplicate steps and by the publisher."""
    return {
        "article_id": kept,
        "duplicate_url": url,
        "source": source,
        "title": title,
        "similarity": similarity,
        "method": method,
        "run_id": run_id,
        "crawled_at": crawled_at,
    }


def hash64(text: str) -> int:
    """A stable 64-bit key of a string (blake2b), used by the dedupe state."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _as_utc(value: object, dataset: str, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidRow(dataset, f"{name}: naive datetime {value!r}; give an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        # Parquet stores microseconds; keep exactly what will be read back.
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            return _as_utc(datetime.fromisoformat(value), dataset, name)
        except ValueError:
            pass
    raise InvalidRow(dataset, f"{name}: {value!r} is not a datetime")


def _as_date(value: object, dataset: str, name: str) -> date:
    if isinstance(value, datetime):
        raise InvalidRow(dataset, f"{name}: {value!r} is a datetime; give the date itself")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidRow(dataset, f"{name}: {value!r} is not a date")


def normalize(dataset: str, row: dict) -> dict:
    """Validate ``row`` against the dataset's schema; return a new dict with every column."""
    schema = SCHEMAS.get(dataset)
    if schema is None:
        raise InvalidRow(dataset, f"unknown dataset; expected one of {sorted(SCHEMAS)}")
    if not isinstance(row, dict):
        raise InvalidRow(dataset, f"row must be a dict, not {type(row).__name__}")
    unknown = set(row) - set(schema.names)
    if unknown:
        raise InvalidRow(dataset, f"unknown columns {sorted(unknown)}")
    out = {}
    for field in schema:
        value = row.get(field.name)
        if value is None and not field.nullable:
            raise InvalidRow(dataset, f"{field.name} is required")
        if pa.types.is_timestamp(field.type):
            value = _as_utc(value, dataset, field.name)
        elif pa.types.is_date(field.type) and value is not None:
            value = _as_date(value, dataset, field.name)
        elif pa.types.is_map(field.type) and value is not None:
            if not isinstance(value, dict):
                raise InvalidRow(dataset, f"{field.name} must be a dict")
            value = {str(k): v for k, v in value.items()}
        elif pa.types.is_list(field.type) and value is not None:
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise InvalidRow(dataset, f"{field.name} must be a list")
            value = list(value)
        out[field.name] = value
    check_name(out["source"], "source") if "source" in out else None
    check_name(out["run_id"], "run_id")
    return out


def month_of(dataset: str, row: dict) -> str:
    value = row.get(PARTITION_TIME_COLUMN[dataset])
    if value is None:
        return UNDATED
    return value.astimezone(timezone.utc).strftime("%Y-%m")


def partition_of(dataset: str, row: dict) -> str:
    """The partition folder of a row, relative to the dataset: ``site=x/month=YYYY-MM``."""
    month = check_month(month_of(dataset, row))
    if dataset == "runs":
        return f"month={month}"
    return f"site={check_name(row['source'], 'source')}/month={month}"


# ------------------------------------------------------------------ journal JSON codec
def _default(value: object):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    raise TypeError(f"cannot journal {type(value).__name__}")


def _hook(obj: dict):
    if len(obj) == 1 and "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    if len(obj) == 1 and "$d" in obj:
        return date.fromisoformat(obj["$d"])
    return obj


def dumps(obj: object) -> str:
    return json.dumps(obj, default=_default, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> object:
    return json.loads(text, object_hook=_hook)
