"""Absence observed is a finding (`fail`), `error` only for what could not be observed: the log and journald
host snippets on hosts without journald, logrotate or any local log, in a private mount namespace (root). The other
domains on recorded facts: tests/unit/test_absence_is_a_finding.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from preuve.judge.check_api import Judge
from preuve.observe.logs.journald import JOURNALD
from preuve.observe.logs.logrotate import LOGROTATE
from preuve.observe.logs.timestamps import JOURNAL_STAMP, LOG_TIMESTAMPS
from preuve.observe.ssh import host as ssh_host
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
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", sh], capture_output=True, text=True, timeout=30
    )
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_journald_only_host_is_judged_on_its_journal(tmp_path):
    """TIME-LOG-TIMESTAMPS on a host with a real journal (written by systemd-journal-remote) and no text log:
    before the fix the fact was an error ("no /var/log/syslog nor /var/log/messages"); now it passes, quoting the
    journal's own timestamps."""
    from checks.time.check_clock import check_log_timestamps
    from preuve_lab import journal_seed

    journal_seed.write(tmp_path, "ssh-mfa")  # tmp_path/log/journal/<machine-id>/system.journal
    run_log = tmp_path / "runlog"
    run_log.mkdir()
    res = _in_private_logs(tmp_path, LOG_TIMESTAMPS, tmp_path / "log", run_log)
    fact = ssh_host.fact_value("log_timestamps", res)
    assert fact == {"/var/log/journal": {"timestamp": JOURNAL_STAMP, "year_and_zone": True, "kind": "journal"}}, res
    j = Judge()
    check_log_timestamps(fact, j)
    assert j.expectations and not j.failed


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_host_without_any_local_log_fails_timestamps(tmp_path):
    """No syslog file, no journal: a finding quoting where logs were looked for, not an error."""
    from checks.time.check_clock import check_log_timestamps

    res = _in_private_logs(tmp_path, LOG_TIMESTAMPS, None, None)
    fact = ssh_host.fact_value("log_timestamps", res)
    assert fact == {}, res
    j = Judge()
    check_log_timestamps(fact, j)
    msg = _failed(j)
    assert "none found" in msg and "/var/log/syslog" in msg and "/var/log/journal" in msg, msg


# --- backups: the real restic and borg, on a location holding no repository / an empty one -----------------------


# --- S3: a real moto server on loopback, a declared bucket that does not exist ------------------------------------


# --- journald and logrotate not installed: staged by hiding the binaries in a private mount namespace ------------


def _without(paths_to_hide: list[str], tmpfs: list[str], script: str, tmp_path: Path) -> dict:
    blank = tmp_path / "not-an-executable"
    blank.write_text("")
    blank.chmod(0o644)
    steps = [f"mount --bind {blank} {p}" for p in paths_to_hide if Path(p).exists()]
    steps += [f"mount -t tmpfs tmpfs {d}" for d in tmpfs]
    sh = "set -e; " + "; ".join(steps) + "; set +e; " + script
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", sh], capture_output=True, text=True, timeout=30
    )
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_host_without_journald_is_not_applicable_not_an_error(tmp_path):
    """Before: "systemd-analyze: not found" -> LOG-JOURNALD-RETENTION `error`. Observed: no journald at all."""
    from checks.logs.check_retention import check_journald_retention
    from preuve.inputs.params import Params
    from preuve.judge.check_api import NotApplicable
    from preuve.observe.logs import journal as journal_facts

    hide = ["/usr/bin/systemd-analyze", "/usr/bin/journalctl"]
    journald = ssh_host.fact_value("journald", _without(hide, ["/usr/lib/systemd"], JOURNALD, tmp_path))
    journal = ssh_host.fact_value("journal", _without(hide, ["/usr/lib/systemd"], journal_facts.JOURNAL, tmp_path))
    assert journald["absent"].startswith("journald absent") and journal["absent"], (journald, journal)
    with pytest.raises(NotApplicable, match="journald absent"):
        check_journald_retention(journald=journald, journal=journal, params=Params(), judge=Judge())


@pytest.mark.skipif(not ROOT, reason="a private mount namespace needs root")
def test_host_without_logrotate_is_not_applicable_not_an_error(tmp_path):
    from checks.logs.check_retention import check_logrotate_retention
    from preuve.inputs.params import Params
    from preuve.judge.check_api import NotApplicable

    fact = ssh_host.fact_value("logrotate", _without([], ["/usr/sbin"], LOGROTATE, tmp_path))
    assert fact.get("absent") == "logrotate is not installed", fact
    with pytest.raises(NotApplicable, match="logrotate is not installed"):
        check_logrotate_retention(logrotate=fact, params=Params(), judge=Judge())


# --- forwarding and hashing: recorded facts of a host with nothing configured -------------------------------------
