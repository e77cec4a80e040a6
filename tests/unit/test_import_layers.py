"""The import graph keeps its shape: layers only point down, the evidence package stands alone, the engine never
imports the lab, checks never reach the driver, and preuve's packages import each other without cycles.

The contracts are import-linter's, in pyproject.toml ([tool.importlinter]); grimp builds the graph from every
import statement, function-level ones included. The two tests below that break the contracts on purpose run the same
contracts on a copy of the tree with one import added, so the guard is shown to bite, not assumed to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (preuve[dev])")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of `root`/pyproject.toml on the packages found first on the path: those under `root`."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_import_contracts():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """preuve, its checks and its lab as installed (preuve, preuve_checks, preuve_lab), and the contracts."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "preuve", tmp_path / "preuve", ignore=ignore)
    shutil.copytree(REPO / "checks", tmp_path / "preuve_checks", ignore=ignore)
    shutil.copytree(REPO / "lab", tmp_path / "preuve_lab", ignore=ignore)
    shutil.copyfile(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0  # the copy keeps the contracts before anything is added
    return tmp_path


def _add(module: Path, code: str) -> None:
    module.write_text(module.read_text() + "\n\n" + code)


def test_an_upward_import_breaks_the_layers(tree_copy: Path):
    """The evidence package (bottom) importing the reports (top), inside a function: refused, and named."""
    _add(
        tree_copy / "preuve" / "evidence" / "canonical.py",
        "def _upward() -> None:\n    from preuve.report import html  # noqa: F401\n",
    )
    proc = lint_imports(tree_copy)
    assert proc.returncode != 0
    assert "Layers only point down BROKEN" in proc.stdout
    assert "preuve.evidence.canonical -> preuve.report.html" in proc.stdout


def test_an_engine_module_importing_the_run_driver_breaks_the_layers(tree_copy: Path):
    """The judge importing the run state (what the old judge.session was): refused."""
    _add(tree_copy / "preuve" / "judge" / "scope.py", "from preuve.run.state import RunState  # noqa: F401,E402\n")
    proc = lint_imports(tree_copy)
    assert "Layers only point down BROKEN" in proc.stdout
    assert "preuve.judge.scope -> preuve.run.state" in proc.stdout


def test_a_cycle_between_modules_of_one_layer_is_refused(tree_copy: Path):
    """exitcodes and severity share the bottom layer and may import each other (`a : b`), but a cycle between
    them is refused by the no-cycles contract."""
    _add(tree_copy / "preuve" / "exitcodes.py", "from preuve import severity  # noqa: F401,E402\n")
    _add(tree_copy / "preuve" / "severity.py", "from preuve import exitcodes  # noqa: F401,E402\n")
    proc = lint_imports(tree_copy)
    assert "Layers only point down KEPT" in proc.stdout
    assert "No cycles between preuve's packages BROKEN" in proc.stdout


def test_two_independent_packages_of_one_layer_stay_independent(tree_copy: Path):
    """evidence and location share the bottom layer as independent packages (`a | b`)."""
    _add(tree_copy / "preuve" / "location" / "regions.py", "from preuve.evidence import canonical  # noqa: F401,E402\n")
    proc = lint_imports(tree_copy)
    assert "Layers only point down BROKEN" in proc.stdout
    assert "preuve.location.regions -> preuve.evidence.canonical" in proc.stdout


def test_the_engine_importing_the_lab_is_refused(tree_copy: Path):
    _add(tree_copy / "preuve" / "observe" / "engine.py", "import preuve_lab  # noqa: F401,E402\n")
    proc = lint_imports(tree_copy)
    assert "The engine never imports the lab" in proc.stdout and "BROKEN" in proc.stdout
    assert "preuve.observe.engine -> preuve_lab" in proc.stdout


def test_a_check_reaching_into_a_collector_is_refused(tree_copy: Path):
    """Checks take what they need from preuve.judge; a new import of an engine module from a check is named."""
    check = tree_copy / "preuve_checks" / "tls" / "check_protocol.py"
    _add(check, "from preuve.observe import engine  # noqa: E402,F401\n")
    proc = lint_imports(tree_copy)
    assert "Checks reach the engine through preuve.judge only" in proc.stdout
    assert "preuve_checks.tls.check_protocol -> preuve.observe.engine" in proc.stdout
