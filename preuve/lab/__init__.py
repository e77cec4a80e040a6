"""Local lab: real sshd and nginx, good and weak, in pv-* network namespaces.

The demo, the tests and the bench all scan this lab. Public API::

    up(force=False) -> dict      # lab.json content; idempotent
    down() -> None               # idempotent, crash-safe
    status() -> dict             # per namespace / service health
    ensure_up() -> dict
    state_dir() -> Path
    run_in(ns, argv, **kw)       # subprocess.run inside a namespace
    enter(ns)                    # context manager: this thread inside ns
    enter_process(ns)            # this process (main thread) inside ns, no way back
"""

from __future__ import annotations

from typing import Any

from . import topology
from .health import status as _status
from .lifecycle import down, ensure_up, up
from .netns import enter, enter_process, run_in
from .paths import LabPaths, state_dir


def status() -> dict[str, Any]:
    """Per namespace/service health of the lab, with an overall ``healthy`` flag."""
    return _status(LabPaths.current())


__all__ = [
    "LabPaths",
    "down",
    "ensure_up",
    "enter",
    "enter_process",
    "run_in",
    "state_dir",
    "status",
    "topology",
    "up",
]
