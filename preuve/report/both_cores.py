"""Two groups of report writers at once, one in a forked child process, so that the end of a run uses both cores.

Why: the end of a run writes a dozen outputs from the same results (report.html, OSCAL, CSV, SARIF, JUnit...):
~0.15 s of pure Python at 1,200 results, on one core while the other idles. A forked child shares the results
already in memory (nothing re-read, nothing pickled), writes its files and exits; each writer writes its own files
atomically, so the bytes are the same either way (tests/unit/test_report_both_cores.py).

The child runs only the writers handed to it, whose modules are loaded before the fork: it needs no lock that
another thread of the run could hold (by then the TLS reactor waits in epoll, the observation workers have
ended). It ignores SIGINT and SIGTERM (the run decides what an interrupt means), and ends with ``os._exit``: none of
the run's exit handlers run twice. A failure in the child is raised here, as the writer's own would have been.
``PREUVE_SERIAL_OUTPUTS=1``, or a platform without fork, writes both groups here, one after the other.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable


class OutputError(Exception):
    """A report writer failed in the child process."""


def _serial() -> bool:
    return not hasattr(os, "fork") or os.environ.get("PREUVE_SERIAL_OUTPUTS") == "1"


# Below this many results the writers take a few milliseconds: a fork (~5 ms with its exit) would cost more.
FORK_FROM = 200


def both(aside: Callable[[], None], here: Callable[[], None], results: int = FORK_FROM) -> None:
    """Run ``aside`` in a forked child and ``here`` in this process; return once both are done. ``results``: how
    many results the writers write (a small run writes both groups here, one after the other)."""
    if results < FORK_FROM or _serial():
        aside()
        here()
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        code = 0
        try:
            aside()
        except BaseException as exc:  # told to the parent, which raises it
            os.write(write_end, f"{type(exc).__name__}: {exc}".encode()[:4000])
            code = 1
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        here()
    finally:
        said = b""
        with os.fdopen(read_end, "rb") as told:
            said = told.read()
        _, status = os.waitpid(pid, 0)
    if status != 0:
        detail = said.decode(errors="replace") or f"wait status {status}"
        raise OutputError(f"a report writer failed: {detail}")
