"""Pre-render a demo world (``crawler.demo``) once, so that serving it costs almost nothing.

Rendering a 135 KB article page in Python takes ~4 ms and gzipping it ~1 ms: the demo server
doing that per request would be the bottleneck of any crawl faster than ~150 pages/s. Here
every page the demo sources can reach (robots.txt, feeds, sitemaps, listing pages, articles,
trap pages) is rendered by two worker processes with the world's own ``render`` and stored,
gzipped like the demo server sends it, in shard files under
``$BENCH_CACHE/site-n<N>-pad<PAD>-seed<SEED>-<code hash>-p<PORT>/``. Pages hold absolute
links, so a cached site is tied to a port; the next run takes that port again when it is free.
Anything not pre-rendered is rendered on demand by the server (and counted).
"""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing as mp
import os
import pickle
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BENCH_CACHE", "~/.cache/newsarchive-bench")).expanduser()
GZIP_LEVEL = 1          # nginx's default gzip_comp_level
CHUNK = 256
FORMAT = 2              # bump when the layout of a cached site changes


def code_hash() -> str:
    """What the pages depend on: the demo templates and this module's format."""
    h = hashlib.sha256(str(FORMAT).encode())
    for path in sorted((REPO / "crawler" / "demo").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def targets(world) -> list[tuple[str, str]]:
    """``(request target, source name or "")`` of every page a crawl of the demo sources reaches."""
    from crawler.demo import portal
    from crawler.demo.render import feed_paths, sitemap_parts
    from crawler.demo.sites import NEWSPAPER, OUTLET, PORTAL, SITES

    out: list[tuple[str, str]] = [("/robots.txt", ""), ("/", "")]
    for si, site in enumerate(SITES):
        out.append((site.prefix, ""))
        out += [(world.path_of(si, k), site.name) for k in range(world.total[si])]
    for trap in world.trap_pages.values():
        out.append((trap.link, ""))
        if trap.path != trap.link:
            out.append((trap.path, ""))
    out += [(NEWSPAPER.prefix + "rss/" + p, "") for p in feed_paths(world)]
    out += [(OUTLET.prefix + "sitemap.xml", ""), (OUTLET.prefix + "sitemaps/news.xml", "")]
    out += [(OUTLET.prefix + "sitemaps/" + name, "") for name, _, _, _ in sitemap_parts(world)]
    for s_idx, section in enumerate(PORTAL.sections):
        url = PORTAL.prefix + section.slug
        last = max(1, -(-len(world.sec_order[0][s_idx]) // portal.PER_PAGE))
        out.append((url, ""))
        out += [(f"{url}?trang={page}", "") for page in range(1, last + 1)]
    seen: set[str] = set()
    return [t for t in out if not (t[0] in seen or seen.add(t[0]))]


def encode(rendered, truncate: bool = False) -> tuple[int, str, str, bytes]:
    """``(status, content type, content encoding, body)`` as the demo server would send it."""
    body = rendered.body
    ctype = rendered.headers.get("Content-Type", "")
    textual = ctype.startswith(("text/", "application/xml", "application/rss+xml"))
    if not truncate and len(body) > 512 and textual:
        return rendered.status, ctype, "gzip", gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return rendered.status, ctype, "", body


# ---------------------------------------------------------------------- workers

_W: dict = {}


def _init(n: int, pad: int, seed: int, base: str, folder: str) -> None:
    from crawler.demo.world import build_world

    _W["world"] = build_world(n, seed=seed, pad=pad)
    _W["base"] = base
    _W["shard"] = f"pages-{os.getpid()}.bin"
    _W["file"] = open(Path(folder) / _W["shard"], "ab")
    _W["truncated"] = _W["world"].traps["truncated"]


def _render_chunk(chunk: list[tuple[str, str]]) -> list[tuple]:
    world, fh = _W["world"], _W["file"]
    out = []
    for target, source in chunk:
        truncate = target.rstrip("/") == _W["truncated"]
        status, ctype, enc, body = encode(world.render(target, _W["base"]), truncate)
        offset = fh.tell()
        fh.write(body)
        out.append((target, _W["shard"], offset, len(body), status, ctype, enc, source, truncate))
    fh.flush()
    return out


# ---------------------------------------------------------------------- the cached site


@dataclass
class Site:
    folder: Path
    n: int
    pad: int
    seed: int
    port: int
    index: dict           # target -> (shard, offset, length, status, ctype, encoding, source, truncate)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def article_targets(self) -> list[tuple[str, str]]:
        """``(target, source)`` of every article page, in world order."""
        return [(t, e[6]) for t, e in self.index.items() if e[6] and e[3] == 200]

    def body(self, target: str) -> bytes:
        """The page as the crawler sees it after decompression."""
        shard, offset, length, _, _, enc, _, _ = self.index[target]
        with open(self.folder / shard, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        return gzip.decompress(data) if enc == "gzip" else data

    def content_type(self, target: str) -> str:
        return self.index[target][4]

    def stored_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("pages-*.bin"))


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(folder: Path) -> Site:
    meta = pickle.loads((folder / "index.pkl").read_bytes())
    return Site(folder, meta["n"], meta["pad"], meta["seed"], meta["port"], meta["index"])


def prepare(n: int, pad: int, seed: int = 2026, workers: int = 2, log=print) -> Site:
    """The pre-rendered site of this world, from the cache or rendered now."""
    CACHE.mkdir(parents=True, exist_ok=True)
    prefix = f"site-n{n}-pad{pad}-seed{seed}-{code_hash()}-p"
    for folder in sorted(CACHE.glob(prefix + "*")):
        if (folder / "index.pkl").exists() and _port_free(int(folder.name[len(prefix):])):
            log(f"site of {n:,} articles: cached in {folder}")
            return load(folder)
    for stale in CACHE.glob(f"site-n{n}-pad{pad}-seed{seed}-*"):
        shutil.rmtree(stale, ignore_errors=True)        # another code hash, or its port is taken now
    port = _free_port()
    folder = CACHE / f"{prefix}{port}"
    folder.mkdir(parents=True)
    base = f"http://127.0.0.1:{port}"

    from crawler.demo.world import build_world

    todo = targets(build_world(n, seed=seed, pad=pad))
    chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
    log(f"site of {n:,} articles: rendering {len(todo):,} pages with {workers} processes into {folder}")
    t0 = time.monotonic()
    index: dict = {}
    with mp.get_context("fork").Pool(workers, initializer=_init, initargs=(n, pad, seed, base, str(folder))) as pool:
        for i, entries in enumerate(pool.imap(_render_chunk, chunks), 1):
            for e in entries:
                index[e[0]] = e[1:]
            if i % max(1, len(chunks) // 10) == 0:
                log(f"  {len(index):,}/{len(todo):,} pages, {time.monotonic() - t0:.0f} s")
    meta = {"n": n, "pad": pad, "seed": seed, "port": port, "index": index,
            "render_s": time.monotonic() - t0}
    tmp = folder / "index.pkl.tmp"
    tmp.write_bytes(pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, folder / "index.pkl")
    log(f"site of {n:,} articles: {len(index):,} pages rendered in {time.monotonic() - t0:.0f} s")
    return load(folder)
