"""Progress outside a terminal (issue 16 item 4): plain lines on stderr in a CI log, a bar only on a terminal."""

from __future__ import annotations

import io

import pytest

from preuve.report.progress import PlainProgress, resolve_mode


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mode_auto_is_bar_on_a_terminal_plain_elsewhere_and_quiet_silences_it():
    assert resolve_mode("auto", quiet=False, stream=Tty()) == "bar"
    assert resolve_mode(None, quiet=False, stream=io.StringIO()) == "plain"
    assert resolve_mode(None, quiet=True, stream=io.StringIO()) == "none"
    assert resolve_mode("plain", quiet=True, stream=Tty()) == "plain", "an explicit mode wins over -q"
    with pytest.raises(ValueError, match="unknown progress mode"):
        resolve_mode("fancy", quiet=False)


def test_plain_lines_count_whole_targets_errors_and_eta():
    out, clock = io.StringIO(), Clock()
    names = [f"h{i}" for i in range(10) for _ in range(2)]  # 10 targets, 2 observations each
    with PlainProgress(names, out, every_seconds=3600, every_percent=25, clock=clock) as p:
        for i in range(10):
            clock.t += 6
            p.observed(f"h{i}", ok=i != 3)  # first observation of each: no target is complete yet
        for i in range(10):
            clock.t += 6
            p.observed(f"h{i}", ok=True)
    lines = out.getvalue().splitlines()
    assert lines[0] == "preuve: observing 10 targets (20 observations)"
    assert lines[1] == "preuve: observed 0/10 targets, 1 error, eta 2m", "25 % of observations, none whole"
    assert lines[2] == "preuve: observed 0/10 targets, 1 error, eta 1m"
    assert lines[3] == "preuve: observed 5/10 targets, 1 error, eta 30s"
    assert lines[-1] == "preuve: observed 10/10 targets, 1 error, done in 2m"
    assert len(lines) == 5, lines


def test_plain_heartbeat_writes_when_nothing_finishes():
    out = io.StringIO()
    with PlainProgress(["a", "b"], out, every_seconds=0.05, every_percent=100) as p:
        import time

        time.sleep(0.4)
        p.observed("a", ok=False)
    lines = out.getvalue().splitlines()
    silent = [x for x in lines if x == "preuve: observed 0/2 targets, 0 errors"]
    assert len(silent) >= 2, lines
    assert lines[-1].startswith("preuve: observed 1/2 targets, 1 error"), "an interrupted phase says how far it got"
