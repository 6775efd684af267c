"""Test-only crash points: ``ARCHIVE_FAULT_POINT=<name>:<n>`` SIGKILLs this process the n-th
time the code passes ``fault("<name>")`` (n counts from 1). Unset, ``fault`` costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target: tuple[str, int] | None = None
_loaded = False


def _load() -> None:
    global _target, _loaded
    spec = os.environ.get("ARCHIVE_FAULT_POINT", "")
    if spec:
        name, _, n = spec.rpartition(":")
        _target = (name, int(n)) if name else (spec, 1)
    _loaded = True


def hit(name: str) -> bool:
    """True the n-th time ``name`` is passed, when it is the armed point."""
    if not _loaded:
        _load()
    if _target is None or _target[0] != name:
        return False
    _counts[name] = _counts.get(name, 0) + 1
    return _counts[name] == _target[1]


def kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fault(name: str) -> None:
    if hit(name):
        kill()
