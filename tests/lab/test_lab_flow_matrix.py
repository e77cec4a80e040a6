"""The lab's flow matrix lints clean against the running lab (its namespaces must exist). The matrix input,
its lint and the probe plan without the lab: tests/unit/test_segmentation_inputs.py."""

from __future__ import annotations

from pathlib import Path

from preuve.exitcodes import Exit
from tests.conftest import REPO, preuve


def lint(inv: Path) -> tuple[int, str]:
    proc = preuve("lint", "-i", inv)
    return proc.returncode, proc.stderr


def test_lab_matrix_is_valid(lab_up):  # lint also checks that the namespaces the inventory names exist
    proc = preuve("lint", "-i", REPO / "inventories" / "lab.yaml")
    assert proc.returncode == Exit.COMPLIANT, proc.stderr
