"""Malware protection, logging least privilege and audit events on the lab hosts, each check both ways.

MAL-PROTECTION-AGENT and LOG-FILE-ACCESS: ssh-mfa passes, ssh-key-only fails (a clamd runs there too, with a
45-day-old database: a "running?" check passes it). Both lab hosts run rsyslogd and syslog-ng as root, and no auditd
(the kernel's audit is one per machine): those two checks fail on both hosts in the scan, for the reason quoted; the
pass side of LOG-DAEMON-PRIVILEGES is shown here on a real rsyslogd dropping to `nobody` in a private mount
namespace ($PrivDropToUser), judged through preuve's own snippet; AUDIT-EVENTS' pass side is judged on recorded files
(tests/unit/test_malware_and_log_daemons.py).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

MATRIX = [
    ("MAL-PROTECTION-AGENT", "ssh-mfa", "ssh-key-only", '"days": 45, "from": "mtime", "newest": "daily.hdb"'),
    ("LOG-FILE-ACCESS", "ssh-mfa", "ssh-key-only", "/var/log/app.log (666)"),
    ("LOG-FILE-ACCESS", "ssh-mfa", "ssh-key-only", "/var/log/messages (644 root:adm)"),
]


@pytest.mark.parametrize(("check", "good", "bad", "quote"), MATRIX, ids=[f"{r[0]}:{r[3][:10]}" for r in MATRIX])
def test_both_ways_on_the_lab(lab_run, check, good, bad, quote):
    passed, failed = lab_run.result(check, good), lab_run.result(check, bad)
    assert passed["status"] == "pass", passed["message"]
    assert failed["status"] == "fail", failed["message"]
    assert quote in failed["message"]["en"], failed["message"]["en"]


@pytest.mark.parametrize("host", ["ssh-mfa", "ssh-key-only"])
def test_root_log_daemons_and_missing_auditd_fail_for_the_right_reason(lab_run, host):
    daemons = lab_run.result("LOG-DAEMON-PRIVILEGES", host)
    assert daemons["status"] == "fail" and "root (euid 0)" in daemons["message"]["en"], daemons["message"]
    assert "rsyslogd (pid" in daemons["message"]["en"] and "syslog-ng (pid" in daemons["message"]["en"]
    audit = lab_run.result("AUDIT-EVENTS", host)
    assert audit["status"] == "fail" and "no auditd in the host's mount namespace" in audit["message"]["en"]


RSYSLOG_CONF = """\
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/log.sock")
global(workDirectory="{dir}")
$PrivDropToUser nobody
$PrivDropToGroup nogroup
*.* action(type="omfile" file="{dir}/messages")
"""


def test_a_log_daemon_dropping_root_passes(lab, tmp_path):
    """A real rsyslogd (privDropToUser) beside preuve's `daemons` snippet in one private mount namespace."""
    from checks.logs_access.check_log_access import check_log_daemon_privileges
    from preuve.inputs.params import Params
    from preuve.judge.check_api import Judge, TrackedParams
    from preuve.observe.host import daemons

    work = tmp_path / "rsyslog"
    work.mkdir()
    work.chmod(0o777)
    (work / "rsyslog.conf").write_text(RSYSLOG_CONF.format(dir=work))
    script = (
        f"rsyslogd -f {work}/rsyslog.conf -i {work}/pid && "
        f"for i in 1 2 3 4 5 6 7 8 9 10; do [ -s {work}/pid ] && break; sleep 0.2; done; sleep 0.5; " + daemons.DAEMONS
    )
    try:
        out = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
        )
        found = [d for d in daemons.parse_daemons(out.stdout) if d["name"] == "rsyslogd"]
        assert found and found[0]["user"] == "nobody", out
        j = Judge()
        check_log_daemon_privileges(found, TrackedParams(Params(), j.reads), j)
        assert not j.failed and j.expectations[0].observed
    finally:
        pid = Path(work / "pid")
        for _ in range(10):
            if pid.is_file() and pid.read_text().strip():
                subprocess.run(["kill", pid.read_text().strip()], check=False)
                break
            time.sleep(0.2)
