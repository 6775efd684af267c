"""Starting and stopping the servers tests need (SeaweedFS, Redis), by process id."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess

_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_ports(n: int) -> list[int]:
    """``n`` ports free on 127.0.0.1 now, for a server started after this returns.

    They are drawn below the kernel's ephemeral range: a port that ``bind(0)`` gives out is also
    what the next outgoing connection of any process may take as its local port before the server
    binds it (CI saw SeaweedFS's filer fail with "address already in use" that way). Ports handed
    out once in this process are not handed out again."""
    low = 20000
    high = min(_ephemeral_range()[0], 32768) - 1
    ports: list[int] = []
    while len(ports) < n:
        port = random.randint(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        ports.append(port)
    return ports


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
