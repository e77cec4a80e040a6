"""Out-of-tree check packs and the testinfra-style `host` fixture (issue 16 item 6).

The documented example pack (examples/check-pack) runs on the lab: its checks pass and fail for the right reason,
every command testinfra sent is recorded as evidence, the run verifies, and re-judging offline gives the same
verdicts without touching the hosts.
"""

from __future__ import annotations

import json

import pytest

from preuve.observe.errors import ObservationError
from preuve.observe.host.testinfra_host import Replay, make_host
from tests.conftest import REPO, preuve

PACK = REPO / "examples" / "check-pack"
IDS = {"SITE-SSHD-ALLOW-LIST", "SITE-SSHD-CONFIG-OWNER", "SITE-OPENSSH-PACKAGE", "SITE-SCANNER-UNPRIVILEGED"}


# --- units: the replaying backend and pack loading -------------------------------------------------------------


def test_replayed_host_answers_from_the_record_and_refuses_anything_else():
    facts = {
        "commands": [
            {"command": "uname -s", "rc": 0, "stdout": "Linux\n", "stderr": ""},
            {"command": "cat /etc/os-release", "rc": 0, "stdout": "ID=debian\n", "stderr": ""},
            {"command": "uname -m", "rc": 0, "stdout": "x86_64\n", "stderr": ""},
            {"command": "test -e /etc/motd", "rc": 1, "stdout": "", "stderr": ""},
            {"command": "id -u", "rc": 0, "stdout": "1000\n", "stderr": ""},
        ]
    }
    host = make_host(Replay(facts, "web1"), "web1")
    assert host.file("/etc/motd").exists is False
    assert host.run("id -u").stdout == "1000\n"
    with pytest.raises(ObservationError, match=r"not recorded while observing.*cat /etc/shadow"):
        host.run("cat /etc/shadow")


def test_pack_checks_join_the_catalogue_only_when_asked():
    listed = json.loads(preuve("checks", "--format", "json", "--checks-dir", PACK).stdout)
    assert {c["id"] for c in listed} >= IDS
    plain = json.loads(preuve("checks", "--format", "json").stdout)
    assert not IDS & {c["id"] for c in plain}
    d = json.loads(
        preuve(
            "checks", "describe", "SITE-SSHD-ALLOW-LIST", "--format", "json", "--checks-dir", PACK, "--lang", "en"
        ).stdout
    )[0]
    assert d["title"] == "SSH logins restricted to named accounts" and d["path"] == "check-pack/check_site.py"


def test_pack_errors_are_named(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = preuve("checks", "--checks-dir", empty)
    assert proc.returncode == 3 and f"check pack {empty}: no catalogue.yaml" in proc.stderr
    clash = tmp_path / "clash"
    clash.mkdir()
    (clash / "catalogue.yaml").write_text(
        "checks:\n  SSH-KEX:\n    title: {fr: x, en: x}\n"
        "    rationale: {fr: x, en: x}\n    remediation: {fr: x, en: x}\n"
    )
    (clash / "check_clash.py").write_text(
        "from preuve.judge import check\n\n\n@check('SSH-KEX', requirements=['10.2.e'], target='host', "
        "severity='low', rule='x')\ndef check_kex(host, judge):\n    judge.equals('x', 1, 1)\n"
    )
    proc = preuve("checks", "--checks-dir", clash)
    assert proc.returncode == 3 and "check id SSH-KEX declared twice" in proc.stderr, "a pack cannot shadow"
    proc = preuve("lint", "--checks-dir", clash)
    assert proc.returncode == 3 and "declared twice" in proc.stderr


# --- on the lab ------------------------------------------------------------------------------------------------


def test_installing_preuve_leaves_testinfra_suites_alone(tmp_path):
    """Both pytest plugins autoloaded, as in a team's own environment: testinfra's `host` is the one their
    tests get (preuve's is registered only when preuve runs)."""
    import subprocess
    import sys

    (tmp_path / "test_local.py").write_text(
        "def test_local(host):\n    assert type(host.backend).__name__ == 'LocalBackend'\n"
        "    assert host.run('echo hi').stdout == 'hi\\n'\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hosts=local://",
            str(tmp_path / "test_local.py"),
            "--rootdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
