"""What a run directory hands over: JUnit that CI systems accept, a manifest plain sha256sum checks,
tamper evidence, and re-judging offline that reproduces the verdicts byte for byte."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import preuve

pytestmark = pytest.mark.lab
XSD = Path(__file__).parents[1] / "fixtures" / "junit-10.xsd"


def test_junit_validates_against_jenkins_xsd(lab_run, tmp_path):
    """junit.xml adds what GitLab and mikepenz read (`file`/`line` on cases, `skipped` on the root) to what
    junit-10.xsd allows, nothing else; `preuve export --strict` leaves them out for Jenkins' xunit plugin."""
    import xmlschema

    from tests.unit.test_outputs_consumers import junit_xsd_with_extensions

    xmlschema.XMLSchema(junit_xsd_with_extensions(tmp_path)).validate(lab_run.out / "junit.xml")
    strict = tmp_path / "strict.xml"
    proc = preuve("export", lab_run.out, "--format", "junit", "--strict", "-o", strict)
    assert proc.returncode == 0, proc.stderr
    xmlschema.XMLSchema(XSD).validate(strict)
    assert not xmlschema.XMLSchema(XSD).is_valid(lab_run.out / "junit.xml")  # the extensions are real


def test_junit_cases_are_unique_and_carry_the_verdict(lab_run):
    root = ET.parse(lab_run.out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(lab_run.results)
    keys = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(set(keys)) == len(keys), "GitLab keeps only the first case of a classname+name pair"
    case = next(c for c in cases if c.get("name") == "TLS-VERSIONS[tls-weak]")
    assert case.get("classname") == "secnumcloud.10.2.c"
    failure = case.find("failure")
    assert failure is not None and "observé" in failure.text and "attendu" in failure.text
    out = case.find("system-out").text
    assert "observations/tls/tls-weak.json]]" in out and "[[ATTACHMENT|" in out  # prefixed: see test_outputs_*
    r = lab_run.result("TLS-VERSIONS", "tls-weak")
    assert r["evidence"][0]["sha256"] in out
    assert int(root.get("failures")) == sum(r["status"] == "fail" for r in lab_run.results)


def test_manifest_checks_with_plain_sha256sum_and_catches_one_byte(lab_run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(lab_run.out, copy)
    ok = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=copy, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert preuve("verify", copy, "--no-chain").returncode == 0  # handed over without its scope's ledger

    evidence = copy / "observations" / "tls" / "tls-weak.json"
    data = bytearray(evidence.read_bytes())
    data[10] ^= 0x01
    evidence.write_bytes(bytes(data))
    bad = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=copy, capture_output=True, text=True)
    assert bad.returncode != 0 and "observations/tls/tls-weak.json" in bad.stdout
    verify = preuve("verify", copy, "--no-chain")
    assert verify.returncode == Exit.INTEGRITY
    assert "observations/tls/tls-weak.json: content changed" in verify.stderr


def test_run_json_identifies_tool_profile_and_inputs(lab_run):
    import hashlib
    import json

    run = json.loads((lab_run.out / "run.json").read_text())
    inv = (lab_run.out / "inputs" / "inventory.yaml").read_bytes()
    assert run["inventory"]["sha256"] == hashlib.sha256(inv).hexdigest()
    assert run["profile"]["id"] == "secnumcloud-3.2" and len(run["profile"]["sha256"]) == 64
    assert run["tool"]["version"] and run["started_at"].endswith("Z") and run["ended_at"].endswith("Z")
    assert run["stats"]["fail"] == sum(r["status"] == "fail" for r in lab_run.results)


def test_offline_rejudge_reproduces_results_byte_for_byte(lab_run, tmp_path):
    out = tmp_path / "rejudged"
    proc = preuve("judge", lab_run.out, "-o", out, "-q")
    assert proc.returncode == lab_run.code, proc.stderr
    assert (out / "results.jsonl").read_bytes() == (lab_run.out / "results.jsonl").read_bytes()


def test_rejudge_with_a_stricter_profile_changes_verdicts(lab_run, tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        'id: strict\nversion: "1.0"\ntitle: {fr: strict, en: strict}\nselect: {checks: ["TLS-*"]}\n'
        "params:\n  tls: {versions_allowed: [TLSv1.3]}\n"
    )
    out = tmp_path / "strict-run"
    proc = preuve("judge", lab_run.out, "-p", strict, "-o", out, "-q")
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    import json

    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    good = next(r for r in results if r["check_id"] == "TLS-VERSIONS" and r["target"]["name"] == "tls-good")
    assert good["status"] == "fail" and "TLSv1.2" in good["message"]["fr"]
