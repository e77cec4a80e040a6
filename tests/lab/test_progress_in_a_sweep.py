"""Progress lines in a CI log during a 200-host sweep of the lab fleet. Progress modes without the lab:
tests/unit/test_progress.py."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FULL_PROFILE, preuve

LINE = re.compile(r"^preuve: observed (\d+)/(\d+) targets, (\d+) errors?(, eta \S+|, done in \S+)?$")


FLEET = 200


@pytest.mark.lab
def test_ci_log_shows_progress_lines_during_a_200_host_sweep(lab, tmp_path):
    """As in a CI job: stderr is a pipe, no option given; the log gets plain lines while the sweep runs."""
    from preuve_lab import fleet

    info = fleet.up(FLEET)
    try:
        proc = preuve(
            "run",
            "-i",
            info["inventory"],
            "-p",
            FULL_PROFILE,
            "-o",
            tmp_path / "run",
            "--select",
            "SSH-*",
            env={"PREUVE_PROGRESS_SECONDS": "5", "PREUVE_PROGRESS_PERCENT": "10"},
            timeout=600,
        )
    finally:  # the fleet's 150 addresses would be undeclared live hosts to every later scan of pv-prod
        import preuve_lab

        fleet.stop(preuve_lab.LabPaths.current())
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    lines = [x for x in proc.stderr.splitlines() if x.startswith("preuve: observed")]
    assert f"preuve: observing {FLEET} targets" in proc.stderr
    assert len(lines) >= 5, proc.stderr[-3000:]
    counts = []
    for x in lines:
        m = LINE.match(x)
        assert m, x
        assert int(m.group(2)) == FLEET
        counts.append(int(m.group(1)))
    assert counts == sorted(counts) and counts[-1] == FLEET
    assert any(0 < c < FLEET for c in counts), "lines come while the sweep runs, not only at its end"
    assert "eta" in " ".join(lines[:-1]) and "done in" in lines[-1]
    assert "\x1b[" not in proc.stderr, "no terminal control sequences in a CI log"
