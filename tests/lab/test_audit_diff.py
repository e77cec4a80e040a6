"""Diff of two lab runs with a deliberate change in between: a stricter profile (listed as a profile change, not
as a regression) and an infrastructure change (tls-good now served by the weak server: a regression, exit 1)."""

from __future__ import annotations

import json
import shutil

import pytest

from preuve.exitcodes import Exit
from tests.conftest import LAB_INVENTORY, preuve, scan

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def degraded(lab_run, tmp_path_factory):
    """The lab scanned again after a bad change: tls-good's name now points at the weak server, and tls-weak was
    renamed in the inventory (one target removed, one added). Compared with the lab scan via --previous."""
    d = tmp_path_factory.mktemp("degraded")
    for f in LAB_INVENTORY.parent.glob("lab*.yaml"):  # the inventory and the files it names relatively
        shutil.copy(f, d / f.name)
    inv = d / LAB_INVENTORY.name
    text = inv.read_text()
    changed = text.replace("{name: tls-good, address: 198.18.3.10,", "{name: tls-good, address: 198.18.3.11,")
    changed = changed.replace("{name: tls-weak,", "{name: tls-weak-2,")
    assert changed.count("198.18.3.11") == text.count("198.18.3.11") + 1 and "tls-weak-2" in changed
    inv.write_text(changed)
    run = scan(d / "run", "--previous", lab_run.out, inventory=inv)
    assert run.code == Exit.NON_COMPLIANT, run.proc.stderr
    return run


def test_infrastructure_regression_is_reported_and_exits_1(lab_run, degraded, tmp_path):
    out = tmp_path / "diff.json"
    proc = preuve("diff", lab_run.out, degraded.out, "-o", out)
    assert proc.returncode == 1, proc.stderr
    d = json.loads(out.read_text())
    assert d["profile_change"] is None
    regressions = {(r["check_id"], r["target"]) for r in d["regressions"]}
    assert ("TLS-VERSIONS", "tls-good") in regressions
    row = next(r for r in d["new_failures"] if (r["check_id"], r["target"]) == ("TLS-VERSIONS", "tls-good"))
    assert row["before"] == "pass" and row["after"] == "fail" and not row["due_to_profile"]
    changed = {(r["check_id"], r["target"]) for r in d["changed_observed"]}
    assert ("TLS-VERSIONS", "tls-good") in changed
    assert d["targets_added"] == ["tls-weak-2"] and d["targets_removed"] == ["tls-weak"]
    assert ("TLS-VERSIONS", "tls-weak") not in {(r["check_id"], r["target"]) for r in d["fixed"]}  # gone, not fixed
    assert any(r["check_id"] == "TLS-VERSIONS" and r["target"] == "tls-weak-2" for r in d["new_failures"])
    assert "régressions" in proc.stdout and "TLS-VERSIONS[tls-good]" in proc.stdout
    # the run itself carries the same diff (--previous) and the report's trend section shows it
    own = json.loads((degraded.out / "diff.json").read_text())
    assert own["counts"] == d["counts"]
    html = (degraded.out / "report.html").read_text()
    trend = html[html.index('id="trend"') : html.index('id="critical"')]
    assert "TLS-VERSIONS [tls-good] (pass → fail)" in trend


def test_stricter_profile_is_a_profile_change_not_a_regression(lab_run, tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        'id: strict\nversion: "1.0"\ntitle: {fr: strict, en: strict}\nselect: {checks: ["TLS-*"]}\n'
        "params:\n  tls: {versions_allowed: [TLSv1.3]}\n"
    )
    b = scan(tmp_path / "strict-run", profile=strict)
    assert b.code == Exit.NON_COMPLIANT, b.proc.stderr
    proc = preuve("diff", lab_run.out, b.out, "--lang", "en", "-o", tmp_path / "d.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing regressed on the infrastructure
    d = json.loads((tmp_path / "d.json").read_text())
    change = d["profile_change"]
    assert change["before"]["id"] == "secnumcloud-3.2" and change["after"]["id"] == "strict"
    assert "tls.versions_allowed" in {p["param"] for p in change["params_changed"]}
    row = next(r for r in d["new_failures"] if (r["check_id"], r["target"]) == ("TLS-VERSIONS", "tls-good"))
    assert row["due_to_profile"] and d["counts"]["regressions"] == 0
    assert "SSH-KEX" in d["checks_removed"] and "SSH-KEX" in change["checks_selected_removed"]
    assert "explained by the profile change" in proc.stdout and "profile changed" in proc.stdout


def test_diff_of_a_run_with_itself_is_empty(lab_run):
    proc = preuve("diff", lab_run.out, lab_run.out)
    assert proc.returncode == 0
    assert "régressions: 0" in proc.stdout and "nouvelles non-conformités: 0" in proc.stdout
