"""Process bookkeeping: pid files, liveness, killing, waiting for a port.

Daemons are reparented to PID 1 once they daemonize. On some machines PID 1
does not reap orphans, so a dead daemon lingers as a zombie: liveness must
look at the process state, not just at whether the pid exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

from . import netns
from .topology import ADMIN_NS


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def alive(pid: int | None) -> bool:
    """True if ``pid`` runs (exists and is not a zombie)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[-1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def ancestors() -> set[int]:
    """This process and its ancestors: never killed, even if inside a lab namespace."""
    seen: set[int] = set()
    pid = os.getpid()
    while pid > 0 and pid not in seen:
        seen.add(pid)
        pid = _ppid(pid)
    return seen


def kill_all(pids: list[int], grace: float = 0.5) -> None:
    """SIGTERM, then SIGKILL whatever still runs after ``grace`` seconds.

    The calling process and its ancestors are spared (a shell or pytest
    started inside pv-admin may call ``down()``).
    """
    spared = ancestors()
    pids = [p for p in pids if p not in spared and p > 1]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = [p for p in pids if alive(p)]
            if not pids:
                return
            time.sleep(0.02)


def port_answers(address: str, port: int, ns: str = ADMIN_NS, timeout: float = 0.5) -> bool:
    """True if a TCP connect from namespace ``ns`` to address:port succeeds."""
    try:
        with netns.enter(ns), socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(address: str, port: int, deadline: float, ns: str = ADMIN_NS) -> bool:
    """Poll :func:`port_answers` until it succeeds or ``deadline`` (monotonic) passes."""
    while True:
        if port_answers(address, port, ns, timeout=0.3):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.03)
