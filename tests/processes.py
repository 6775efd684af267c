"""Starting and stopping the servers tests need (SeaweedFS, Redis), by process id."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess


def die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the process that started it dies (Linux).

    A test worker killed by a timeout never reaches its fixture's teardown; without this its
    server would outlive it. Teardown still stops the server by pid in every normal case.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_process(proc: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM by pid, SIGKILL after ``grace`` seconds, and reap it."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
