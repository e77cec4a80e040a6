"""MFA-OIDC-PASSWORD-GRANT on the lab: the IdP stand-in in pv-dmz (preuve_lab.idp) refuses the canary's password
grant on :8444 the way Keycloak does with "Direct access grants" off, and issues tokens for it on :9444.

Proven with real requests from pv-admin, then judged by a real `preuve run`: compliant passes, weak fails quoting
the tokens it got, a wrong canary password is an error (never a pass); no password, client secret or issued token
appears in the run directory or on stdout/stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import lab_inventory, scan

pytestmark = pytest.mark.lab

LAB = Path("/var/tmp/preuve-lab")
PASSWORD = LAB / "keys" / "web-admin.password"
CLIENT_SECRET = LAB / "keys" / "idp-client.secret"
LAST_ISSUED = LAB / "idp" / "last-issued.json"
CA = LAB / "webadmin" / "cert.pem"
GOOD, WEAK = "web-admin-mfa-oidc", "web-admin-password-only-oidc"

# (check, target) -> expected status, and what the message must quote
EXPECTED = {
    ("MFA-OIDC-PASSWORD-GRANT", GOOD): ("pass", "observé unauthorized_client"),
    ("MFA-OIDC-PASSWORD-GRANT", WEAK): ("fail", 'observé ["access_token", "id_token", "refresh_token"] ; attendu : []'),
    # issue 12: the browser login's code step (:10446 takes any code; its password grant is refused)
    ("MFA-OIDC-PASSWORD-GRANT", "web-admin-otp-any-oidc"): ("pass", "observé unauthorized_client"),
    ("MFA-OIDC-FACTOR", GOOD): ("pass", "code faux (6 chiffres) après le mot de passe : observé refused"),
    ("MFA-OIDC-FACTOR", WEAK): ("pass", "code vide après le mot de passe : observé refused"),
    ("MFA-OIDC-FACTOR", "web-admin-otp-any-oidc"): (
        "fail",
        "(6 chiffres) après le mot de passe : observé code issued ; attendu : refused",
    ),
}


def _in_admin(fn):
    from preuve_lab import netns

    with netns.enter("pv-admin"):
        return fn()


def _password_grant(port: int) -> tuple[int, dict]:
    """A real password grant on the lab IdP, from pv-admin, certificate verified, confidential client."""
    import requests

    form = {
        "grant_type": "password",
        "username": "webadmin",
        "password": PASSWORD.read_text().strip(),
        "scope": "openid",
    }
    r = requests.post(
        f"https://198.18.3.12:{port}/realms/admin/protocol/openid-connect/token",
        data=form,
        auth=("admin-console", CLIENT_SECRET.read_text().strip()),
        verify=str(CA),
        timeout=5,
    )
    return r.status_code, r.json()


def test_lab_idps_answer_like_keycloak(lab_up):
    status, body = _in_admin(lambda: _password_grant(8444))
    assert (status, body) == (
        400,
        {"error": "unauthorized_client", "error_description": "Client not allowed for direct access grants"},
    )
    status, body = _in_admin(lambda: _password_grant(9444))
    assert status == 200 and body["token_type"] == "Bearer"
    assert {"access_token", "refresh_token", "id_token"} <= set(body)


@pytest.fixture(scope="module")
def oidc_run(lab_module, tmp_path_factory):
    out = tmp_path_factory.mktemp("oidc") / "run"
    run = scan(out, "--select", "MFA-OIDC-*")
    assert (out / "results.jsonl").exists(), run.proc.stderr
    return run


@pytest.mark.parametrize(("check", "target"), sorted(EXPECTED))
def test_each_target_both_ways(oidc_run, check, target):
    status, quote = EXPECTED[(check, target)]
    r = oidc_run.result(check, target)
    assert r["status"] == status, r["message"]
    assert quote in r["message"]["fr"], r["message"]
    assert r["evidence"] and all(len(e["sha256"]) == 64 for e in r["evidence"])
    if status == "fail":
        assert "expected" in r["message"]["en"] and r["remediation"]["fr"] and r["remediation"]["en"]


def test_every_oidc_target_is_listed(oidc_run):
    assert {(r["check_id"], r["target"]["name"]) for r in oidc_run.results} == set(EXPECTED)
    assert oidc_run.code == 1


def test_evidence_says_what_came_back_but_no_token(oidc_run):
    obs = json.loads((oidc_run.out / "observations" / "oidc" / f"{WEAK}.json").read_text())
    assert obs["facts"]["password_grant"]["status"] == 200
    assert obs["facts"]["advertises_password_grant"] is True
    assert obs["raw"]["token_response"]["body"]["access_token"].startswith("<withheld:")
    assert obs["query"]["password"] == {"file": str(PASSWORD)}
    assert obs["facts"]["revocation"]["statuses"] == {"refresh_token": 200, "access_token": 200}


def test_no_password_secret_or_token_in_any_output(oidc_run):
    issued = json.loads(LAST_ISSUED.read_text())
    assert LAST_ISSUED.stat().st_mtime >= (oidc_run.out / "run.json").stat().st_mtime - 60
    tokens = [issued[k] for k in ("access_token", "refresh_token", "id_token")]
    secrets = [PASSWORD.read_text().strip(), CLIENT_SECRET.read_text().strip(), *tokens]
    assert len(secrets) == 5 and all(len(s) >= 16 for s in secrets)
    texts = [oidc_run.proc.stdout, oidc_run.proc.stderr]
    texts += [p.read_text(errors="replace") for p in oidc_run.out.rglob("*") if p.is_file()]
    for secret in secrets:
        assert not any(secret in t for t in texts)


def test_wrong_canary_password_is_an_error(lab_up, tmp_path):
    """invalid_grant cannot tell a refused grant from a wrong canary: error, never pass (on the compliant IdP too)."""
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-canary-password\n")

    def edit(data):
        admins = data["baseline"]["web_admins"]
        data["baseline"] = {"web_admins": [{**a, "password": {"file": str(wrong)}} for a in admins]}

    inv = lab_inventory(tmp_path, edit, keep=("baseline",))
    run = scan(tmp_path / "run", "--select", "MFA-OIDC-*", inventory=inv)
    weak = run.result("MFA-OIDC-PASSWORD-GRANT", WEAK)
    assert weak["status"] == "error" and "invalid_grant" in weak["message"]["en"], weak["message"]
    good = run.result("MFA-OIDC-PASSWORD-GRANT", GOOD)
    assert good["status"] == "pass", "the compliant client refuses the grant before it looks at the password"
    assert run.code == 2


def test_the_full_profile_scan_of_the_lab_includes_it(lab_run):
    """The demo's profile (secnumcloud-3.2, every check) judges both lab IdP clients the same way."""
    for (check, target), (status, quote) in EXPECTED.items():
        r = lab_run.result(check, target)
        assert r["status"] == status and quote in r["message"]["fr"], r["message"]
