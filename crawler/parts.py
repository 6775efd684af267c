"""``scrapy crawlall --processes N``: one run crawled by N processes on this machine.

One Python process crawls on one core: its engine, parsing and extraction share the GIL. With
``--processes N`` the command is a parent that

1. checks everything as a one-process run does (exit 2 before crawling), takes the archive's
   crawl lock and picks the run id;
2. spreads the sources over N child processes by the requests their last crawls made (heaviest
   first to the least loaded part; round robin over the sorted names when none was crawled), the
   lightest part first (it publishes first, so a part done early does not idle), each a
   ``scrapy crawlall --part <run_id>.p<k>`` of its share: its own crawlers, journal and
   published files under the part's run id (the convention of distributed workers:
   ``split_part(run_id, '.', 1)`` is the run's), logging into the run's one log file;
3. lets the parts publish their copy decisions one after another, in part order (a part's last
   segment waits until every earlier part has exited), so that which copy of a story two parts
   both hold is kept does not depend on which finished first;
4. writes the run report: every source's ``runs`` row, as its part built it, under the run's id,
   and the run's manifest naming its parts; prints one report; exit code as one process would.

SIGINT/SIGTERM are passed on to every part (each stops as one crawl does on that signal); a
part dies with the parent (``PR_SET_PDEATHSIG``), publishing what it had. Distributed mode
(many machines) is :mod:`crawler.distributed`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from crawler.partfiles import PART_ROWS

logger = logging.getLogger(__name__)

_NOT_PASSED = ("RUN_ID", "RUN_JOB", "RUN_PART_DIR")  # each part gets its own


def process_count(value, settings) -> int:
    """``--processes`` (else CRAWL_PROCESSES; 0 or unset: this machine's cores). ValueError names the fault."""
    raw = value if value not in (None, "") else settings.get("CRAWL_PROCESSES", 0)
    try:
        n = int(str(raw).strip())
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"--processes {raw!r}: must be a whole number, 0 (this machine's {os.cpu_count()} "
                         f"cores) or more")
    return n or os.cpu_count() or 1


def spread(names: list[str], n: int, work: dict[str, float] | None = None) -> list[list[str]]:
    """The sources of each part (at most one part per source, none empty), each part's sorted,
    the lightest part first.

    With ``work`` (a source's expected requests: :func:`expected_work`), heaviest first, each
    source goes to the part with the least work so far (the longest-processing-time rule; ties:
    fewer sources, then the earlier part); a source it does not know counts as the median of those
    it knows. Without any: round robin over the sorted names.

    The parts publish their copy decisions in part order, a part that is done waiting until every
    earlier part has exited. Lightest first, a part that is done early publishes and exits (its
    memory freed) instead of idling until the heaviest one is done; the order stays fixed by the
    sources and their history, never by which part finished first."""
    names = sorted(names)
    n = max(1, min(n, len(names)))
    work = work or {}
    known = [w for name, w in work.items() if name in names and w > 0]
    if not known:
        return sorted((names[k::n] for k in range(n)), key=lambda g: (len(g), g))
    typical = statistics.median_high(known)
    weight = {name: work.get(name) or typical for name in names}
    loads = [0.0] * n
    groups: list[list[str]] = [[] for _ in range(n)]
    for name in sorted(names, key=lambda x: (-weight[x], x)):
        k = min(range(n), key=lambda i: (loads[i], len(groups[i]), i))
        loads[k] += weight[name]
        groups[k].append(name)
    lightest_first = sorted(range(n), key=lambda k: (loads[k], len(groups[k]), sorted(groups[k])))
    return [sorted(groups[k]) for k in lightest_first]


def expected_work(archive, names: list[str], runs: int = 5) -> dict[str, float]:
    """Requests each source is expected to make: the median of its last ``runs`` crawls in the
    archive's ``runs`` rows (a one-off rerun of a few URLs moves it little). Sources never crawled
    are left out; an archive whose runs cannot be read gives {} (the name round robin)."""
    try:
        table = archive.read_table("runs", columns=["source", "started_at", "requests"], skip_corrupt=True)
    except Exception as exc:  # noqa: BLE001 - only the spread of the sources depends on it
        logger.warning("could not read earlier runs to spread the sources by size (%s): spread by name", exc)
        return {}
    wanted = set(names)
    history: dict[str, list[tuple]] = {}
    for row in table.to_pylist():
        if row["source"] in wanted and row["requests"] is not None and row["started_at"] is not None:
            history.setdefault(row["source"], []).append((row["started_at"], row["requests"]))
    out = {}
    for source, got in history.items():
        out[source] = float(statistics.median_high(r for _, r in sorted(got)[-runs:]))
    return out


def part_ids(run_id: str, n: int) -> list[str]:
    return [f"{run_id}.p{k + 1}" for k in range(n)]


# ---------------------------------------------------------------------- the parent's side


def part_command(settings, names: list[str], spider_args: dict, part_id: str, folder: Path, log: str) -> list[str]:
    """The child's command line: the parent's command-line settings and spider arguments."""
    from scrapy.settings import SETTINGS_PRIORITIES

    cmd = [sys.executable, "-m", "scrapy", "crawlall", "--sources", ",".join(names), "--processes", "1",
           "--part", part_id, "--part-dir", str(folder), "--part-log", log]
    for name in sorted(settings.attributes):
        if name in _NOT_PASSED or settings.getpriority(name) != SETTINGS_PRIORITIES["cmdline"]:
            continue
        value = settings.get(name)
        text = value if isinstance(value, str) else json.dumps(value if not hasattr(value, "copy_to_dict")
                                                               else value.copy_to_dict())
        cmd += ["-s", f"{name}={text}"]
    if (settings.get("PROGRESS") or "auto") in ("auto", "live"):
        cmd += ["-s", "PROGRESS=log"]  # one terminal: no live table per part
    for key, value in sorted(spider_args.items()):
        cmd += ["-a", f"{key}={value}"]
    return cmd


def run_parts(settings, names: list[str], spider_args: dict, processes: int) -> int:
    """Crawl ``names`` in ``processes`` child processes as one run; print the report; the exit code."""
    from crawler.commands._report import (
        EXIT_ARCHIVE,
        EXIT_OK,
        EXIT_SOURCE,
        _not_started,
        error,
        preflight,
        start_locked_run,
    )
    from crawler.runreport import mark_unpublished, print_report, summary_line
    from crawler.session import acquire, release

    from scrapy.utils.log import configure_logging

    configure_logging(settings)  # no crawler runs in this process: its log goes to stderr as Scrapy's would
    spider_args = dict(spider_args or {})
    checked = preflight(settings, names, spider_args)
    if isinstance(checked, int):
        return checked
    _, archive = checked
    work = expected_work(archive, names)
    groups = spread(names, processes, work)
    started = start_locked_run(settings, archive, "scrapy crawlall --processes")
    if isinstance(started, int):
        return started
    run_id, lock, runlog = started
    folder = Path(tempfile.mkdtemp(prefix=f"newsarchive-{run_id}-parts-"))
    ids = part_ids(run_id, len(groups))
    procs: list[subprocess.Popen] = []
    rows: list[dict] = []
    codes: dict[str, int] = {}
    session = None

    def forward(signum, frame):
        logger.warning("signal %d: passed on to the %d crawl processes", signum, len(procs))
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = EXIT_OK
    try:
        # the run's own session: recovery of dead journals and the seen state's catch-up happen once,
        # here, before any part starts; it journals the report rows and writes the run's manifest
        session = acquire(settings)
        session.load_seen()
        # each source with the requests its last runs made (a source never crawled: "new")
        shown = {x: (f"{x} (~{work[x]:.0f} requests)" if x in work else f"{x} (new)") if work else x for x in names}
        logger.info("run %s: %d sources in %d processes (%s): %s", run_id, len(names), len(groups),
                    "by their last runs' requests" if work else "by name",
                    "; ".join(f"{p} {', '.join(shown[x] for x in g)}" for p, g in zip(ids, groups)))
        for part_id, group in zip(ids, groups):
            cmd = part_command(settings, group, spider_args, part_id, folder, str(runlog.path))
            # its own session: a Ctrl-C on the terminal reaches the parts once, passed on by the parent
            procs.append(subprocess.Popen(cmd, start_new_session=True))
        for part_id, proc in zip(ids, procs):
            (folder / f"go-{part_id}").touch()  # every earlier part has exited: this one may publish
            codes[part_id] = proc.wait()
        for part_id, group in zip(ids, groups):
            rows += _part_rows(folder, part_id, group, run_id, codes[part_id], len(groups), _not_started)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for proc in procs:  # an exception above: no part outlives the parent
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
        if session is not None:
            for row in rows:
                session.add_run_row(row)
            try:
                release(session, {"processes": len(groups), "parts": dict(zip(ids, groups)),
                                  "part_exit_codes": codes})
            except Exception:  # noqa: BLE001 - reported from the session below
                pass
            if session.commit_error:
                mark_unpublished(rows, session.commit_error)
                code = EXIT_ARCHIVE
        shutil.rmtree(folder, ignore_errors=True)
        if code == EXIT_OK and any(c == EXIT_ARCHIVE for c in codes.values()):
            code = EXIT_ARCHIVE
        rows.sort(key=lambda r: r["source"])
        if code == EXIT_OK and any(r["status"] != "ok" for r in rows):
            code = EXIT_SOURCE
        lock.release()
        if lock.lost:
            error("the crawl lock was taken over during the run (see the log)")
        print_report(rows, "crawlall", archive.display_uri, runlog.location)
        runlog.finish([summary_line(r) for r in rows] + [f"exit code {code}"])
    return code


def _part_rows(folder: Path, part_id: str, group: list[str], run_id: str, exit_code: int, n: int,
               not_started) -> list[dict]:
    """The report rows of one part, under the run's id; a source it did not report is failed."""
    from storage.rows import loads

    path = folder / PART_ROWS.format(part=part_id)
    got = loads(path.read_text()) if path.exists() else {"rows": []}
    rows = []
    for row in got["rows"]:
        row["run_id"] = run_id
        note = f"crawled by {part_id} ({n} processes)"
        row["notes"] = "; ".join(x for x in (row.get("notes"), note) if x)
        rows.append(row)
    for name in sorted(set(group) - {r["source"] for r in rows}):
        row = not_started(name, run_id, None)
        row["notes"] = f"its crawl process {part_id} exited with code {exit_code} before reporting (see the log)"
        rows.append(row)
    return rows

