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

import importlib
from typing import Any

# Loaded on first use (PEP 562): a scan only needs `netns.enter`, not the daemons' code.
_LAZY = {
    "topology": ("topology", None),
    "down": ("lifecycle", "down"),
    "ensure_up": ("lifecycle", "ensure_up"),
    "up": ("lifecycle", "up"),
    "enter": ("netns", "enter"),
    "enter_process": ("netns", "enter_process"),
    "run_in": ("netns", "run_in"),
    "LabPaths": ("paths", "LabPaths"),
    "state_dir": ("paths", "state_dir"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(f"{__name__}.{module}")
    return mod if attr is None else getattr(mod, attr)


def status() -> dict[str, Any]:
    """Per namespace/service health of the lab, with an overall ``healthy`` flag."""
    from .health import status as _status
    from .paths import LabPaths

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
