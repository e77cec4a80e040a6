"""What a run hands to humans and GRC tools: report.html (French by default, rendered by headless Chromium),
the OSCAL assessment-results (validated against NIST's schema), the CISO Assistant CSV, and the coverage matrix."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, preuve

pytestmark = pytest.mark.lab
FIXTURES = Path(__file__).parents[1] / "fixtures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The machine notes' flags: no sandbox (root in a container), no GPU, nothing phoning home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    """Chromium inside a network namespace with no interface up: a self-contained report needs no network."""
    cmd = ["unshare", "-n", CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(profile)})


def test_report_is_french_self_contained_and_sheets_every_finding(lab_run):
    html = (lab_run.out / "report.html").read_text()
    assert '<html lang="fr">' in html and "Synthèse par chapitre SecNumCloud" in html
    assert "src=" not in html and 'href="http' not in html and "<script" not in html  # works air-gapped
    r = lab_run.result("TLS-VERSIONS", "tls-weak")
    sheet = html[html.index(f'id="{r["finding_id"]}"') :]
    sheet = sheet[: sheet.index("</div>")]
    assert "Si le protocole TLS est mis en œuvre" in sheet  # the requirement's text from the referential
    assert r["evidence"][0]["path"] in sheet and r["evidence"][0]["sha256"] in sheet
    assert r["remediation"]["fr"][:40] in sheet.replace("&#39;", "'")
    assert "observé" in sheet and r["severity"] in sheet
    fails = [x for x in lab_run.results if x["status"] == "fail"]
    assert html.count('class="sheet st-fail"') == len(fails)
    # critical findings first in the non-conformity table
    table = html[html.index('id="critical"') : html.index('id="sheets"')]
    first_critical = table.index("sev-critical") if "sev-critical" in table else 0
    assert first_critical <= table.index("sev-high")
    assert 'id="coverage"' in html and "automatisée" in html  # the coverage matrix is in the methods annex


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(lab_run, tmp_path):
    report = (lab_run.out / "report.html").resolve()
    shot = tmp_path / "report.png"
    proc = _chromium(["--window-size=1280,1600", f"--screenshot={shot}", report.as_uri()], tmp_path / "chrome")
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real page, not a blank one
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 1600)
    dom = _chromium(["--dump-dom", report.as_uri()], tmp_path / "chrome2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<h2 id="summary">Synthèse par chapitre SecNumCloud</h2>' in dom.stdout
    assert "net::ERR_" not in dom.stderr and "Uncaught" not in dom.stderr


def test_report_in_english_on_request_leaves_the_run_intact(lab_run, tmp_path):
    out = tmp_path / "report.en.html"
    proc = preuve("report", lab_run.out, "--lang", "en", "-o", out)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert '<html lang="en">' in html and "Summary by SecNumCloud chapter" in html
    assert preuve("verify", lab_run.out).returncode == 0


def _oscal_validator():
    import regex
    from jsonschema import Draft7Validator, FormatChecker, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator, patrn, instance, schema):  # OSCAL's token pattern uses \p{L}: Python's re lacks it
        if validator.is_type(instance, "string") and not regex.search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    schema = json.loads((FIXTURES / "oscal-1.1.3_assessment-results_schema.json").read_text())
    cls = validators.extend(Draft7Validator, {"pattern": pattern})
    return cls(schema, format_checker=FormatChecker())


def test_oscal_assessment_results_validate_against_the_schema(lab_run):
    doc = json.loads((lab_run.out / "oscal-assessment-results.json").read_text())
    validator = _oscal_validator()
    errors = [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert errors == []
    # the validator does catch a wrong document (OSCAL has no "waived" state, ids cannot start with a digit)
    bad = json.loads(json.dumps(doc))
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "waived"
    assert list(validator.iter_errors(bad))
    result = doc["assessment-results"]["results"][0]
    assert len(result["observations"]) == len(lab_run.results)
    # evidence bound by sha256, and the hashes are those of the files in the run
    for res in doc["assessment-results"]["back-matter"]["resources"]:
        for link in res.get("rlinks", []):
            assert (lab_run.out / link["href"]).is_file()  # every link resolves inside the run (import-ap too)
            if link["href"].startswith("inputs/profile/"):
                continue  # the profile chain's sha256 is over the chain, not this file: no per-file hash
            digest = link["hashes"][0]["value"]
            assert hashlib.sha256((lab_run.out / link["href"]).read_bytes()).hexdigest() == digest
    r = lab_run.result("TLS-VERSIONS", "tls-weak")
    f = next(f for f in result["findings"] if f["target"]["target-id"] == "snc-10.2.c")  # one per control
    assert f["target"]["status"]["state"] == "not-satisfied"
    assert any(p["name"] == "finding-id" and p["value"] == r["finding_id"] for p in f["props"])
    # deterministic: regenerating from the same run gives the same bytes
    from preuve.report.exports import oscal
    from preuve.report.html import run_coverage

    run = json.loads((lab_run.out / "run.json").read_text())
    assert oscal(lab_run.results, run, run_coverage(run, lab_run.results)) == doc


def test_ciso_assistant_csv(lab_run):
    with (lab_run.out / "ciso-assistant.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))  # commas: CISO Assistant's importer reads no other delimiter
    assert list(rows[0]) == [
        "urn",
        "ref_id",
        "assessable",
        "name",
        "description",
        "compliance_result",
        "requirement_progress",
        "observations",
    ]
    by_id = {r["ref_id"]: r for r in rows}
    tls = by_id["10.2.c"]
    assert tls["urn"] == "urn:intuitem:risk:req_node:secnumcloud-3.2:10.2.c" and tls["assessable"] == "True"
    assert tls["compliance_result"] == "non_compliant"  # tls-weak fails
    assert lab_run.result("TLS-VERSIONS", "tls-weak")["finding_id"] in tls["observations"]
    assert "7.1.a" not in by_id  # manual, no result: no row, so an import never overwrites the auditor's work
    mfa = next(r for r in rows if r["urn"].endswith(":node214"))  # 9.6.f's assessable item, no ref_id of its own
    assert mfa["ref_id"] == "" and mfa["compliance_result"] == "non_compliant"
    assert {r["compliance_result"] for r in rows} <= {"", "compliant", "non_compliant", "not_applicable"}
    # CISO Assistant's own import logic (reproduced step by step) on this file: nothing skipped, nothing failed,
    # every requirement a result judged lands on an assessable node of its library, 9.6.f included (node214)
    from tests.support import ciso_assistant_import as ciso

    nodes = ciso.library()
    report = ciso.reconcile(ciso.load_records((lab_run.out / "ciso-assistant.csv").read_bytes()), nodes)
    assert report["failed"] == 0 and report["skipped"] == 0 and report["successful"] == len(rows), report["errors"][:3]
    written = [n for n in nodes if n.assessment]
    assert written and all(n.assessable for n in written)
    judged = {q for r in lab_run.results if r["status"] in ("pass", "fail", "waived") for q in r["requirements"]}
    by_urn = {n.urn: n for n in nodes}
    landed = {n.ref_id or by_urn[n.parent_urn].ref_id for n in written}
    assert judged <= landed and "9.6.f" in landed


def test_coverage_matrix_is_honest():
    proc = preuve("coverage", FULL_PROFILE, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    t = data["totals"]
    reqs = {r["id"]: r for r in data["requirements"]}
    assert sum(t.values()) == len(reqs) == 278  # every requirement of chapters 5-19 has a row
    # the TLS guide's client-side rules are no server's to show: partial, with the element left to the auditor
    assert reqs["10.2.c"]["level"] == "partial" and "TLS-VERSIONS" in reqs["10.2.c"]["checks"]
    assert reqs["10.2.c"]["left_to_auditor"] == ["10.2.c#5"]
    assert reqs["12.8.b"]["level"] == "automated" and reqs["12.8.b"]["left_to_auditor"] == []
    assert reqs["7.1.a"]["level"] == "manual" and reqs["7.1.a"]["checks"] == []
    assert t["manual"] > t["automated"] + t["partial"]  # most of SecNumCloud is organisational
    table = preuve("coverage", FULL_PROFILE)
    assert table.returncode == 0 and f"automated {t['automated']}" in table.stdout


def test_coverage_rejects_a_bad_profile(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n")
    assert preuve("coverage", bad).returncode == Exit.INVALID_INPUT


def test_a_waived_finding_is_shown_with_its_waiver_everywhere(lab_run, tmp_path):
    """Re-judged with a dérogation: the sheet names it, the diff lists it as now waived, OSCAL and the CSV keep it
    non-compliant (a waiver accepts a risk, it does not make the requirement met)."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - id: DER-2026-007\n    check: TLS-VERSIONS\n    target: tls-weak\n"
        "    justification: legacy clients until the March 2027 migration\n"
        f"    approver: RSSI Jeanne Martin\n    expires: {dt.date.today() + dt.timedelta(days=180)}\n"
    )
    out = tmp_path / "waived"
    proc = preuve("judge", lab_run.out, "-w", waivers, "--previous", lab_run.out, "-o", out, "-q")
    assert proc.returncode in (Exit.NON_COMPLIANT, Exit.INCOMPLETE), proc.stderr
    r = next(
        json.loads(x)
        for x in (out / "results.jsonl").read_text().splitlines()
        if '"TLS-VERSIONS"' in x and '"tls-weak"' in x
    )
    assert r["status"] == "waived"
    html = (out / "report.html").read_text()
    start = html.rindex("<div", 0, html.index(f'id="{r["finding_id"]}"'))
    sheet = html[start : html.index("</div>", start)]
    assert "st-waived" in sheet and "DER-2026-007" in sheet and "RSSI Jeanne Martin" in sheet
    diff = json.loads((out / "diff.json").read_text())
    assert {(x["check_id"], x["target"]) for x in diff["now_waived"]} == {("TLS-VERSIONS", "tls-weak")}
    doc = json.loads((out / "oscal-assessment-results.json").read_text())
    f = next(f for f in doc["assessment-results"]["results"][0]["findings"] if f["target"]["target-id"] == "snc-10.2.c")
    assert f["target"]["status"]["state"] == "not-satisfied"  # tls-weak's other failures on 10.2.c stand
    assert any(p["name"] == "waiver" and "DER-2026-007" in p["value"] for p in f["props"])
    assert not list(_oscal_validator().iter_errors(doc))
    with (out / "ciso-assistant.csv").open(newline="") as fh:
        row = next(x for x in csv.DictReader(fh) if x["ref_id"] == "10.2.c")
    assert row["compliance_result"] == "non_compliant" and "waived DER-2026-007" in row["observations"]
