"""Each output checked against its real consumer's rules: CISO Assistant's data wizard (reproduced step by step),
and the schemas and resolution rules of the other consumers. No lab: the writers are functions of results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from preuve.report.exports import write_ciso_csv
from preuve.report.html import run_coverage
from tests.support import ciso_assistant_import as ciso
from tests.support import synthetic_run

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _ciso_import(tmp_path: Path, results: list[dict]) -> tuple[dict, dict[str, ciso.Node]]:
    out = tmp_path / "ciso-assistant.csv"
    write_ciso_csv(out, results, run_coverage(synthetic_run.run(), results), "fr")
    nodes = ciso.library()
    report = ciso.reconcile(ciso.load_records(out.read_bytes()), nodes)
    return report, {n.urn: n for n in nodes}


def test_ciso_assistant_import_sets_every_requirement_preuve_judged(tmp_path):
    results = synthetic_run.results()
    report, nodes = _ciso_import(tmp_path, results)
    assert report["failed"] == 0 and report["skipped"] == 0, report["errors"][:3]
    written = {u: n for u, n in nodes.items() if n.assessment}
    assert all(n.assessable for n in written.values())  # nothing lands on a parent node the audit never shows
    judged = {q for r in results if r["status"] in ("pass", "fail", "waived") for q in r["requirements"]}
    by_ref = {n.ref_id: n for n in nodes.values() if n.ref_id}

    def set_under(req: str) -> bool:
        node = by_ref[req]
        if node.assessable:
            return "result" in node.assessment or node.assessment.get("status") == "in_review"
        kids = [n for n in nodes.values() if n.parent_urn == node.urn]
        return any("result" in k.assessment or k.assessment.get("status") == "in_review" for k in kids)

    assert judged and [q for q in sorted(judged) if not set_under(q)] == []
    # 9.6.f: MFA on the provider's admin interfaces is its assessable item node214; the customers' interfaces
    # (node215) are evidenced by no check, so the import leaves the auditor's assessment of it untouched
    mfa = nodes["urn:intuitem:risk:req_node:secnumcloud-3.2:node214"].assessment
    assert mfa.get("result") in ("non_compliant", "compliant") or mfa.get("status") == "in_review"
    assert not nodes["urn:intuitem:risk:req_node:secnumcloud-3.2:9.6.f"].assessment


def test_ciso_assistant_import_of_a_failing_mfa_is_non_compliant_and_skips_nothing(tmp_path):
    results = [r for r in synthetic_run.results(("fail",)) if r["check_id"] == "MFA-SSH-ENFORCED"]
    report, nodes = _ciso_import(tmp_path, results)
    assert report == {"successful": report["successful"], "failed": 0, "errors": [], "skipped": 0}
    node = nodes["urn:intuitem:risk:req_node:secnumcloud-3.2:node214"].assessment
    assert node["result"] == "non_compliant" and node["status"] == "done"
    assert results[0]["finding_id"] in node["observation"]


def test_the_old_semicolon_csv_is_what_the_importer_drops(tmp_path):
    """The defect: `;` and no `assessable` column. The importer reads one column and skips every row."""
    old = "urn;ref_id;compliance_result\nurn:intuitem:risk:req_node:secnumcloud-3.2:9.6.f;9.6.f;non_compliant\n"
    report = ciso.reconcile(ciso.load_records(old.encode()), ciso.library())
    assert report["successful"] == 0 and report["skipped"] == 1
    parent = "ref_id,urn,assessable,compliance_result\n9.6.f,,True,non_compliant\n"
    nodes = ciso.library()
    ciso.reconcile(ciso.load_records(parent.encode()), nodes)
    assert [n.assessable for n in nodes if n.assessment] == [False]  # lands on the non-assessable parent


# --- JUnit: where GitLab and Jenkins look for attachments, and the inventory line ---------------------------------


def junit_xsd_with_extensions(tmp: Path) -> Path:
    """Jenkins' junit-10.xsd plus the three attributes preuve adds: `file` and `line` on <testcase> (GitLab's
    parser, mikepenz/action-junit-report, Testmo) and `skipped` on <testsuites> (GitLab, Testmo)."""
    text = (FIXTURES / "junit-10.xsd").read_text()
    case = '<xs:attribute name="group" type="xs:string"/>'
    errors = '<xs:attribute name="errors" type="xs:string" />'
    root = text.rindex(errors)  # the last one is <testsuites>' own
    assert case in text and text.index('<xs:element name="testsuites">') < root
    text = text[:root] + errors + '<xs:attribute name="skipped" type="xs:string" />' + text[root + len(errors) :]
    text = text.replace(
        case, case + '<xs:attribute name="file" type="xs:string"/><xs:attribute name="line" type="xs:string"/>'
    )
    out = tmp / "junit-10-extended.xsd"
    out.write_text(text)
    return out


def _attachments(case: ET.Element) -> list[str]:
    text = case.findtext("system-out") or ""
    return [line[len("[[ATTACHMENT|") : -2] for line in text.splitlines() if line.startswith("[[ATTACHMENT|")]


def _gitlab_resolves(project: Path, case: ET.Element) -> bool:
    """GitLab (lib/gitlab/ci/parsers/test/junit.rb): the first [[ATTACHMENT|…]] of system-out only, a path
    relative to the project directory, shown as a job artifact link."""
    found = _attachments(case)
    return bool(found) and not found[0].startswith("/") and (project / found[0]).is_file()


def _jenkins_resolves(workspace: Path, case: ET.Element) -> bool:
    """Jenkins junit-attachments: every [[ATTACHMENT|…]], relative to the workspace (or absolute)."""
    found = _attachments(case)
    return bool(found) and all((workspace / p).is_file() for p in found)


def test_junit_attachments_resolve_from_the_ci_project_root(tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET_

    from preuve.report.junit import write_junit
    from preuve.results.model import Result

    project = tmp_path / "project"
    run = synthetic_run.run_dir(project)
    monkeypatch.chdir(project)  # preuve runs in the CI project directory
    results = [Result.model_validate(json.loads(x)) for x in (run / "results.jsonl").read_text().splitlines()]
    info = json.loads((run / "run.json").read_text())
    write_junit(results, run / "junit.xml", info)
    cases = [c for c in ET_.parse(run / "junit.xml").getroot().iter("testcase")]
    assert cases and all(_gitlab_resolves(project, c) and _jenkins_resolves(project, c) for c in cases)
    assert _attachments(cases[0])[0].startswith("reports/run-1/observations/")
    # the defect: paths relative to the run directory resolve from neither project root
    write_junit(results, tmp_path / "old.xml", info, prefix="", run_dir=run)
    old = list(ET_.parse(tmp_path / "old.xml").getroot().iter("testcase"))
    assert not any(_gitlab_resolves(project, c) or _jenkins_resolves(project, c) for c in old)
    # an explicit prefix, for a run moved as an artifact to another folder
    write_junit(results, tmp_path / "moved.xml", info, prefix="artifacts/preuve/", run_dir=run)
    moved = next(ET_.parse(tmp_path / "moved.xml").getroot().iter("testcase"))
    assert _attachments(moved)[0].startswith("artifacts/preuve/observations/")


def test_junit_cases_point_at_the_inventory_line_and_times_match_the_run(tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET_

    import xmlschema

    from preuve.report.junit import write_junit
    from preuve.results.model import Result

    run = synthetic_run.run_dir(tmp_path)
    monkeypatch.chdir(tmp_path)
    results = [Result.model_validate(json.loads(x)) for x in (run / "results.jsonl").read_text().splitlines()]
    info = json.loads((run / "run.json").read_text())
    write_junit(results, run / "junit.xml", info)
    root = ET_.parse(run / "junit.xml").getroot()
    for case in root.iter("testcase"):
        target = case.get("name").split("[", 1)[1][:-1]
        assert (case.get("file"), case.get("line")) == ("inventories/prod.yaml", str(synthetic_run.LINES[target]))
    lines = synthetic_run.INVENTORY.splitlines()
    assert lines[synthetic_run.LINES["beta"] - 1] == "  - name: beta"
    assert root.get("skipped") == str(sum(r.status in ("waived", "not_applicable") for r in results))
    assert float(root.get("time")) == 42.0  # ended_at - started_at of run.json
    suites = list(root.iter("testsuite"))
    assert all(0 <= float(s.get("time")) <= 42.0 for s in suites)  # concurrent checks: a span, not a sum
    assert sum(float(c.get("time")) for c in root.iter("testcase")) > 42.0  # …which the sum would exceed
    xmlschema.XMLSchema(junit_xsd_with_extensions(tmp_path)).validate(run / "junit.xml")
    write_junit(results, tmp_path / "strict.xml", info, run_dir=run, strict=True)
    xmlschema.XMLSchema(FIXTURES / "junit-10.xsd").validate(tmp_path / "strict.xml")


# --- SARIF ----------------------------------------------------------------------------------------------------------


def test_sarif_validates_and_points_at_the_inventory_line(tmp_path):
    from jsonschema import Draft4Validator

    from preuve.report.sarif import sarif

    run = synthetic_run.run_dir(tmp_path)
    results = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    doc = sarif(results, json.loads((run / "run.json").read_text()), run, "en", all_results=True)
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    validator = Draft4Validator(schema)
    assert [e.message for e in validator.iter_errors(doc)] == []
    bad = json.loads(json.dumps(doc))
    bad["runs"][0]["results"][0]["kind"] = "waived"  # the validator does catch a wrong document
    assert list(validator.iter_errors(bad))
    out = doc["runs"][0]["results"]
    assert len(out) == len(results)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for res in out:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] and rules[res["ruleIndex"]]["help"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        target = res["locations"][0]["logicalLocations"][0]["name"]
        assert loc["artifactLocation"] == {"uri": "inventories/prod.yaml", "uriBaseId": "%SRCROOT%"}
        assert loc["region"]["startLine"] == synthetic_run.LINES[target]
        status = res["properties"]["status"]
        assert (
            res["kind"]
            == {"fail": "fail", "waived": "fail", "error": "open", "pass": "pass", "not_applicable": "notApplicable"}[
                status
            ]
        )
        assert (res["level"] != "none") == (status in ("fail", "waived"))
        assert ("suppressions" in res) == (status == "waived")  # waived: not met, risk accepted by its waiver
    default = sarif(results, json.loads((run / "run.json").read_text()), run, "en")["runs"][0]["results"]
    assert {r["properties"]["status"] for r in default} == {"fail", "waived", "error"}


def test_sarif_gives_a_manual_result_to_a_human(tmp_path):
    """A requirement a person must assess is a SARIF `review` (it raised KeyError before), valid, left out of the
    default alert list like a pass."""
    from jsonschema import Draft4Validator

    from preuve.report.sarif import sarif

    run = synthetic_run.run_dir(tmp_path)
    results = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    results[0]["status"] = "manual"
    info = json.loads((run / "run.json").read_text())
    doc = sarif(results, info, run, "en", all_results=True)
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    assert [e.message for e in Draft4Validator(schema).iter_errors(doc)] == []
    manual = [r for r in doc["runs"][0]["results"] if r["properties"]["status"] == "manual"]
    assert [(r["kind"], r["level"]) for r in manual] == [("review", "none")]
    default = sarif(results, info, run, "en")["runs"][0]["results"]
    assert "manual" not in {r["properties"]["status"] for r in default}


# --- OSCAL 1.1.3 ----------------------------------------------------------------------------------------------------


def oscal_validator():
    import regex
    from jsonschema import Draft7Validator, FormatChecker, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator, patrn, instance, schema):  # OSCAL's token pattern uses \p{L}: Python's re lacks it
        if validator.is_type(instance, "string") and not regex.search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    schema = json.loads((FIXTURES / "oscal-1.1.3_assessment-results_schema.json").read_text())
    cls = validators.extend(Draft7Validator, {"pattern": pattern})
    return cls(schema, format_checker=FormatChecker())


def _oscal_doc(tmp_path: Path) -> tuple[dict, list[dict], Path]:
    from preuve.report.exports import oscal

    run = synthetic_run.run_dir(tmp_path)
    results = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    info = json.loads((run / "run.json").read_text())
    return oscal(results, info, run_coverage(info, results)), results, run


def test_oscal_1_1_3_one_finding_per_control_and_import_ap_resolves(tmp_path):
    doc, results, run = _oscal_doc(tmp_path)
    assert [f"{e.json_path}: {e.message[:200]}" for e in oscal_validator().iter_errors(doc)] == []
    ar = doc["assessment-results"]
    assert ar["metadata"]["oscal-version"] == "1.1.3"
    findings = ar["results"][0]["findings"]
    controls = [f["target"]["target-id"] for f in findings]
    assert len(controls) == len(set(controls))  # one per control: never satisfied and not-satisfied at once
    judged = {q for r in results if r["status"] in ("pass", "fail", "waived") for q in r["requirements"]}
    assert set(controls) == {f"snc-{q}" for q in judged}
    for f in findings:
        q = f["target"]["target-id"][4:]
        statuses = {r["status"] for r in results if q in r["requirements"]}
        failing = statuses & {"fail", "waived"}
        assert (f["target"]["status"]["state"] == "not-satisfied") == bool(failing)
        if failing == {"waived"}:
            assert f["target"]["status"]["reason"] == "waived"
    obs = {o["uuid"] for o in ar["results"][0]["observations"]}
    assert all(o["observation-uuid"] in obs for f in findings for o in f["related-observations"])
    # import-ap: a reference inside the document, to a resource whose links are files of the run
    href = ar["import-ap"]["href"]
    res = next(r for r in ar["back-matter"]["resources"] if f"#{r['uuid']}" == href)
    inv = next(link for link in res["rlinks"] if link["href"] == "inputs/inventory.yaml")
    assert (run / inv["href"]).is_file()


def test_oscal_loads_with_compliance_trestle(tmp_path):
    """compliance-trestle pins paramiko==5.0.0 and jinja2==3.1.6 exactly, so it is not in the dev extra (it
    would choose preuve's SSH library): ci/setup.sh installs it in .venv-trestle, or PREUVE_TRESTLE_PYTHON names
    another interpreter that has it."""
    import os
    import subprocess

    import pytest

    default = Path(__file__).parents[2] / ".venv-trestle" / "bin" / "python"
    python = os.environ.get("PREUVE_TRESTLE_PYTHON") or (str(default) if default.exists() else "")
    if not python:
        pytest.skip("no compliance-trestle: run ci/setup.sh (.venv-trestle) or set PREUVE_TRESTLE_PYTHON")
    doc, _, _ = _oscal_doc(tmp_path)
    path = tmp_path / "ar.json"
    path.write_text(json.dumps(doc))
    code = (
        "import pathlib, sys; from trestle.oscal.assessment_results import AssessmentResults; "
        "ar = AssessmentResults.oscal_read(pathlib.Path(sys.argv[1])); "
        "print(len(ar.results[0].findings), ar.metadata.oscal_version.root.root)"
    )
    proc = subprocess.run([python, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    count, version = proc.stdout.split()
    assert int(count) == len(doc["assessment-results"]["results"][0]["findings"]) and version == "1.1.3"


# --- Prowler --------------------------------------------------------------------------------------------------------


def test_prowler_crosswalk_lands_on_prowler_ids(tmp_path):
    import yaml

    from preuve.report.prowler import crosswalk, prowler_id

    ids = set((FIXTURES / "prowler" / "secnumcloud_3.2_ids.txt").read_text().split())
    ours = [
        q["id"]
        for q in yaml.safe_load((Path(__file__).parents[2] / "preuve" / "data" / "secnumcloud-3.2.yaml").read_text())[
            "requirements"
        ]
    ]
    assert {prowler_id(q) for q in ours} == ids  # every preuve item has a Prowler section, every section an item
    assert prowler_id("11.2.1.a") == prowler_id("11.2.2.j") == "11.2" and prowler_id("18.2.1.b") == "18.2"
    results = synthetic_run.results()
    rows = {r["Id"]: r for r in crosswalk(results)["Requirements"]}
    assert set(rows) <= ids
    mfa = [r for r in results if "9.6.f" in r["requirements"]]
    assert rows["9.6"]["Status"] == ("FAIL" if any(r["status"] in ("fail", "waived") for r in mfa) else "PASS")
    assert "9.6.f" in rows["9.6"]["PreuveRequirements"]
    in_96 = {r["finding_id"]: r for r in results if any(q.startswith("9.6.") for q in r["requirements"])}
    assert sum(rows["9.6"]["Counts"].values()) == len(in_96)  # each result once per section


# --- diff -----------------------------------------------------------------------------------------------------------


def test_diff_names_error_to_fail_newly_observed_not_a_regression(tmp_path):
    from preuve.results.diff import diff_runs, summary_lines
    from tests.conftest import preuve

    a = synthetic_run.run_dir(tmp_path / "a")
    b = synthetic_run.run_dir(tmp_path / "b")
    rs = [json.loads(x) for x in (a / "results.jsonl").read_text().splitlines()]
    seen = next(r for r in rs if r["status"] == "error")
    rs_b = [{**r, "status": "fail"} if r is seen else r for r in rs]
    (b / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rs_b))
    d = diff_runs(a, b)
    key = (seen["check_id"], seen["target"]["name"])
    assert [(r["check_id"], r["target"]) for r in d["newly_observed"]] == [key]
    assert d["new_failures"] == [] and d["counts"]["regressions"] == 0
    assert any("NEWLY OBSERVED" in line for line in summary_lines(d, "en"))
    assert preuve("diff", a, b).returncode == 0  # no regression: the probe changed, not the target
    # the same target going pass -> fail is a regression (exit 1)
    ok = next(r for r in rs if r["status"] == "pass")
    rs_c = [{**r, "status": "fail"} if r is ok else r for r in rs]
    (b / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rs_c))
    assert diff_runs(a, b)["counts"]["regressions"] == 1
    assert preuve("diff", a, b).returncode == 1


# --- exports and report.html (the offline chart rendering in Chromium is tests/lab/test_report_charts_offline.py) ---


def test_preuve_export_regenerates_each_output_outside_the_run(tmp_path):
    from preuve.exitcodes import Exit
    from tests.conftest import preuve

    run = synthetic_run.run_dir(tmp_path)
    before = sorted(p.name for p in run.iterdir())
    for fmt in ("junit", "sarif", "oscal", "ciso", "prowler"):
        out = tmp_path / f"out.{fmt}"
        proc = preuve("export", run, "--format", fmt, "-o", out, "--lang", "en")
        assert proc.returncode == 0 and out.stat().st_size > 0, (fmt, proc.stderr)
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written inside the run
    junit = (tmp_path / "out.junit").read_text()
    assert 'file="inventories/prod.yaml"' in junit
    proc = preuve("export", run, "--format", "junit", "--attachment-prefix", "ci/run/", "-o", tmp_path / "p.xml")
    assert proc.returncode == 0 and "[[ATTACHMENT|ci/run/observations/" in (tmp_path / "p.xml").read_text()
    assert preuve("export", tmp_path, "--format", "sarif", "-o", tmp_path / "x").returncode == Exit.USAGE


def test_report_in_english_translates_what_has_a_translation_and_marks_the_french_referential(tmp_path):
    from preuve.report.html import render

    run = synthetic_run.run_dir(tmp_path)
    html = render(run, "en")
    assert '<html lang="en">' in html and "Posture per chapter" in html and "Summary by SecNumCloud chapter" in html
    assert "\\_" not in html  # no markdown escape leaks from the referential's text
    assert "Text of the referential, published in French." in html and '<span lang="fr">' in html
    assert ">non conforme<" not in html and ">dérogation<" not in html  # status labels are English
