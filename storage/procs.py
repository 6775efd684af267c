"""Is the process that wrote a lock on this machine still running? (the S3 archive lock, the crawl lock)

A pid alone is not enough: pids are reused, so a lock records its holder's start time too
(``/proc/<pid>/stat`` field 22, clock ticks since boot) and, where it matters across reboots,
the machine's boot id. What cannot be read counts as alive: a lock is never broken on a guess.
"""

from __future__ import annotations

import os


def boot_id() -> str:
    """This boot's id ('' when unknown)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or []."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def pid_start(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot ('' when unknown)."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def pid_alive(pid: int, start: str = "") -> bool:
    """False when ``pid`` runs no more on this machine: gone, a zombie, or reused by a process
    started at another time than ``start``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):
        return False  # exited, not yet reaped: it holds nothing
    if start and len(fields) > 19 and fields[19] != start:
        return False  # the pid was reused by a later process
    return True
