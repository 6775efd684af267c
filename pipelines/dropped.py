"""Why a pipeline step dropped a page: a typed ``DropItem``, read by its attributes, never its text.

Every step raises :class:`Dropped` with the reason the run report counts (``no_title``,
``duplicate_exact``, ``duplicate_near``, ``unchanged``, ``outside_window``, ...) and the
details that explain it (``kept``, ``similarity``, ...). The message is only for the log.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

DUPLICATE_PREFIXES = ("duplicate", "near")


class Dropped(DropItem):
    """A page dropped for ``reason``; ``details`` say more (e.g. ``kept``: the id of the archived copy)."""

    def __init__(self, reason: str, message: str, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


def reason_of(exception) -> str:
    """The reason a step gave, or ``dropped`` for a ``DropItem`` raised by anything else."""
    if isinstance(exception, Dropped) and exception.reason:
        return exception.reason
    return "dropped"


def is_duplicate(reason: str) -> bool:
    """True for the outcomes that are copies of an archived article (counted as duplicates, not drops)."""
    return reason.startswith(DUPLICATE_PREFIXES)
