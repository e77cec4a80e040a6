"""Retention of central log stores (LOG-STORE-RETENTION, 12.6.c): the decision functions on documented API
shapes, the inventory section, and the check both ways on the lab (moto S3 lifecycle rules, and the Loki /
Elasticsearch / OpenSearch stand-ins of preuve_lab.logstores), with the observed days quoted in every failure.
Missing or unreadable configuration must be `error`, never `pass`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import lab_inventory, scan

LAB = Path("/var/tmp/preuve-lab")
PASSWORD = LAB / "keys" / "log-stores.password"


# --- durations -----------------------------------------------------------------------------------------------


# --- S3 lifecycle ----------------------------------------------------------------------------------------------


# --- Loki ------------------------------------------------------------------------------------------------------


# --- Elasticsearch ILM and OpenSearch ISM ----------------------------------------------------------------------


# --- inventory -------------------------------------------------------------------------------------------------


# --- on the lab ------------------------------------------------------------------------------------------------

EXPECTED = {
    "s3-logs-good": ("pass", "400 d (Expiration.Days 400; transitions GLACIER at 30 d keep the data)"),
    "s3-logs-short": ("fail", "90 d (Expiration.Days 90)"),
    "loki-good": ("pass", "185 d (retention_period 185d)"),
    "loki-short": ("fail", "31 d (retention_period 31d)"),
    "es-logs-good": ("pass", "200 d (delete phase min_age 200d"),
    "es-logs-short": ("fail", "30 d (delete phase min_age 30d"),
    "os-logs-good": ("pass", "200 d (default state hot -> warm on min_index_age 7d -> delete on min_index_age 200d)"),
    "os-logs-short": ("fail", "30 d (default state hot -> warm on min_index_age 7d -> delete on min_index_age 30d)"),
    "s3-logs-none": ("pass", "unbounded (no lifecycle configuration)"),
    "s3-locked": ("pass", "unbounded (no lifecycle configuration; object lock COMPLIANCE 30 d by default)"),
    "es-wrong-password": ("error", "HTTP 401"),
    "es-no-index": ("fail", "no index matches the log index patterns"),  # observed absence: a finding
    "loki-closed-port": ("error", "GET /config"),
}
SHORT_DAYS = {"s3-logs-short": 90, "loki-short": 31, "es-logs-short": 30, "os-logs-short": 30, "es-no-index": 0}


@pytest.fixture(scope="module")
def stores_run(lab_module, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("log-stores")
    wrong = tmp / "wrong.password"
    wrong.write_text("not-the-password\n")

    def edit(data):
        stores = data["log_stores"]
        es = next(s for s in stores if s["name"] == "es-logs-short")
        stores += [
            {"name": "s3-logs-none", "kind": "s3", "endpoint": "lab-s3", "bucket": "pv-logs-unencrypted"},
            {"name": "s3-locked", "kind": "s3", "endpoint": "lab-s3", "bucket": "pv-backup-locked"},
            {**es, "name": "es-wrong-password", "password": {"file": str(wrong)}},
            {**es, "name": "es-no-index", "indices": ["nothing-*"]},
            {"name": "loki-closed-port", "kind": "loki", "url": "https://198.18.4.21:3199"},
        ]

    inventory = lab_inventory(tmp, edit, keep=("s3", "log_stores"))
    run = scan(tmp / "run", "--select", "LOG-STORE-RETENTION", inventory=inventory)
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    return run


@pytest.mark.lab
@pytest.mark.parametrize("target", sorted(EXPECTED))
def test_each_store_both_ways(stores_run, target):
    status, quote = EXPECTED[target]
    r = stores_run.result("LOG-STORE-RETENTION", target)
    assert r["status"] == status, r["message"]
    assert quote in r["message"]["en"], (quote, r["message"])
    if status == "fail":
        fr = r["message"]["fr"]
        assert f"observé {SHORT_DAYS[target]}" in fr and "183" in fr, fr  # the shortest retention vs the threshold
        assert r["remediation"]["fr"] and r["remediation"]["en"]
    if status != "error":
        assert r["evidence"] and all(len(e["sha256"]) == 64 for e in r["evidence"])


@pytest.mark.lab
def test_every_store_is_judged_and_the_run_exit_code(stores_run):
    assert {r["target"]["name"] for r in stores_run.results} == set(EXPECTED)
    assert stores_run.code == 1  # at least one fail


@pytest.mark.lab
def test_no_store_password_in_any_output(stores_run):
    secret = PASSWORD.read_text().strip()
    assert len(secret) >= 16
    texts = [stores_run.proc.stdout, stores_run.proc.stderr]
    texts += [p.read_text(errors="replace") for p in stores_run.out.rglob("*") if p.is_file()]
    assert not any(secret in t for t in texts)


@pytest.mark.lab
def test_evidence_holds_the_store_answers(stores_run):
    """The raw API answers are the evidence: Loki's YAML config, the ILM policy, the lifecycle rules."""
    obs = stores_run.out / "observations" / "log_store"
    loki = json.loads((obs / "loki-short.json").read_text())
    assert loki["raw"]["config"]["compactor"]["retention_enabled"] is True
    assert loki["facts"]["config"]["limits_config"]["retention_period"] == "31d"
    es = json.loads((obs / "es-logs-short.json").read_text())
    assert es["raw"]["policies"]["logs-30d"]["policy"]["phases"]["delete"]["min_age"] == "30d"
    s3 = json.loads((obs / "s3-logs-short.json").read_text())
    assert s3["facts"]["lifecycle_rules"][0]["Expiration"] == {"Days": 90}


@pytest.mark.lab
def test_stand_ins_refuse_anonymous_clients(lab_up):
    """Elasticsearch and OpenSearch stand-ins demand credentials, as a secured cluster does."""
    import requests

    from preuve_lab import netns

    with netns.enter("pv-admin"):
        for port in (9201, 9211):
            r = requests.get(
                f"https://198.18.4.21:{port}/_ilm/policy", verify=str(LAB / "logstores" / "cert.pem"), timeout=5
            )
            assert r.status_code == 401 and r.json()["error"]["type"] == "security_exception"


@pytest.mark.lab
def test_full_lab_scan_judges_the_stores(lab_run):
    """The full profile (the demo's) selects LOG-STORE-RETENTION and reaches the same verdicts on the lab."""
    lab_stores = {
        n: v
        for n, v in EXPECTED.items()
        if n.startswith(("s3-logs-good", "s3-logs-short", "loki-good", "loki-short", "es-logs", "os-logs"))
    }
    assert len(lab_stores) == 8
    for name, (status, quote) in lab_stores.items():
        r = lab_run.result("LOG-STORE-RETENTION", name)
        assert r["status"] == status and quote in r["message"]["en"], (name, r["message"])
