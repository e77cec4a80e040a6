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

from preuve.evidence.redact import MASK, SECRET_IN_FACT, Redactor
from preuve.exitcodes import Exit
from tests.conftest import lab_inventory, preuve, scan
from tests.support.keys import throwaway_private_key

SECRET = "administrator-2026"  # dictionary-like, long enough to be accepted


def _web(facts: dict, raw: object, query: dict | None = None, error: str | None = None) -> dict:
    return {
        "collector": "web_mfa",
        "target": "w",
        "identity": None,
        "query": query or {"user": "webadmin"},
        "started_at": "2026-12-04T00:00:00.000Z",
        "duration_ms": 1.0,
        "ok": error is None,
        "error": error,
        "error_kind": None,
        "facts": facts,
        "raw": raw,
        "tool": "t",
    }


def test_a_secret_echoed_in_a_fact_withholds_the_observation_instead_of_rewriting_it():
    """The web admin password equals a user name the server lists: the old redactor wrote `«redacted»` in the
    fact and the check judged that; now the observation is an error saying where, and which secret."""
    r = Redactor()
    r.register(SECRET, "the secret of web_admins.0.password (env PV_WEB)")
    obs = _web({"session_user": SECRET, "users": ["webadmin", SECRET]}, {"page": f"<li>{SECRET}</li>"})
    out = r.observation(obs)
    assert out["ok"] is False and out["error_kind"] == SECRET_IN_FACT
    assert out["facts"] == {} and out["raw"] is None  # not recorded at all, rather than rewritten
    assert "a secret appeared in a fact position" in out["error"]
    assert "web_admins.0.password (env PV_WEB) in facts.users[1]" in out["error"], out["error"]
    assert "facts.session_user" in out["error"] and "raw.page" in out["error"]
    assert SECRET not in json.dumps(out) and MASK not in json.dumps(out)


def test_facts_without_the_secret_are_kept_verbatim_and_preuve_side_is_masked():
    """What preuve sent (query) and said (error) are its own words: masked in place. A fact that merely
    resembles the secret ("administrator", "administrator-2025") is the target's: byte for byte."""
    r = Redactor()
    r.register(SECRET)
    facts = {"users": ["administrator", "administrator-2025"], "cn": "CN=admin.lab.test"}
    out = r.observation(_web(facts, {"status": 200}, query={"sent": f"user=webadmin&password={SECRET}"}))
    assert out["ok"] is True and out["facts"] == facts and out["raw"] == {"status": 200}
    assert out["query"] == {"sent": f"user=webadmin&password={MASK}"}
    failed = r.observation(_web({}, None, error=f"POST https://x/login password={SECRET}: HTTP 500"))
    assert failed["error"] == f"POST https://x/login password={MASK}: HTTP 500"
    assert failed["error_kind"] is None  # an error already; its message is preuve's, masked in place


def test_private_key_shapes_are_masked_everywhere_and_public_collectors_keep_their_facts():
    r = Redactor()
    r.register(SECRET)
    pem = throwaway_private_key("openssh").strip()
    out = r.observation(_web({"file": pem}, None))
    assert out["ok"] is True and out["facts"] == {"file": MASK}  # no check judges a private key's body
    tls = {**_web({"certificate": {"subject": f"CN={SECRET}.lab.test"}}, None), "collector": "tls"}
    assert r.observation(tls)["facts"]["certificate"]["subject"] == f"CN={SECRET}.lab.test"


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


def test_a_secret_written_in_clear_in_the_inventory_is_refused_by_reference(tmp_path):
    """A secret equal to a name the inventory writes in clear (here the endpoint's own name) would be copied into
    every run's inputs/ and name evidence files: lint refuses it with the reference, never the value."""
    from tests.test_inputs import INVENTORY

    secret = "s3-paris-endpoint-2026"
    text = INVENTORY + (
        f"s3:\n  endpoints:\n    - {{name: {secret}, provider: ovh, url: 'https://s3.example',\n"
        "       access_key: {env: PV_TEST_S3_ID}, secret_key: {env: PV_TEST_S3_SECRET}}\n"
    )
    (tmp_path / "inventory.yaml").write_text(text)
    env = {"PV_TEST_S3_ID": "an-access-key-id-2026", "PV_TEST_S3_SECRET": secret}
    proc = preuve("lint", "-i", tmp_path / "inventory.yaml", env=env)
    assert proc.returncode == Exit.INVALID_INPUT, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "s3.endpoints[0].secret_key" in out and "env PV_TEST_S3_SECRET" in out and "in clear" in out, out
    assert "access_key" not in out.replace("secret_key", ""), out  # the other reference is fine
    assert secret not in out, out
    proc = preuve("lint", "-i", tmp_path / "inventory.yaml", env={**env, "PV_TEST_S3_SECRET": "another-secret-2026"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_inventory_secrets_are_registered_before_observing_in_every_spelling(tmp_path, monkeypatch):
    """register_inventory (called before the first observation is stored) knows each secret with its reference,
    a TOTP seed in hex and base32, a log store password as its basic-auth header: the safety net catches each."""
    import base64

    from preuve.inputs.inventory import load_inventory
    from preuve.observe.reveal import register_inventory
    from tests.test_inputs import INVENTORY

    fresh = Redactor()
    monkeypatch.setattr("preuve.observe.reveal.REDACTOR", fresh)
    monkeypatch.setenv("PV_T_ES", "es-password-value-2026")
    text = INVENTORY + (
        "log_stores:\n  - {name: es1, kind: elasticsearch, url: 'https://198.18.4.21:9200', indices: ['logs-*'],\n"
        "     user: auditor, password: {env: PV_T_ES}}\n"
    )
    (tmp_path / "inventory.yaml").write_text(text)
    inv, _ = load_inventory(tmp_path / "inventory.yaml")
    assert register_inventory(inv) == 2
    header = base64.b64encode(b"auditor:es-password-value-2026").decode()
    out = fresh.observation(_web({"echo": f"Authorization: Basic {header}"}, None))
    assert (
        out["error_kind"] == SECRET_IN_FACT
        and "basic-auth header of the secret of log_stores.0.password" in out["error"]
        and "(env PV_T_ES)" in out["error"]
        and header not in json.dumps(out)
    )
    seed_hex = "3132333435363738393031323334353637383930"
    seed_b32 = base64.b32encode(bytes.fromhex(seed_hex)).decode().rstrip("=")
    from preuve.observe.reveal import _forms

    assert _forms(inv, ("baseline", "web_admins", 0, "totp"), seed_hex) == [("base32 form", seed_b32)]
    assert _forms(inv, ("baseline", "web_admins", 0, "totp"), seed_b32) == [("hex form", seed_hex)]
