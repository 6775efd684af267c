"""The spider's ``-a`` arguments, checked before anything is crawled.

``scrapy crawl`` and ``scrapy crawlall`` call :func:`parse_arguments` first, so a
malformed argument stops the command with one line naming it (exit code 2)
instead of a traceback from inside the spider's constructor.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}
SPIDER_ARGUMENTS = ("since", "until", "urls", "urls_file", "dry_run", "max_articles", "retry_failed")


class SpiderArgumentError(ValueError):
    """A ``-a`` argument is malformed; the message names it."""


def _parse_day(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SpiderArgumentError(f"-a {name}={value!r}: expected a date as YYYY-MM-DD") from None


def _parse_bool(name: str, value) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise SpiderArgumentError(f"-a {name}={value!r}: expected 1 or 0")


def _read_urls(urls: str | None, urls_file: str | None) -> list[str]:
    found: list[str] = []
    if urls:
        found += [u.strip() for u in urls.split(",") if u.strip()]
    if urls_file:
        path = Path(urls_file)
        if not path.is_file():
            raise SpiderArgumentError(f"-a urls_file={urls_file!r}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpiderArgumentError(f"-a urls_file={urls_file!r}: cannot be read ({exc})") from None
        found += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not found:
            raise SpiderArgumentError(f"-a urls_file={urls_file!r}: holds no URL")
    for u in found:
        if not u.startswith(("http://", "https://")):
            raise SpiderArgumentError(f"-a urls: {u!r} is not an http(s) URL")
    return found


def parse_arguments(kwargs: dict) -> dict:
    """Check every ``-a`` argument; return them parsed. Raises :class:`SpiderArgumentError`."""
    unknown = sorted(set(kwargs) - set(SPIDER_ARGUMENTS))
    if unknown:
        raise SpiderArgumentError(
            f"unknown spider argument -a {unknown[0]}; known: {', '.join(SPIDER_ARGUMENTS)}")
    since = _parse_day("since", kwargs.get("since"))
    until = _parse_day("until", kwargs.get("until"))
    if since and until and since > until:
        raise SpiderArgumentError(f"-a since={kwargs['since']} is after -a until={kwargs['until']}")
    max_articles = kwargs.get("max_articles")
    try:
        max_articles = int(max_articles) if max_articles not in (None, "") else None
    except ValueError:
        raise SpiderArgumentError(f"-a max_articles={max_articles!r}: expected a whole number") from None
    if max_articles is not None and max_articles < 1:
        raise SpiderArgumentError(f"-a max_articles={max_articles!r}: must be at least 1")
    return {
        "since": since,
        "until": until,
        "urls": _read_urls(kwargs.get("urls"), kwargs.get("urls_file")),
        "dry_run": _parse_bool("dry_run", kwargs.get("dry_run")),
        "max_articles": max_articles,
        "retry_failed": _parse_bool("retry_failed", kwargs.get("retry_failed")),
    }
