"""Coverage an auditor can check line by line: every mapping of a check names the element of the requirement it
evidences and says in one line what it shows; levels are computed from elements, never declared; a run counts a
requirement only through results that judged a target."""

from __future__ import annotations

import json
from pathlib import Path

from preuve.judge.catalogue import load_catalogue
from preuve.report.coverage import check_evidence, coverage, element_ids, evidenced_checks, requirements, totals
from preuve.report.exports import ciso_rows
from preuve.report.html import checks_run, render, run_coverage

DATA = Path(__file__).resolve().parents[2] / "preuve" / "data" / "secnumcloud-3.2.yaml"

# Checks that evidence no element of the referential on their own, each with the reason.
SIGNALS = {
    "S3-ENDPOINT-IP-COUNTRY": "the RIR registration country of an address is a clue, it never shows where data is "
    "stored or processed (S3-ENDPOINT-LOCATION does)",
}


def test_every_mapping_names_an_element_and_says_what_it_shows():
    known = element_ids()
    problems = []
    for cid, info in sorted(load_catalogue().items()):
        ev = info.spec.evidences
        if not ev and cid not in SIGNALS:
            problems.append(f"{cid}: no requirement element (a signal must be listed in SIGNALS with its reason)")
        for key, why in ev:
            if key not in known:
                problems.append(f"{cid}: {key} is no element of preuve/data/secnumcloud-3.2.yaml")
            if not why.strip() or "\n" in why or len(why) > 110:
                problems.append(f"{cid}: {key} needs one line (<= 110 chars) saying what the check shows of it")
    assert problems == [], "\n".join(problems)


def test_no_hand_set_level_and_every_element_is_evidenced_by_some_check():
    assert "automation:" not in DATA.read_text(encoding="utf-8")
    used = {k for info in load_catalogue().values() for k, _ in info.spec.evidences}
    for req in requirements().values():
        if req.elements:  # elements are written for requirements checks touch: none is orphaned
            assert used & {e.id for e in req.elements}, req.id


def test_levels_come_from_elements():
    rows = {c.requirement.id: c for c in coverage(check_evidence(i.spec for i in load_catalogue().values()))}
    assert rows["12.8.b"].level == "automated" and rows["12.8.b"].left == []
    tls = rows["10.2.c"]  # the guide's client-side rules are no server's to show
    assert tls.level == "partial" and [e.id for e in tls.left] == ["10.2.c#5"]
    assert rows["7.1.a"].level == "manual" and rows["7.1.a"].checks == []
    one = {c.requirement.id: c for c in coverage({"X": {"12.5.a#2": "a fresh backup"}})}
    assert one["12.5.a"].level == "partial" and {e.id for e in one["12.5.a"].left} == {"12.5.a#1", "12.5.a#3"}
    assert one["12.8.b"].level == "manual"


def test_mappings_that_claimed_more_than_the_check_shows_are_gone():
    cat = load_catalogue()
    reqs = {cid: set(info.spec.requirements) for cid, info in cat.items()}
    for cid, req in [
        ("SSH-ALLOW-LIST", "9.3.a"),
        ("K8S-RBAC-WILDCARDS", "9.3.b"),
        ("K8S-RBAC-ANONYMOUS", "9.3.b"),
        ("BACKUP-RESTORE-DRILL", "17.6.a"),
        ("S3-ENDPOINT-IP-COUNTRY", "19.2.a"),
        ("SSH-PASSWORD-AUTH", "9.6.f"),
        ("SSH-MAX-AUTH-TRIES", "9.5.b"),
        ("S3-KMS-LOCATION", "10.1.a"),
        ("SSH-ROOT-LOGIN", "9.2.b"),
        ("K8S-RBAC-CLUSTER-ADMIN", "9.3.d"),
        ("SSH-LOG-LEVEL", "12.6.a"),
        ("K8S-AUDIT-LOG", "12.6.a"),
        ("K8S-VELERO-BACKUPS", "12.5.c"),
        ("TLS-CERT-KEY", "10.5.a"),
    ]:
        assert req not in reqs[cid], (cid, req)
    for cid, element in [
        ("K8S-SECRETS-ENCRYPTION", "10.5.c#1"),
        ("SSH-ROOT-LOGIN", "9.5.d#1"),
        ("SSH-LOG-LEVEL", "12.6.b#1"),
        ("K8S-AUDIT-LOG", "12.6.b#1"),
        ("NET-FLOW-DENIED", "9.7.c#1"),
    ]:
        assert element in dict(cat[cid].spec.evidences), (cid, element)


def _result(check_id: str, target: str, status: str) -> dict:
    info = load_catalogue()[check_id]
    return {
        "check_id": check_id,
        "target": {"name": target, "kind": info.spec.target},
        "status": status,
        "requirements": list(info.spec.requirements),
        "finding_id": f"F-{check_id}",
        "message": {"fr": "m", "en": "m"},
    }


def test_a_run_counts_a_requirement_only_through_results_that_judged_something():
    """An inventory without backups or clusters: the selected BACKUP-* and K8S-* checks have no target (no result),
    a cluster check that only erred and a bucket check that did not apply evidence nothing."""
    cat = load_catalogue()
    run = {"checks_selected": sorted(cat)}
    results = [
        _result("TLS-VERSIONS", "tls-good", "pass"),
        _result("TIME-LOG-TIMESTAMPS", "prod-1", "fail"),
        _result("SSH-ROOT-LOGIN", "prod-1", "waived"),
        _result("K8S-AUDIT-LOG", "k8s-gone", "error"),
        _result("S3-BACKUP-VERSIONING", "data-bucket", "not_applicable"),
    ]
    rows = {c.requirement.id: c for c in run_coverage(run, results)}
    assert rows["12.8.b"].level == "automated"  # a failure is evidence too: the element was judged
    assert rows["9.5.d"].level == "partial" and rows["10.2.c"].level == "partial"
    for rid in ("12.5.a", "12.5.b", "12.5.c", "12.5.d", "10.1.d", "9.7.a", "9.3.c", "12.6.c", "10.5.c", "19.2.b"):
        assert rows[rid].level == "manual" and rows[rid].checks == [], rid
    assert set(evidenced_checks(results, cat)) == {"TLS-VERSIONS", "TIME-LOG-TIMESTAMPS", "SSH-ROOT-LOGIN"}
    split = checks_run(run, results)
    assert split["judged"] == ["SSH-ROOT-LOGIN", "TIME-LOG-TIMESTAMPS", "TLS-VERSIONS"]
    assert split["nothing_judged"] == ["K8S-AUDIT-LOG", "S3-BACKUP-VERSIONING"]
    assert "BACKUP-RESTORE-DRILL" in split["no_target"] and "K8S-VELERO-BACKUPS" in split["no_target"]
    assert totals(list(rows.values()))["automated"] == 1
    by_ref = {r["ref_id"]: r for r in ciso_rows(results, list(rows.values()))}
    left = by_ref["10.2.c"]["observations"].split("left to the auditor: ", 1)[1]
    assert "10.2.c#2" in left and "10.2.c#5" in left and "10.2.c#1" not in left  # only TLS-VERSIONS (#1) ran
    assert by_ref["10.2.c"]["compliance_result"] == ""  # a pass on one element never makes the requirement compliant
    assert "12.5.a" not in by_ref  # no backup in this inventory: no row, the auditor's assessment is left alone


def test_the_report_lists_only_checks_that_judged_and_the_elements_left(tmp_path):
    cat = load_catalogue()
    stats = dict.fromkeys(("pass", "fail", "error", "waived", "not_applicable", "total"), 0) | {"pass": 1, "total": 1}
    run = {
        "run_id": "r1",
        "checks_selected": sorted(cat),
        "started_at": "2026-12-04T00:00:00Z",
        "ended_at": "2026-12-04T00:00:01Z",
        "stats": stats,
        "tool": {"name": "preuve", "version": "0", "commit": "", "python": "3.11"},
        "profile": {"id": "p", "version": "1", "chain": ["p"], "sha256": "0" * 64},
        "inventory": {"name": "inv.yaml", "sha256": "0" * 64},
        "scanner": {"hostname": "h"},
    }
    results = [
        {
            **_result("TLS-VERSIONS", "tls-good", "pass"),
            "finding_id": "F-1",
            "severity": "high",
            "title": {"fr": "t", "en": "t"},
            "message": {"fr": "m", "en": "m"},
            "evidence": [],
            "rule": "R3",
            "expected": [],
            "observed": [],
            "remediation": {"fr": "", "en": ""},
            "waiver": None,
        }
    ]
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "results.jsonl").write_text(json.dumps(results[0]) + "\n")
    html = render(tmp_path, "en")
    judged = html[html.index('id="checks-judged"') :]
    assert judged[: judged.index("</p>")].endswith(">TLS-VERSIONS")
    no_target = html[html.index('id="checks-no-target"') :]
    assert "BACKUP-RESTORE-DRILL" in no_target[: no_target.index("</p>")]
    assert "10.2.c#5" in html  # the element of the partial requirement left to the auditor


def test_junit_names_a_signal_check_without_a_requirement(tmp_path):
    """A check mapped to no requirement still gets a unique case, in its own class and suite (no crash)."""
    import xml.etree.ElementTree as ET

    from preuve.report.junit import NO_REQUIREMENT, write_junit
    from preuve.results.model import Result

    def res(check_id: str, reqs: list[str]) -> Result:
        return Result(
            finding_id="PV-1",
            check_id=check_id,
            title={"fr": "t", "en": "t"},
            requirements=reqs,
            rule="r",
            severity="low",
            target={"name": "s3", "kind": "s3_endpoint", "address": "198.18.4.50"},
            status="pass",
            expected={},
            observed={},
            expectations=[],
            message={"fr": "m", "en": "m"},
            evidence=[],
        )

    run = {
        "profile": {"id": "p", "version": "1", "sha256": "0"},
        "run_id": "r",
        "tool": {"version": "0"},
        "inventory": {"sha256": "0"},
        "started_at": "2026-12-04T00:00:00Z",
        "scanner": {"hostname": "h"},
    }
    write_junit([res("S3-ENDPOINT-IP-COUNTRY", []), res("S3-ENDPOINT-LOCATION", ["19.2.b"])], tmp_path / "j.xml", run)
    cases = {c.get("name"): c.get("classname") for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")}
    assert cases == {
        "S3-ENDPOINT-IP-COUNTRY[s3]": f"secnumcloud.{NO_REQUIREMENT}",
        "S3-ENDPOINT-LOCATION[s3]": "secnumcloud.19.2.b",
    }
