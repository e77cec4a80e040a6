"""Lab fixtures: the local lab (real daemons in network namespaces) and one full scan of it.

Every test under tests/lab/ is marked `lab` here (so `-m "not lab"` or `pytest tests/unit` leaves them out); tests
under tests/unit/ cannot request these fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Run, scan

LAB_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected under tests/lab/ with `lab` (the hook sees all items: filter by path)."""
    for item in items:
        if LAB_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.lab)


def _root() -> bool:
    return os.geteuid() == 0


@pytest.fixture(scope="session")
def lab():
    """The lab, up for the whole session and torn down at its end (nothing left behind)."""
    if not _root():
        pytest.skip("the lab needs root (network namespaces)")
    import preuve_lab as lab_mod

    info = lab_mod.ensure_up()
    yield info
    if os.environ.get("PREUVE_KEEP_LAB") != "1":  # developers running tests side by side keep it up
        lab_mod.down()


@pytest.fixture
def lab_up(lab):
    """For tests that run after one that stopped the lab: make sure it is healthy again."""
    import preuve_lab as lab_mod

    return lab_mod.ensure_up()


@pytest.fixture(scope="module")
def lab_module(lab):
    """lab_up for module-scoped fixtures (tests/lab/test_lab_lifecycle.py stops the lab on purpose; later modules
    need it)."""
    import preuve_lab as lab_mod

    return lab_mod.ensure_up()


@pytest.fixture(scope="session")
def lab_run(lab, tmp_path_factory) -> Run:
    """One full-profile scan of the lab, shared by the tests that only read its results."""
    import preuve_lab as lab_mod

    lab_mod.ensure_up()  # an earlier test may have stopped it on purpose
    from preuve_lab.lockout import fresh_canaries

    fresh_canaries(lab_mod.LabPaths.current())  # as the demo does: LOCK-ACTIVE's canary starts fresh
    run = scan(tmp_path_factory.mktemp("lab-run") / "run")
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    return run
