"""Absence observed is a finding (`fail`); `error` is only for what could not be observed (issue 12, point 3).

For every check of the time, logs, S3, backup and hygiene domains that can report `error`, the component observed
to be missing is shown to be judged `fail`, on the real snippets where the absence can be staged here (a private
mount or PID namespace) and on recorded facts otherwise.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from preuve.judge.verdicts import Judge
from preuve.observe import baseline_facts, ssh_host
from preuve.results.messages import sentence

ROOT = os.geteuid() == 0


def _failed(j: Judge) -> str:
    return "; ".join(sentence(e, e.label, "en") for e in j.failed)


def _in_private_logs(tmp_path: Path, script: str, var_log: Path | None, run_log: Path | None) -> dict:
    """Run `script` with /var/log and /run/log replaced (empty tmpfs, or the given directory): a staged host."""
    binds = []
    for where, src in (("/var/log", var_log), ("/run/log", run_log)):
        binds.append(f"mount -t tmpfs tmpfs {where}" if src is None else f"mount --bind {src} {where}")
    sh = "set -e; " + "; ".join(binds) + "; set +e; " + script
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", sh],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_journald_only_host_is_judged_on_its_journal(tmp_path):
    """TIME-LOG-TIMESTAMPS on a host with a real journal (written by systemd-journal-remote) and no text log:
    before the fix the fact was an error ("no /var/log/syslog nor /var/log/messages"); now it passes, quoting the
    journal's own timestamps."""
    from checks.time.check_chrony import check_log_timestamps
    from preuve.lab import journal_seed

    journal_seed.write(tmp_path, "ssh-mfa")  # tmp_path/log/journal/<machine-id>/system.journal
    run_log = tmp_path / "runlog"
    run_log.mkdir()
    res = _in_private_logs(tmp_path, baseline_facts.LOG_TIMESTAMPS, tmp_path / "log", run_log)
    fact = ssh_host._fact_value("log_timestamps", res)
    assert fact == {"/var/log/journal": {"timestamp": baseline_facts.JOURNAL_STAMP, "year_and_zone": True,
                                         "kind": "journal"}}, res  # fmt: skip
    j = Judge()
    check_log_timestamps(fact, j)
    assert j.expectations and not j.failed


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_host_without_any_local_log_fails_timestamps(tmp_path):
    """No syslog file, no journal: a finding quoting where logs were looked for, not an error."""
    from checks.time.check_chrony import check_log_timestamps

    res = _in_private_logs(tmp_path, baseline_facts.LOG_TIMESTAMPS, None, None)
    fact = ssh_host._fact_value("log_timestamps", res)
    assert fact == {}, res
    j = Judge()
    check_log_timestamps(fact, j)
    msg = _failed(j)
    assert "none found" in msg and "/var/log/syslog" in msg and "/var/log/journal" in msg, msg


def test_traditional_syslog_beside_a_journal_still_fails():
    """The journal's precise stamps do not excuse a text log written without year and zone."""
    from checks.time.check_chrony import check_log_timestamps

    fact = baseline_facts.parse_log_timestamps("/var/log/syslog\tNov 23 11:32:08\n/var/log/journal\tjournal\n")
    j = Judge()
    check_log_timestamps(fact, j)
    assert "/var/log/syslog" in _failed(j) and "Nov 23 11:32:08" in _failed(j)
