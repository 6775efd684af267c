"""Why a request failed, as one short reason, and whether trying again later makes sense.

Used by the spider's errbacks, so the run report counts ``http_503``,
``timeout``, ``too_large``, ``offsite_redirect``... instead of exception class
names, and the seen-URL state (:mod:`storage.seen`) knows which failures are
final (never requested again by discovery) and which are retried by a later run.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

# seen-URL outcome per reason; None: not recorded (asked again next run)
GONE_STATUSES = {404, 410}


class RefusedRequest(IgnoreRequest):
    """A request our safety rules refused; ``reason`` names the rule."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class RobotsUnreachable(IgnoreRequest):
    """robots.txt could not be read (5xx or no answer): the host is not crawled this run."""


def classify(exc: BaseException) -> tuple[str, str | None]:
    """``(reason, seen outcome)`` of a failed request's exception.

    Seen outcomes: ``gone`` and ``refused`` are final, ``failed`` is retried by a
    later run, None is not recorded at all.
    """
    if isinstance(exc, RefusedRequest):
        return exc.reason, "refused"
    if isinstance(exc, RobotsUnreachable):
        return "robots_unreachable", None
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", ("gone" if status in GONE_STATUSES else "failed")
    message = str(exc)
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return "robots_forbidden", None
        if "DOWNLOAD_MAXSIZE" in message or "max size" in message.lower():
            return "too_large", "refused"
        if "max redirections" in message:
            return "redirect_loop", "refused"
        if "offsite" in message.lower():
            return "offsite", "refused"
        return "ignored", None
    name = type(exc).__name__
    lowered = (name + " " + message).lower()
    if "maxsize" in lowered or "max size" in lowered or "download_maxsize" in lowered:
        return "too_large", "refused"
    if "timeout" in lowered or "timedout" in lowered:
        return "timeout", "failed"
    if "dnslookup" in lowered:
        return "dns_error", "failed"
    if "dataloss" in lowered:
        return "truncated", "failed"
    if "cancelled" in lowered:
        return "cancelled", "failed"
    if any(w in lowered for w in ("connection", "responsefailed", "responsenever", "reset")):
        return "connection_error", "failed"
    return name, "failed"
