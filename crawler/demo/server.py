"""Local HTTP server for the demo sites (127.0.0.1 only).

    with DemoServer() as srv:            # or srv = DemoServer(); base = srv.start(); ...; srv.stop()
        urllib.request.urlopen(srv.base_url + "/kinhte/sitemap.xml")

    python -m crawler.demo.server [--port N] [--faults slow,robots] [--articles N] [--pad BYTES]

HTTP/1.1 with keep-alive and ``Content-Length``; gzip when the request accepts
it. ``server.requests`` logs every request as ``(path_with_query, status)``
(status 0: the connection was cut on purpose).

Fault switches (all off by default; ``faults=("slow", ...)``; the affected
paths are ``world.fault_targets()[name]``, real articles unless said otherwise):

``slow``             3 outlet articles answer after ``slow_seconds`` (1.5 s).
``ratelimit``        3 newspaper articles answer 429 with ``Retry-After: 2`` to
                     their first request, then normally.
``burst500``         3 portal articles answer 500 to their first 2 requests,
                     then normally.
``reset``            2 articles (newspaper, outlet): the first request's
                     connection is reset (RST, no response), then normal.
``robots``           robots.txt disallows ``/baobinhduong/doanh-nghiep/``.
``redirect_private`` 1 portal article answers 302 to the same path on
                     ``http://127.0.0.2:PORT`` (nothing listens there).
``redirect_offsite`` 1 newspaper article answers 301 to
                     ``http://example.invalid/<same path>``.
``gzip_bomb``        1 outlet article answers with ``Content-Encoding: gzip``
                     and ~100 KB that inflate to 101 MiB of spaces, whatever
                     the request accepts.
``xml_bomb``         ``/baobinhduong/rss/tin-moi.rss`` becomes a billion-laughs
                     document (nested entities in a DOCTYPE).
``undated``          every portal (``demo_binhduong_portal``) article page is served
                     without its date line, its only date: a redesign that lost it.

Always on (see ``crawler/demo/traps.py``): ``world.traps["truncated"]`` is sent
with a Content-Length larger than the bytes sent before the connection closes.
"""

from __future__ import annotations

import argparse
import gzip
import re
import socket
import struct
import threading
import time
import zlib
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.demo import feeds
from crawler.demo.render import robots
from crawler.demo.sites import PORTAL
from crawler.demo.world import DemoWorld, build_world

FAULTS = ("slow", "ratelimit", "burst500", "reset", "robots", "redirect_private", "redirect_offsite",
          "gzip_bomb", "xml_bomb", "undated")
_PORTAL_DATE = re.compile(rb'<div class="news-date">[^<]*</div>')


class _Cut(Exception):
    """The handler cut the connection on purpose."""


@lru_cache(maxsize=1)
def gzip_bomb_bytes() -> bytes:
    """~100 KB of gzip that inflates to 101 MiB (built once)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    out = [comp.compress(b"<html><body>")]
    out += [comp.compress(chunk) for _ in range(101)]
    out.append(comp.flush())
    return b"".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True       # headers and body go out at once, no 40 ms delayed-ACK stall
    server_version = "DemoNews/1.0"
    demo: "DemoServer"

    def log_message(self, *args):  # quiet
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _Cut:
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool):
        demo, target = self.server.demo, self.path
        path = urlsplit(target).path
        key = path.rstrip("/") or "/"
        status, headers, body = demo.respond(target, key, self.headers.get("Host"))
        if status == -1:                                   # reset
            demo.log(target, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
            raise _Cut()
        truncate = key == demo.world.traps["truncated"]
        if not truncate and "Content-Encoding" not in headers and len(body) > 512 \
                and "gzip" in (self.headers.get("Accept-Encoding") or "") and _textual(headers):
            body = gzip.compress(body, compresslevel=1 if len(body) > 65536 else 5, mtime=0)
            headers = dict(headers, **{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        demo.log(target, status)
        if head:
            return
        if truncate:
            self.wfile.write(body[: len(body) * 2 // 5])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def _textual(headers: dict) -> bool:
    ctype = headers.get("Content-Type", "")
    return ctype.startswith(("text/", "application/xml", "application/rss+xml"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class DemoServer:
    def __init__(self, world: DemoWorld | None = None, host: str = "127.0.0.1", port: int = 0, faults=(),
                 slow_seconds: float = 1.5):
        if host != "127.0.0.1":
            raise ValueError("the demo server binds 127.0.0.1 only")
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
        self.world = world or build_world()
        self.host, self.port = host, port
        self.faults = frozenset(faults)
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, int]] = []
        self.request_times: list[float] = []  # time.monotonic() of each entry of ``requests``
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        targets = self.world.fault_targets()
        self._targets = {name: set(paths) for name, paths in targets.items() if name in self.faults}

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {})
        self._httpd = _Server((self.host, self.port), handler)
        self._httpd.demo = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"demo-server-{self.port}", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "DemoServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ behaviour

    def log(self, target: str, status: int) -> None:
        with self._lock:
            self.requests.append((target, status))
            self.request_times.append(time.monotonic())

    def _count(self, key: str) -> int:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def _hit(self, fault: str, key: str) -> bool:
        return key in self._targets.get(fault, ())

    def respond(self, target: str, key: str, host_header: str | None):
        """(status, headers, body) for one request, faults applied; status -1 means reset."""
        base = f"http://{host_header}" if host_header else self.base_url
        if key == "/robots.txt" and "robots" in self.faults:
            return robots(base, tuple(self.world.fault_targets()["robots"]))
        if self._hit("slow", key):
            time.sleep(self.slow_seconds)
        if self._hit("reset", key) and self._count("reset:" + key) == 1:
            return -1, {}, b""
        if self._hit("ratelimit", key) and self._count("429:" + key) == 1:
            return 429, {"Retry-After": "2", "Content-Type": "text/plain; charset=utf-8"}, b"Too Many Requests"
        if self._hit("burst500", key) and self._count("500:" + key) <= 2:
            return 500, {"Content-Type": "text/plain; charset=utf-8"}, b"Internal Server Error"
        if self._hit("redirect_private", key):
            return 302, {"Location": f"http://127.0.0.2:{self.port}{target}"}, b""
        if self._hit("redirect_offsite", key):
            return 301, {"Location": f"http://example.invalid{target}"}, b""
        if self._hit("gzip_bomb", key):
            return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, gzip_bomb_bytes()
        if self._hit("xml_bomb", key):
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, feeds.billion_laughs_rss(base + key)
        rendered = self.world.render(target, base)
        if "undated" in self.faults and key.startswith(PORTAL.prefix) and self.world.locate(key):
            rendered = rendered._replace(body=_PORTAL_DATE.sub(b"", rendered.body))
        return rendered


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve the bundled demo news sites on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--faults", default="", help=f"comma-separated, from: {', '.join(FAULTS)}")
    parser.add_argument("--articles", type=int, default=None, help="distinct articles in the world (default 175)")
    parser.add_argument("--pad", type=int, default=0, help="extra bytes per article page")
    args = parser.parse_args(argv)
    faults = tuple(f for f in args.faults.split(",") if f)
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    server = DemoServer(build_world(args.articles, pad=args.pad), port=args.port, faults=faults)
    server.start()
    print(f"serving {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
