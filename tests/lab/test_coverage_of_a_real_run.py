"""A real lab run without backups or clusters counts no requirement through them. The coverage rules without the
lab: tests/unit/test_coverage_honest.py."""

from __future__ import annotations

import csv
import json

import pytest

from preuve.report.html import run_coverage
from tests.conftest import preuve

# Checks that evidence no element of the referential on their own, each with the reason.


@pytest.mark.lab
def test_a_real_run_without_backups_or_clusters_does_not_count_them(lab_run, tmp_path):
    """The lab's own scan re-judged offline on its TLS endpoints only: the full profile still selects BACKUP-*,
    K8S-* and LOC-K8S-*, which then have no target; the run's report, CSV and OSCAL count none of their requirements."""
    out = tmp_path / "tls-only"
    proc = preuve("judge", lab_run.out, "--only", "tls-good", "tls-weak", "-o", out, "-q")
    assert proc.returncode in (0, 1, 2), proc.stderr
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines() if x.strip()]
    assert results and {r["check_id"].split("-")[0] for r in results} == {"TLS"}
    run = json.loads((out / "run.json").read_text())
    assert "BACKUP-RESTORE-DRILL" in run["checks_selected"]  # selected, yet nothing stands behind it
    rows = {c.requirement.id: c for c in run_coverage(run, results)}
    for rid in ("12.5.a", "12.5.c", "12.5.d", "9.7.a", "9.3.c", "10.5.c", "19.2.b", "12.6.c"):
        assert rows[rid].level == "manual" and rows[rid].checks == [], rid
    assert rows["10.2.c"].level == "partial"
    with (out / "ciso-assistant.csv").open(newline="") as fh:
        rows_csv = {r["ref_id"]: r for r in csv.DictReader(fh)}
    assert "12.5.a" not in rows_csv  # not assessed: no row, an import leaves the auditor's assessment alone
    html = (out / "report.html").read_text()
    judged = html[html.index('id="checks-judged"') :]
    assert "BACKUP-" not in judged[: judged.index("</p>")] and "K8S-" not in judged[: judged.index("</p>")]
    doc = json.loads((out / "oscal-assessment-results.json").read_text())
    reviewed = doc["assessment-results"]["results"][0]["reviewed-controls"]["control-selections"][0]
    assert {c["control-id"] for c in reviewed["include-controls"]} <= {
        "snc-10.2.a",
        "snc-10.2.b",  # TLS-SUITES: only the ANSSI-recommended suites (10.2.b#1)
        "snc-10.2.c",
        "snc-9.6.e",
        "snc-10.6.a",
    }
    props: dict[str, set[str]] = {}
    for f in doc["assessment-results"]["results"][0]["findings"]:
        if f["target"]["target-id"] == "snc-10.2.c":
            for p in f["props"]:
                props.setdefault(p["name"], set()).add(p["value"])
    assert props["requirement-coverage"] == {"partial"}  # a satisfied finding speaks for its elements only
    assert {"10.2.c#1", "10.2.c#2", "10.2.c#3"} <= props["evidences-element"]
