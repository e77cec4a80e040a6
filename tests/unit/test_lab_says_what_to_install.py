"""`preuve lab` / `preuve demo` refuse, before touching any namespace, when the lab cannot run from this install,
and say what to install: no lab package (the container image), no moto (a wheel without the preuve[lab] extra), or
no checkout beside the lab package (a wheel with the extra still lacks inventories/lab.yaml). The first case is
also run for real from a wheel by tests/lab/test_wheel_unprivileged.py."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

from preuve import cli


def _specs(monkeypatch: pytest.MonkeyPatch, found: dict[str, str | None]) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> importlib.machinery.ModuleSpec | None:
        if name in found:
            origin = found[name]
            return None if origin is None else importlib.machinery.ModuleSpec(name, None, origin=origin)
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    # Should the refusal ever regress, the unit test must still never touch the shared lab.
    import preuve.demo
    import preuve_lab.cli

    def must_not_run(*args: object, **kwargs: object) -> int:
        raise AssertionError("the lab or the demo started although the lab is unusable")

    monkeypatch.setattr(preuve.demo, "demo", must_not_run)
    monkeypatch.setattr(preuve_lab.cli, "main", must_not_run)


def test_checkout_with_the_extra_is_usable() -> None:
    assert cli._lab_unusable() == []


def test_without_moto_the_extra_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    _specs(monkeypatch, {"moto": None})
    reasons = cli._lab_unusable()
    assert len(reasons) == 1 and "moto" in reasons[0] and "preuve[lab]" in reasons[0]
    assert cli.main(["lab", "status"]) == 4
    err = capsys.readouterr().err
    assert "pip install -e '.[lab]'" in err and "moto" in err


def test_a_wheel_install_is_not_a_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "preuve_lab" / "__init__.py"
    package.parent.mkdir(parents=True)
    package.write_text("")
    _specs(monkeypatch, {"preuve_lab": str(package)})
    (reason,) = cli._lab_unusable()
    assert "not a checkout" in reason and "inventories/lab.yaml" in reason


def test_no_lab_package(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    _specs(monkeypatch, {"preuve_lab": None})
    assert cli.main(["demo"]) == 4
    assert "preuve_lab" in capsys.readouterr().err
