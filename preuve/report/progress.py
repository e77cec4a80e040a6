"""Progress of the observation phase where people look: a bar on a terminal, plain lines in a CI log.

A CI job or a Kubernetes Job has no terminal: a rich bar there prints nothing useful (or control characters) until
the end of a three-hour sweep. `plain` writes one self-contained line on stderr every `every_seconds` seconds (a
heartbeat, also when nothing finished: CI runners kill jobs that stay silent) and each time another `every_percent`
of the observations is done, then a closing line:

    preuve: observed 412/1200 targets, 3 errors, eta 4m

"targets" are counted whole: a target is observed when every observation planned for it is recorded. "errors" are
observations that could not be made (unreachable, timeout, refused sudo…): the same `error` a report will show. The
eta extrapolates the observations' pace so far (it is absent until one observation ended).

Modes (`--progress`): `auto` = `bar` when stderr is a terminal, else `plain`; `none` = silent (also what `-q` means
unless `--progress` is given). The interval is `PREUVE_PROGRESS_SECONDS` (default 30) and `PREUVE_PROGRESS_PERCENT`
(default 10): a CI log of a 200-host sweep gets about ten lines, not 200.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TextIO

MODES = ("auto", "bar", "plain", "none")


def resolve_mode(mode: str | None, *, quiet: bool, stream: TextIO | None = None) -> str:
    """The concrete mode: `bar`, `plain` or `none`. `-q` silences progress unless a mode was asked for."""
    stream = stream or sys.stderr
    if mode in (None, "", "auto"):
        if quiet:
            return "none"
        return "bar" if stream.isatty() else "plain"
    if mode not in MODES:
        raise ValueError(f"unknown progress mode {mode!r} (one of {', '.join(MODES)})")
    return mode


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


class PlainProgress:
    """Counts observations per target and writes a plain line on a clock and on percent steps."""

    def __init__(
        self,
        target_names: Iterable[str],
        stream: TextIO | None = None,
        *,
        every_seconds: float | None = None,
        every_percent: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pending = Counter(target_names)  # observations still to come, per target
        self.total_targets = len(self.pending)
        self.total = sum(self.pending.values())
        self.stream = stream or sys.stderr
        self.every_seconds = every_seconds or _env_number("PREUVE_PROGRESS_SECONDS", 30)
        self.every_percent = every_percent or _env_number("PREUVE_PROGRESS_PERCENT", 10)
        self.clock = clock
        self.done = 0
        self.errors = 0
        self.targets_done = 0
        self.started = clock()
        self.last_line = self.started
        self.last_step = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def line(self) -> str:
        elapsed = self.clock() - self.started
        text = f"preuve: observed {self.targets_done}/{self.total_targets} targets, {self.errors} error"
        text += "" if self.errors == 1 else "s"
        if 0 < self.done < self.total:
            text += f", eta {_duration(elapsed / self.done * (self.total - self.done))}"
        elif self.done >= self.total:
            text += f", done in {_duration(elapsed)}"
        return text

    def _write(self) -> None:
        self.last_line = self.clock()
        try:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the scan
            pass

    def observed(self, target: str, ok: bool) -> None:
        """One observation recorded (from an engine worker thread)."""
        with self.lock:
            self.done += 1
            self.errors += 0 if ok else 1
            self.pending[target] -= 1
            if self.pending[target] == 0:
                self.targets_done += 1
            step = int(self.done * 100 / self.total // self.every_percent) if self.total else 0
            if step > self.last_step and self.done < self.total:
                self.last_step = step
                self._write()

    def _heartbeat(self) -> None:
        while not self.stopped.wait(min(1.0, self.every_seconds)):
            with self.lock:
                if self.clock() - self.last_line >= self.every_seconds:
                    self._write()

    def __enter__(self) -> PlainProgress:
        with self.lock:
            self.stream.write(f"preuve: observing {self.total_targets} targets ({self.total} observations)\n")
            self.stream.flush()
        self.thread = threading.Thread(target=self._heartbeat, daemon=True, name="preuve-progress")
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        with self.lock:
            self._write()  # the closing line, also after an interruption (it then says how far it got)
