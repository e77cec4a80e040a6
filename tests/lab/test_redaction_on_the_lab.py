"""Redaction never rewrites a fact (issue 14, defect 12).

A registered secret used to be masked by substring wherever it appeared in an observation, so a dictionary-like
secret equal to something the target returned (a KMS key ARN, a user name, a CN) rewrote the fact a check judges
and an auditor reads. Now preuve's own side of an observation (query, error message) is masked in place, the
collectors keep secrets out of their transcripts, and a secret still found in the target's answer withholds the
observation as a loud error instead (preuve.evidence.redact). These tests fail on 9e2fc5d (the fact is rewritten
to «redacted» and the observation stays ok).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preuve.evidence.redact import MASK, SECRET_IN_FACT
from preuve.exitcodes import Exit
from tests.conftest import lab_inventory, preuve, scan

# --- on the lab: real S3 (moto) and Loki stand-in, the judge and a re-judge --------------------------------------

KMS_ARN_TAIL = "123456789012:key/delta"  # inside the KMS key ARN of delta's buckets (pv-customer-london, -sharedkey)
WITHHELD = {
    ("s3_bucket", "pv-customer-london"),
    ("s3_bucket", "pv-customer-sharedkey"),
    ("s3_endpoint", "lab-s3-london"),
}


def _inventory(tmp: Path, api_key_env: str) -> Path:
    def edit(data: dict) -> None:
        data["s3"]["endpoints"] = [e for e in data["s3"]["endpoints"] if e["name"] == "lab-s3-london"]
        data["s3"]["buckets"] = [b for b in data["s3"]["buckets"] if b["endpoint"] == "lab-s3-london"]
        data["s3"].pop("tenant_canaries", None)  # they read the endpoint left out here
        loki = next(s for s in data["log_stores"] if s["name"] == "loki-good")
        data["log_stores"] = [{**loki, "api_key": {"env": api_key_env}}]  # the Loki stand-in takes any key

    tmp.mkdir(parents=True, exist_ok=True)
    return lab_inventory(tmp, edit, keep=("s3", "log_stores"))


def _statuses(out: Path) -> dict[tuple[str, str], tuple[str, str]]:
    rows = map(json.loads, (out / "results.jsonl").open())
    return {(r["check_id"], r["target"]["name"]): (r["status"], r["message"]["en"]) for r in rows}


@pytest.fixture(scope="module")
def two_runs(lab_module, tmp_path_factory):
    """The same targets scanned twice: with a Loki API key that happens to equal part of a KMS key ARN the S3
    server returns, and with an unrelated key."""
    tmp = tmp_path_factory.mktemp("redaction")
    env = {"PV_REDACTION_KEY": KMS_ARN_TAIL, "PV_OTHER_KEY": "an-unrelated-api-key-2026"}
    clash = scan(tmp / "clash", inventory=_inventory(tmp / "clash-in", "PV_REDACTION_KEY"), env=env)
    plain = scan(tmp / "plain", inventory=_inventory(tmp / "plain-in", "PV_OTHER_KEY"), env=env)
    for run in (clash, plain):
        assert run.proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), run.proc.stderr
    return clash, plain


@pytest.mark.lab
def test_a_secret_equal_to_a_returned_fact_is_an_error_never_a_rewritten_fact(two_runs):
    clash, plain = two_runs
    for collector, name in WITHHELD:
        obs = json.loads((clash.out / "observations" / collector / f"{name}.json").read_text())
        assert obs["ok"] is False and obs["error_kind"] == SECRET_IN_FACT, (name, obs["error"])
        assert "log_stores.0.api_key (env PV_REDACTION_KEY)" in obs["error"] and ".kms_key" in obs["error"]
        assert obs["facts"] == {} and obs["raw"] is None
    leaks = [p for p in clash.out.rglob("*") if p.is_file() and KMS_ARN_TAIL in p.read_text(errors="replace")]
    assert not leaks, leaks
    for path in (clash.out / "observations").glob("*/*.json"):  # nothing the target returned was rewritten
        obs = json.loads(path.read_text())
        assert MASK not in json.dumps([obs["facts"], obs["raw"]]), path
    got, want = _statuses(clash.out), _statuses(plain.out)
    assert got.keys() == want.keys() and got
    for (check, name), (status, message) in got.items():
        if any(name == n for _, n in WITHHELD):
            assert status == "error" and "a secret appeared in a fact position" in message, (check, name, message)
        else:  # pv-customer-us, and the Loki store whose own key stays out of its evidence: as without the clash
            assert (status, message) == want[(check, name)], (check, name)
    assert any(name == "pv-customer-us" for _, name in got) and any(name == "loki-good" for _, name in got)
    us = "observations/s3_bucket/pv-customer-us.json"
    assert json.loads((clash.out / us).read_text())["facts"] == json.loads((plain.out / us).read_text())["facts"]


@pytest.mark.lab
def test_rejudging_the_run_gives_the_same_verdicts(two_runs, tmp_path):
    clash, _ = two_runs
    again = tmp_path / "judged"
    proc = preuve("judge", clash.out, "-o", again, "-q")
    assert proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), proc.stdout + proc.stderr
    assert _statuses(again) == _statuses(clash.out)


@pytest.mark.lab
def test_no_secret_the_lab_inventory_references_is_in_the_full_scan(lab_run):
    """Every secret reference of the lab inventory (S3 keys, backup passwords and backend keys, the cluster
    token, log store passwords, canary passwords, seeds and keys: beyond the keys/ folder that
    test_issue5_matrix greps), resolved as the run resolves it: in no file of the run, and no observation of
    the demo's scan withheld (the collectors keep them out by construction, the safety net never fired)."""
    from preuve.inputs.inventory import _secret_refs, load_inventory
    from tests.conftest import LAB_INVENTORY

    inv, _ = load_inventory(LAB_INVENTORY)
    secrets: dict[str, str] = {}
    for loc, ref in _secret_refs(inv, ()):
        value = ref.resolve()
        lines = [ln for ln in value.splitlines() if len(ln) >= 16 and "PRIVATE KEY" not in ln]
        for i, v in enumerate(lines if "PRIVATE KEY" in value else [value]):
            secrets[f"{'.'.join(map(str, loc))} #{i}"] = v
    kinds = {k.split(".")[0] for k in secrets}
    assert {"s3", "backups", "log_stores", "baseline", "kubernetes"} <= kinds and len(secrets) >= 40, sorted(secrets)
    texts = {"stdout": lab_run.proc.stdout, "stderr": lab_run.proc.stderr}
    texts |= {str(p): p.read_bytes().decode("utf-8", "replace") for p in lab_run.out.rglob("*") if p.is_file()}
    leaks = [(name, where) for name, s in secrets.items() for where, t in texts.items() if s in t]
    assert not leaks, leaks
    withheld = [p.name for p in (lab_run.out / "observations").glob("*/*.json") if SECRET_IN_FACT in p.read_text()]
    assert not withheld, withheld
