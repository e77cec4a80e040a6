"""The verdict rules: only stated, met expectations pass; waivers are shown, never hidden; expired ones fail."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from preuve.exitcodes import Exit
from preuve.judge.verdicts import Judge, NonCompliance, NotApplicable
from preuve.observe.errors import ObservationError
from tests.conftest import FULL_PROFILE, LAB_INVENTORY, REPO, preuve


def _result(judge: Judge, exc: BaseException | None):
    """build_result with the real catalogue entry of TLS-VERSIONS and a minimal run state."""
    from types import SimpleNamespace

    from preuve.inputs.targets import Target
    from preuve.judge.catalogue import load_catalogue
    from preuve.judge.verdict import build_result

    state = SimpleNamespace(waivers=[], judged_at=dt.datetime.now(dt.UTC))
    target = Target("tls_endpoint", "web", "198.18.3.10", 443, None, None, (), None)
    return build_result(state, load_catalogue()["TLS-VERSIONS"], target, judge, [], [], exc)


def test_a_check_that_states_nothing_cannot_pass():
    r = _result(Judge(), None)
    assert r.status == "error" and "no expectation" in r.message["en"]


def test_met_expectations_pass_with_observed_and_expected():
    j = Judge()
    j.subset("tls.versions", ["TLSv1.3"], ["TLSv1.2", "TLSv1.3"])
    r = _result(j, None)
    assert r.status == "pass"
    assert r.observed == {"tls.versions": ["TLSv1.3"]} and r.expected == {"tls.versions": ["TLSv1.2", "TLSv1.3"]}


def test_failed_expectation_names_the_offending_values():
    j = Judge()
    j.subset("tls.versions", ["TLSv1.0", "TLSv1.2"], ["TLSv1.2", "TLSv1.3"])
    r = _result(j, NonCompliance("x"))
    assert r.status == "fail"
    assert 'non conformes : ["TLSv1.0"]' in r.message["fr"] and "attendu" in r.message["fr"]
    assert r.remediation is not None


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ObservationError("timeout"), "error"),
        (KeyError("versions"), "error"),
        (NotApplicable("no HTTP"), "not_applicable"),
    ],
)
def test_anything_but_a_judged_expectation_is_not_a_pass(exc, status):
    assert _result(Judge(), exc).status == status


def test_judge_operators():
    j = Judge()
    assert j.at_least("a", 2048, 2048) and not j.at_least("b", None, 1)
    assert j.at_most("c", 2, 3) and not j.at_most("d", 4, 3)
    assert j.excludes("e", ["x"], ["y"]) and not j.excludes("f", ["y"], ["y"])
    assert j.one_of("g", "VERBOSE", ["VERBOSE"]) and not j.non_empty("h", [])
    assert not j.each("i", {"k1": True, "k2": False})
    assert [e.label for e in j.failed] == ["b", "d", "f", "h", "i"]
    assert j.failed[-1].offending == ["k2"]


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


def test_packaged_check_folders_match_pyproject():
    import tomllib

    packages = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {f"preuve_checks.{p.name}" for p in (REPO / "checks").iterdir() if (p / "__init__.py").exists()}
    assert folders <= packages, f"add to pyproject.toml packages: {sorted(folders - packages)}"
