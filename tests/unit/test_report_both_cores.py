"""Report writers on both cores (preuve.report.both_cores): one group really runs in another process, a failure
there is raised here naming it (never a run that looks complete), and the serial fallback writes the same bytes.
The end of a real run (a re-judged recorded demo) is compared both ways at the bottom."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from preuve.report.both_cores import OutputError, both


def _writer(path: Path) -> object:
    def write() -> None:
        path.write_text(f"{os.getpid()}\n")

    return write


def test_the_aside_group_runs_in_another_process(tmp_path: Path) -> None:
    both(_writer(tmp_path / "aside"), _writer(tmp_path / "here"))  # type: ignore[arg-type]
    aside, here = int((tmp_path / "aside").read_text()), int((tmp_path / "here").read_text())
    assert here == os.getpid() and aside != os.getpid()
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(aside, os.WNOHANG)


def test_serial_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREUVE_SERIAL_OUTPUTS", "1")
    both(_writer(tmp_path / "aside"), _writer(tmp_path / "here"))  # type: ignore[arg-type]
    assert int((tmp_path / "aside").read_text()) == int((tmp_path / "here").read_text()) == os.getpid()


def test_a_failure_aside_is_raised_here_after_this_side_is_done(tmp_path: Path) -> None:
    def broken() -> None:
        raise ValueError("the OSCAL writer broke")

    with pytest.raises(OutputError, match="ValueError: the OSCAL writer broke"):
        both(broken, _writer(tmp_path / "here"))  # type: ignore[arg-type]
    assert (tmp_path / "here").is_file()


def test_a_failure_here_still_waits_for_the_child(tmp_path: Path) -> None:
    def broken() -> None:
        raise KeyError("junit")

    with pytest.raises(KeyError):
        both(_writer(tmp_path / "aside"), broken)  # type: ignore[arg-type]
    assert (tmp_path / "aside").is_file()  # written before both() returned: the child was waited for


def test_a_run_end_writes_the_same_bytes_on_both_cores_and_serially(tmp_path: Path) -> None:
    """The recorded lab demo re-judged twice, both ways: every output equal once the run's own identity (its id,
    its directory) is taken out."""
    from tests.conftest import preuve
    from tools.record_unit_facts import DEFAULT_OUT, unpack

    recorded = unpack(DEFAULT_OUT, tmp_path / "recorded")
    outs = {}
    for mode, env in (("both", {}), ("serial", {"PREUVE_SERIAL_OUTPUTS": "1"})):
        out = tmp_path / f"run-{mode}-xq7"  # a name no output holds by chance
        proc = preuve("judge", recorded, "-o", out, "-q", "--ledger", tmp_path / f"{mode}.ledger", env=env)
        assert proc.returncode in (0, 1, 2), proc.stderr
        outs[mode] = out

    def normalised(out: Path, name: str) -> str:
        run = json.loads((out / "run.json").read_text())
        text = (out / name).read_text().replace(str(out), "OUT").replace(out.name, "OUT")
        text = text.replace(run["run_id"], "RUN").replace(run["ended_at"], "ENDED")  # the run's own identity
        return re.sub(r' time="[0-9.]+"', ' time="T"', text)  # JUnit's duration: the clock, not the writer

    skip = ("run.json", "MANIFEST.sha256")
    names = sorted(p.name for p in outs["both"].iterdir() if p.is_file() and p.name not in skip)
    assert "oscal-assessment-results.json" in names and "junit.xml" in names and "report.html" in names
    for name in names:  # uuids (OSCAL's derive from the run id) by order of first appearance
        both_cores, serial = (_uuids_in_order(normalised(outs[m], name)) for m in ("both", "serial"))
        assert both_cores == serial, name


def _uuids_in_order(text: str) -> str:
    seen: dict[str, str] = {}
    return UUID.sub(lambda m: seen.setdefault(m.group(0), f"uuid-{len(seen)}"), text)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
