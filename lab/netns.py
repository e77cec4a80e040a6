"""Named network namespaces: create, list, delete, run a command or a thread inside.

Only ``pv-`` namespaces are accepted: the lab must never act on the host's
own network namespace or on someone else's.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from preuve.observe.network import netns as engine_netns

from .topology import NS_PREFIX

NETNS_DIR = engine_netns.NETNS_DIR


def check_name(ns: str) -> str:
    """Return ``ns`` if it is a lab namespace name, else raise ValueError."""
    if not ns.startswith(NS_PREFIX) or "/" in ns or len(ns) <= len(NS_PREFIX):
        raise ValueError(f"not a lab namespace: {ns!r} (must start with {NS_PREFIX!r})")
    return ns


def exists(ns: str) -> bool:
    return (NETNS_DIR / check_name(ns)).exists()


def list_lab() -> list[str]:
    """All ``pv-*`` namespaces currently named on the machine (ours or stale)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(NS_PREFIX))


def add(ns: str) -> None:
    subprocess.run(["ip", "netns", "add", check_name(ns)], check=True, capture_output=True)


def delete(ns: str) -> None:
    """Delete the namespace's name; its veths vanish once no process holds it."""
    subprocess.run(["ip", "netns", "delete", check_name(ns)], check=False, capture_output=True)


def pids(ns: str) -> list[int]:
    """Pids of the processes whose network namespace is ``ns``."""
    proc = subprocess.run(["ip", "netns", "pids", check_name(ns)], capture_output=True, text=True, check=False)
    return [int(tok) for tok in proc.stdout.split() if tok.isdigit()]


def run_in(ns: str, argv: list[str], **kw: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(argv)`` inside namespace ``ns`` (via ``ip netns exec``).

    Keyword arguments go to :func:`subprocess.run`; output is captured as text
    unless the caller says otherwise.
    """
    kw.setdefault("capture_output", not ({"stdout", "stderr"} & kw.keys()))
    kw.setdefault("text", True)
    kw.setdefault("check", False)
    return subprocess.run(["ip", "netns", "exec", check_name(ns), *argv], **kw)


def ip_batch(ns: str, commands: list[str]) -> None:
    """Run ``ip`` commands inside ``ns`` in one process (``ip -n NS -batch -``)."""
    proc = subprocess.run(
        ["ip", "-n", check_name(ns), "-batch", "-"],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ip -n {ns} -batch failed: {proc.stderr.strip()}")


def _checked(ns: str) -> str:
    """A lab namespace that exists, with the lab's own hint when it does not."""
    if not (NETNS_DIR / check_name(ns)).exists():
        raise FileNotFoundError(f"network namespace {ns} absent: run `preuve lab up`")
    return ns


@contextmanager
def enter(ns: str) -> Iterator[None]:
    """Move the calling thread into lab namespace ``ns`` for the block, then back (the engine's setns wrapper).

    setns(2) on a network namespace affects only the calling thread, so other threads keep the host view. Sockets,
    threads and subprocesses created in the block live in ``ns``. ``/sys`` is not remounted: use sockets or
    ``/proc/sys/net`` (per thread), not ``/sys/class/net``.
    """
    with engine_netns.enter(_checked(ns)):
        yield


def enter_process(ns: str) -> None:
    """Move the calling thread into lab namespace ``ns`` for good (no restore), before any other thread starts."""
    engine_netns.enter_process(_checked(ns))
