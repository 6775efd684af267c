"""Near-duplicate lookup cost as the index grows, on the demo world's bodies.

    .venv/bin/python benchmarks/neardup_growth.py [ARTICLES] [MAX_SEGMENTS]

Indexes the bodies of a demo world of ARTICLES articles (default 40000) in a local archive in a
temporary folder, publishing every 2,000 as a crawl does; at each fifth of the way it times 500
lookups of the next bodies and prints CPU ms per lookup, the live segments and the CPU spent
publishing (compactions included) so far. Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.demo.world import DemoWorld  # noqa: E402
from pipelines.neardup_index import NearDupIndex  # noqa: E402
from pipelines.neardup_signature import DEFAULT, signature  # noqa: E402
from storage import open_archive  # noqa: E402


def main(n: int = 40000, max_segments: int = 4) -> None:
    world = DemoWorld(n_articles=n)
    sigs = [signature("\n\n".join(world._body(si, k)), DEFAULT)
            for si in range(len(world.total)) for k in range(world.total[si])]
    with tempfile.TemporaryDirectory() as tmp:
        index = NearDupIndex(open_archive(f"{tmp}/archive").backend, DEFAULT, max_segments=max_segments)
        step, publishing = len(sigs) // 5, 0.0
        print(f"{len(sigs)} bodies, at most {max_segments} segments")
        for i, sig in enumerate(sigs):
            if i and i % step == 0 and i + 500 <= len(sigs):
                started = time.process_time()
                for q in sigs[i : i + 500]:
                    index.lookup(q)
                ms = (time.process_time() - started) * 1000 / 500
                print(f"{i:>8} indexed: lookup {ms:.2f} ms, {len(index.segments)} segments, "
                      f"publishing {publishing:.1f} s so far", flush=True)
            if sig.shingles >= DEFAULT.min_shingles:
                index.add(format(i, "016x"), sig)
            if len(index.pending) >= 2000:
                started = time.process_time()
                index.publish("growth")
                publishing += time.process_time() - started


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
