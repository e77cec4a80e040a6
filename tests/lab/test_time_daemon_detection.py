"""TIME-* when no time daemon runs, or one preuve does not read: the host snippet in a private PID namespace
(`unshare`, root). The timesyncd state parsing on systemd 252's formats: tests/unit/test_timesyncd_state.py."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.logs import timesync as ts
from preuve.observe.ssh import host as ssh_host
from preuve.results.messages import sentence
from preuve_checks.time.check_clock import check_internal_sources, check_offset, check_sync

PARAMS = Params.model_validate({"time": {"internal_domains": ["corp.example"]}})


def judge(check, fact: dict, params: Params = PARAMS) -> tuple[Judge, str]:
    j = Judge()
    kwargs = {"clock": fact, "judge": j}
    if check is not check_sync:
        kwargs["params"] = params
    check(**kwargs)
    return j, "; ".join(sentence(e, e.label, "en") for e in j.failed)


def _snippet_in_pid_namespace(tmp_path, fake_daemon: str | None = None) -> dict:
    """The real TIMESYNC snippet in a fresh PID namespace, optionally beside a process named `fake_daemon`."""
    pre = ""
    if fake_daemon:
        exe = tmp_path / fake_daemon
        shutil.copyfile(shutil.which("sleep"), exe)
        exe.chmod(0o755)
        pre = f"{exe} 30 & sleep 0.3; "  # comm is the executable's name: ps shows it as that daemon
    proc = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", pre + ts.TIMESYNC],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return ssh_host.fact_value("timesync", {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})


@pytest.mark.skipif(os.geteuid() != 0, reason="a private PID namespace needs root")
def test_no_time_daemon_running_is_a_finding_not_an_error(tmp_path):
    """Observed host, no chronyd/timesyncd/ntpd/openntpd/ptp4l/phc2sys: every clock check FAILS quoting what was
    looked for (before the fix the fact was an error and the checks `error`)."""
    fact = _snippet_in_pid_namespace(tmp_path)
    assert "error" not in fact, fact
    assert fact["daemon"] is None and fact["other_running"] == []
    for check in (check_sync, check_offset, check_internal_sources):
        j, msg = judge(check, fact)
        assert j.failed, msg
        assert "none running" in msg
        for name in ("chronyd", "systemd-timesyncd", "ntpd", "openntpd", "ptp4l", "phc2sys"):
            assert name in msg, msg


@pytest.mark.skipif(os.geteuid() != 0, reason="a private PID namespace needs root")
def test_a_daemon_preuve_does_not_read_is_an_error_not_a_finding(tmp_path):
    """ntpd running (recognised, its state not read): the checks cannot judge -> error, neither pass nor fail."""
    from preuve.observe.errors import ObservationError

    fact = _snippet_in_pid_namespace(tmp_path, "ntpd")
    assert fact["daemon"] is None and fact["other_running"] == ["ntpd"], fact
    for check in (check_sync, check_offset, check_internal_sources):
        with pytest.raises(ObservationError, match="ntpd running"):
            judge(check, fact)
