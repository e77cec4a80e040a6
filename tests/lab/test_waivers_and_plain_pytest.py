"""Waivers on a real lab run (shown, never hidden; expired ones fail) and plain `pytest checks/` with the preuve
options against the lab. The verdict rules without the lab: tests/unit/test_verdict_rules.py."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, LAB_INVENTORY, REPO, preuve


@pytest.mark.lab
def test_waivers_are_reported_and_expire(lab_run, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - {id: W-ACTIVE, check: TLS-VERSIONS, target: tls-weak, approver: RSSI,\n"
        "     justification: legacy clients until the 2027 migration, expires: "
        f"{(dt.date.today() + dt.timedelta(days=180)).isoformat()}}}\n"  # waivers live at most a year
        "  - {id: W-OLD, check: TLS-SUITES, target: 'tls-*', approver: RSSI,\n"
        "     justification: legacy clients until the 2020 migration, expires: 2020-01-01}\n"
    )
    out = tmp_path / "judged"
    proc = preuve("judge", lab_run.out, "-w", waivers, "-o", out, "-q")
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    results = {(r["check_id"], r["target"]["name"]): r for r in map(json.loads, (out / "results.jsonl").open())}
    active = results[("TLS-VERSIONS", "tls-weak")]
    assert active["status"] == "waived" and active["waiver"]["id"] == "W-ACTIVE"
    assert active["expected"] and active["observed"], "a waived failure keeps its verdict"
    expired = results[("TLS-SUITES", "tls-weak")]
    assert expired["status"] == "fail" and expired["waiver"] == {**expired["waiver"], "id": "W-OLD", "expired": True}
    junit = (out / "junit.xml").read_text()
    assert "DEROGATION W-ACTIVE" in junit


@pytest.mark.lab
def test_plain_pytest_runs_the_checks(lab_up, tmp_path):
    out = tmp_path / "plain"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(REPO / "checks"),
            "--preuve-inventory",
            str(LAB_INVENTORY),
            "--preuve-profile",
            str(FULL_PROFILE.parent / "ci-quick.yaml"),
            "--preuve-out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stdout + proc.stderr
    results = [json.loads(x) for x in (out / "results.jsonl").open()]
    assert {r["check_id"] for r in results} >= {"TLS-VERSIONS", "SSH-KEX"}
    assert not any(r["check_id"] == "SSH-ROOT-LOGIN" for r in results), "ci-quick logs in nowhere"
    assert " failed" in proc.stdout and " passed" in proc.stdout
