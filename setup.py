"""The package list, computed from the folders (everything else is in pyproject.toml).

A hand-written list in pyproject.toml forgot each new check folder in turn: the wheel then shipped a catalogue that
named checks whose code it did not contain, and `preuve run` refused to start from a wheel while the checkout was
fine. Here every `preuve` sub-package and every `checks/<family>/` folder with an `__init__.py` ships, with no list to
keep in step (tests/lab/test_wheel_unprivileged.py builds the wheel and runs it).
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def packages() -> list[str]:
    engine = find_packages(where=str(HERE), include=["preuve", "preuve.*"])
    checks = [f"preuve_checks.{p.parent.name}" for p in sorted((HERE / "checks").glob("*/__init__.py"))]
    lab = ["preuve_lab"] if (HERE / "lab" / "__init__.py").exists() else []  # the container image builds without it
    return [*engine, "preuve_checks", *checks, *lab, "preuve_profiles"]


if __name__ == "__main__":
    setup(packages=packages())
