"""Serve a pre-rendered demo world (:mod:`.sitegen`) on 127.0.0.1, fast enough not to be measured.

    python -m benchmarks.perf.server SITE_FOLDER           # prints "serving http://127.0.0.1:PORT"
    python -m benchmarks.perf.server SITE_FOLDER --load 5  # the server alone: a load test, JSON out

One asyncio process, HTTP/1.1 keep-alive, bodies sent from ``mmap``-ed shard files: a request
costs tens of microseconds of server CPU (the load test prints how many). Same wire behaviour
as ``crawler.demo.server`` without faults: gzip when accepted, and the ``truncated`` trap sent
short before the connection closes. A target that was not pre-rendered is rendered on demand
from the world and counted (``GET /__bench__/stats``). Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import mmap
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from benchmarks.perf.sitegen import encode, load

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}
STATS_PATH = "/__bench__/stats"


class Pages:
    def __init__(self, folder: Path):
        self.site = load(folder)
        self.maps = {}
        for path in folder.glob("pages-*.bin"):
            if path.stat().st_size:
                with open(path, "rb") as fh:
                    self.maps[path.name] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.index = self.site.index
        self.requests = 0
        self.bytes = 0
        self.statuses: dict[int, int] = {}
        self.on_demand: dict[str, tuple] = {}
        self._world = None

    def get(self, target: str) -> tuple[int, str, str, memoryview | bytes, bool]:
        e = self.index.get(target)
        if e is not None:
            shard, offset, length, status, ctype, enc, _, truncate = e
            return status, ctype, enc, memoryview(self.maps[shard])[offset:offset + length], truncate
        if target not in self.on_demand:
            if self._world is None:
                from crawler.demo.world import build_world
                self._world = build_world(self.site.n, seed=self.site.seed, pad=self.site.pad)
            self.on_demand[target] = encode(self._world.render(target, self.site.base_url)) + (False,)
        return self.on_demand[target]

    def stats(self) -> dict:
        return {"requests": self.requests, "bytes": self.bytes, "statuses": self.statuses,
                "rendered_on_demand": len(self.on_demand), "on_demand_sample": sorted(self.on_demand)[:20]}


class _Http(asyncio.Protocol):
    pages: Pages

    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes):
        self.buf += data
        while not self.transport.is_closing():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        pages = self.pages
        line, _, headers = head.partition(b"\r\n")
        try:
            method, target, _ = line.decode("latin-1").split(" ", 2)
        except ValueError:
            self.transport.close()
            return
        lower = headers.lower()
        close = b"connection: close" in lower
        if target == STATS_PATH:
            status, ctype, enc, body, truncate = 200, "application/json", "", json.dumps(pages.stats()).encode(), False
        else:
            status, ctype, enc, body, truncate = pages.get(target)
        if enc == "gzip" and b"gzip" not in lower:
            body, enc = gzip.decompress(body), ""
        out = [f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\nServer: BenchNews/1.0\r\n"
               f"Content-Length: {len(body)}\r\nCache-Control: max-age=60\r\n"]
        if ctype:
            out.append(f"Content-Type: {ctype}\r\n")
        if enc:
            out.append(f"Content-Encoding: {enc}\r\nVary: Accept-Encoding\r\n")
        if close or truncate:
            out.append("Connection: close\r\n")
        out.append("\r\n")
        pages.requests += 1
        pages.statuses[status] = pages.statuses.get(status, 0) + 1
        if method == "HEAD":
            self.transport.write("".join(out).encode("latin-1"))
        else:
            self.transport.writelines((("".join(out)).encode("latin-1"), body[: len(body) * 2 // 5] if truncate else body))
            pages.bytes += len(body)
        if close or truncate:
            self.transport.close()


def serve(folder: Path, port: int | None = None, ready=None) -> None:
    pages = Pages(folder)
    port = port or pages.site.port
    loop = asyncio.new_event_loop()
    handler = type("Http", (_Http,), {"pages": pages})
    server = loop.run_until_complete(loop.create_server(handler, "127.0.0.1", port, backlog=512, reuse_address=True))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"serving http://127.0.0.1:{port}", flush=True)
    if ready is not None:
        ready()
    loop.run_until_complete(stop.wait())
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


class ServerProcess:
    """``with ServerProcess(site) as srv:`` the bench server of one site in its own process, stopped by pid."""

    def __init__(self, site):
        self.site = site
        self.proc = None

    def __enter__(self) -> "ServerProcess":
        import subprocess

        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.perf.server", str(self.site.folder)],
                                     stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[2]))
        line = self.proc.stdout.readline()
        if not line.startswith("serving"):
            self.proc.kill()
            raise RuntimeError(f"bench server did not start: {line!r}")
        return self

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.site.base_url + STATS_PATH, timeout=10) as resp:
            return json.loads(resp.read())

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------------- the server alone


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client(port: int, paths: list[bytes], deadline: float, counts: list, i: int) -> None:
    """One keep-alive connection asking for ``paths`` in turn until ``deadline``."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = nbytes = 0
    k = i
    buf = b""
    while time.monotonic() < deadline:
        sock.sendall(b"GET " + paths[k % len(paths)] + b" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        k += 7
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(1 << 20)
        head, _, buf = buf.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(buf) < length:
            buf += sock.recv(1 << 20)
        buf = buf[length:]
        n += 1
        nbytes += length
    sock.close()
    counts[i] = (n, nbytes)


def load_test(folder: Path, seconds: float = 5.0, connections: int = 8) -> dict:
    """Start the server in a child process, hit it with ``connections`` keep-alive clients.

    The clients are Python (one process, threads), so the request rate they reach is a lower
    bound; the server's own CPU time per request gives what one core of it sustains.
    """
    import subprocess

    site = load(folder)
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.perf.server", str(folder)], stdout=subprocess.PIPE,
                            text=True, cwd=str(Path(__file__).resolve().parents[2]))
    try:
        proc.stdout.readline()
        paths = [t.encode() for t, _ in site.article_targets()[:5000]]
        counts: list = [(0, 0)] * connections
        cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        deadline = t0 + seconds
        threads = [threading.Thread(target=_client, args=(site.port, paths, deadline, counts, i))
                   for i in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.monotonic() - t0, _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    n = sum(c[0] for c in counts)
    return {"requests": n, "seconds": round(wall, 3), "requests_per_s": round(n / wall, 1),
            "mb_per_s": round(sum(c[1] for c in counts) / wall / 1e6, 1),
            "server_cpu_us_per_request": round(cpu / max(1, n) * 1e6, 1),
            "server_capacity_per_core_rps": round(n / cpu, 0) if cpu else None,
            "connections": connections, "mean_body_bytes": round(sum(c[1] for c in counts) / max(1, n))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--load", type=float, default=None, metavar="SECONDS", help="run the load test instead")
    args = parser.parse_args(argv)
    if args.load:
        print(json.dumps(load_test(args.folder, args.load), indent=1))
    else:
        serve(args.folder, args.port)


if __name__ == "__main__":
    main()
