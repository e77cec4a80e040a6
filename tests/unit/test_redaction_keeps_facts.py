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

from preuve.evidence.redact import MASK, SECRET_IN_FACT, Redactor
from preuve.exitcodes import Exit
from tests.conftest import preuve
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


def test_a_secret_written_in_clear_in_the_inventory_is_refused_by_reference(tmp_path):
    """A secret equal to a name the inventory writes in clear (here the endpoint's own name) would be copied into
    every run's inputs/ and name evidence files: lint refuses it with the reference, never the value."""
    from tests.unit.test_input_errors import INVENTORY

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
    from tests.unit.test_input_errors import INVENTORY

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
