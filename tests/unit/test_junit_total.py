"""The suite's closing line adds the unit and lab JUnit files up, and a half that never ran is a failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "junit_total.py"


def _total(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *map(str, paths)], capture_output=True, text=True)


def test_two_halves_add_up_and_a_failure_fails(tmp_path: Path) -> None:
    unit = tmp_path / "unit.xml"
    lab = tmp_path / "lab.xml"
    unit.write_text('<testsuites><testsuite tests="10" failures="0" errors="0" skipped="2"/></testsuites>')
    lab.write_text('<testsuite tests="5" failures="1" errors="0" skipped="1"/>')
    done = _total(unit, lab)
    assert done.stdout.strip() == "total: 11 passed, 1 failed, 3 skipped"
    assert done.returncode == 1
    lab.write_text('<testsuite tests="5" failures="0" errors="0" skipped="1"/>')
    assert _total(unit, lab).returncode == 0


def test_a_missing_half_is_a_failure(tmp_path: Path) -> None:
    unit = tmp_path / "unit.xml"
    unit.write_text('<testsuite tests="3" failures="0" errors="0" skipped="0"/>')
    done = _total(unit, tmp_path / "lab.xml")
    assert done.returncode == 1 and "cannot read" in done.stderr
