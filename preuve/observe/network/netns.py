"""Enter a named network namespace for a scan or a vantage point: any namespace `ip netns` names, not only the lab's.

The engine does not depend on the lab (lab/netns.py keeps its own `pv-` guard for what the lab creates and
deletes). A namespace is named as `ip netns add` names it: a file in /run/netns. Whether it exists is an input
question, answered before anything is scanned (`problem`): the run never dies half-way on a missing namespace.
setns(2) on a network namespace moves only the calling thread, so other threads keep their view.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000


def path_of(ns: str) -> Path:
    return NETNS_DIR / ns


def problem(ns: str) -> str | None:
    """Why `ns` cannot be entered (a sentence for an input error), or None when it can."""
    if not ns or "/" in ns or ns in (".", ".."):
        return f"{ns!r} is not a network namespace name (a name `ip netns list` shows)"
    if not path_of(ns).exists():
        names = sorted(p.name for p in NETNS_DIR.iterdir()) if NETNS_DIR.is_dir() else []
        return f"network namespace {ns!r} does not exist (ip netns list: {', '.join(names) or 'none'})"
    return None


def _setns(fd: int) -> None:
    import ctypes  # here: a run that enters no namespace does not load it

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _open(ns: str) -> int:
    why = problem(ns)
    if why is not None:
        raise FileNotFoundError(why)
    return os.open(path_of(ns), os.O_RDONLY | os.O_CLOEXEC)


@contextmanager
def enter(ns: str) -> Iterator[None]:
    """Move the calling thread into `ns` for the block, then back (sockets and threads made inside live in it)."""
    target = _open(ns)
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(orig)
    finally:
        os.close(orig)


@contextmanager
def vantage(ns: str | None) -> Iterator[None]:
    """Run the block from namespace ``ns`` (None or "": from where the caller is). A namespace that cannot be
    entered is an ObservationError naming it: that observation is an error, never a pass."""
    if not ns:
        yield
        return
    from preuve.observe.errors import ObservationError

    try:
        ctx = enter(ns)
        ctx.__enter__()
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise ObservationError(f"vantage namespace {ns} unavailable: {exc}") from None
    try:
        yield
    finally:
        ctx.__exit__(None, None, None)


def enter_process(ns: str) -> None:
    """Move the main thread into `ns` for good, before any other thread starts (a helper process)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("enter_process() must be called from the main thread")
    target = _open(ns)
    try:
        _setns(target)
    finally:
        os.close(target)
