"""MFA-OIDC-PASSWORD-GRANT without the lab: the lab IdP's handler served on 127.0.0.1 with a throw-away certificate,
the real collector against it, the parsers on hand-written answers, and the check's decision on each outcome."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from preuve.evidence.redact import REDACTOR
from preuve.inputs.errors import InputError
from preuve.inputs.inventory import load_inventory
from preuve.inputs.params import Params
from preuve.inputs.targets import BUILDERS
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.identity import oidc
from preuve_checks.mfa.check_oidc import check_oidc_password_grant, undecidable
from preuve_lab import idp

PASSWORD, SECRET = "canary-pw-3f9a1c77d2", "client-secret-8b1e55c0aa"


def _cert(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp / "cert.pem", tmp / "key.pem"


@pytest.fixture(scope="module")
def idps(tmp_path_factory):
    """{"good"|"weak": (issuer, ca_file, last-issued file)}: the lab's two IdP variants on loopback."""
    tmp = tmp_path_factory.mktemp("idp")
    cert, key = _cert(tmp)
    out, servers = {}, []
    for variant, direct in (("good", False), ("weak", True)):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # reserve a port, then re-bind
        port = httpd.server_address[1]
        httpd.server_close()
        iss = f"https://127.0.0.1:{port}/realms/{idp.REALM}"
        last = tmp / f"{variant}-issued.json"
        h = idp.handler(direct, iss, "webadmin", PASSWORD, SECRET, last)
        srv = ThreadingHTTPServer(("127.0.0.1", port), h)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        out[variant] = (iss, str(cert), last)
    yield out
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _collect(idps, variant: str, password: str = PASSWORD, secret: str | None = SECRET, client: str = "admin-console"):
    iss, ca, _ = idps[variant]
    return oidc.collect(iss, client, secret, "webadmin", password, ca_file=ca, timeout=5)


def _judge(facts: dict) -> tuple[str, Judge, str]:
    judge = Judge()
    try:
        check_oidc_password_grant(facts, Params(), judge)
    except ObservationError as e:
        return "error", judge, str(e)
    return ("fail" if judge.failed else "pass"), judge, ""


def test_compliant_idp_refuses_like_keycloak_and_passes(idps):
    facts, raw = _collect(idps, "good")
    g = facts["password_grant"]
    assert (g["status"], g["error"], g["error_description"]) == (
        400,
        "unauthorized_client",
        "Client not allowed for direct access grants",
    )
    assert not any(g[f"{t}_returned"] for t in oidc.TOKEN_KEYS) and g["token_type"] is None
    assert facts["revocation"] is None, "nothing issued, nothing to revoke"
    assert facts["advertises_password_grant"] is True and facts["client_authentication"] == "client_secret_basic"
    assert facts["token_endpoint"].startswith("https://127.0.0.1:") and raw["token_response"]["status"] == 400
    assert _judge(facts)[0] == "pass"


def test_weak_idp_issues_tokens_the_check_fails_and_no_token_is_recorded(idps):
    facts, raw = _collect(idps, "weak")
    g = facts["password_grant"]
    assert g["status"] == 200 and g["token_type"] == "Bearer" and g["error"] is None
    assert g["access_token_returned"] and g["refresh_token_returned"] and g["id_token_returned"]
    issued = json.loads(idps["weak"][2].read_text())
    assert set(issued) == {"access_token", "refresh_token", "id_token", "revoked"}
    assert issued["revoked"] == ["access_token", "refresh_token"], "the probe leaves no admin session behind"
    assert facts["revocation"]["statuses"] == {"refresh_token": 200, "access_token": 200}
    text = json.dumps([facts, raw])
    assert "<withheld:" in text and PASSWORD not in text
    for token in (issued[k] for k in oidc.TOKEN_KEYS):
        assert token not in text and REDACTOR.text(f"x {token} y") != f"x {token} y"
    status, judge, _ = _judge(facts)
    assert status == "fail"
    assert [(e.label, e.observed) for e in judge.failed] == [
        ("mfa.oidc.password_grant_tokens", ["access_token", "id_token", "refresh_token"]),
        ("mfa.oidc.password_grant_error", None),
    ]


def test_wrong_canary_password_is_an_error_not_a_pass(idps):
    facts, _ = _collect(idps, "weak", password="not-the-password")
    assert facts["password_grant"]["error"] == "invalid_grant"
    status, _, message = _judge(facts)
    assert status == "error" and "Invalid user credentials" in message and "does not show whether" in message


@pytest.mark.parametrize(
    ("secret", "client", "error"),
    [("wrong", "admin-console", "unauthorized_client"), (SECRET, "someone-else", "invalid_client")],
)
def test_wrong_client_credentials_are_an_error_not_a_pass(idps, secret, client, error):
    """Keycloak says unauthorized_client "Invalid client or Invalid client credentials" for a bad secret."""
    facts, _ = _collect(idps, "good", secret=secret, client=client)
    assert facts["password_grant"]["error"] == error and facts["password_grant"]["status"] == 401
    assert _judge(facts)[0] == "error"


def test_unreachable_idp_is_an_observation_error():
    with pytest.raises(ObservationError, match="ConnectionError"):
        oidc.collect("https://127.0.0.1:9/realms/x", "c", None, "u", "p", timeout=2)


def test_non_json_discovery_is_an_observation_error(tmp_path):
    """An HTML page where the discovery document should be (a login portal, a proxy's error page)."""

    class Html(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            body = b"<html>sign in</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    cert, key = _cert(tmp_path)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ObservationError, match=r"no JSON \(text/html"):
            oidc.collect(
                f"https://127.0.0.1:{srv.server_address[1]}/r", "c", None, "u", "p", ca_file=str(cert), timeout=5
            )
    finally:
        srv.shutdown()
        srv.server_close()


def test_unverified_certificate_is_an_observation_error(idps):
    iss, _, _ = idps["good"]
    with pytest.raises(ObservationError, match="TLS certificate not verified"):
        oidc.collect(iss, "admin-console", SECRET, "webadmin", PASSWORD, timeout=5)


def test_discovery_parser():
    iss = "https://idp.example/realms/a"
    doc = {"issuer": iss, "token_endpoint": f"{iss}/token", "grant_types_supported": ["authorization_code"]}
    assert oidc.parse_discovery(iss, 200, doc)["advertises_password_grant"] is False
    assert oidc.parse_discovery(iss + "/", 200, {**doc, "grant_types_supported": None})["grant_types_supported"] is None
    with pytest.raises(ObservationError, match=r"OIDC §4\.3"):
        oidc.parse_discovery(iss, 200, {**doc, "issuer": "https://evil.example/realms/a"})
    with pytest.raises(ObservationError, match="not https"):
        oidc.parse_discovery(iss, 200, {**doc, "token_endpoint": "http://idp.example/token"})
    with pytest.raises(ObservationError, match="no token_endpoint"):
        oidc.parse_discovery(iss, 200, {"issuer": iss})
    with pytest.raises(ObservationError, match="HTTP 404"):
        oidc.parse_discovery(iss, 404, {"error": "not_found"})


@pytest.mark.parametrize("body", [[], {"status": "ok"}, {"error": 3}, {"access_token": ""}])
def test_non_oauth_token_answers_are_observation_errors(body):
    with pytest.raises(ObservationError):
        oidc.parse_token_response(200, body)


def test_token_answer_parser_keeps_no_token_and_bounds_the_description():
    g = oidc.parse_token_response(400, {"error": "unsupported_grant_type", "error_description": "x" * 500})
    assert g["error"] == "unsupported_grant_type" and len(g["error_description"]) == oidc.MAX_DESCRIPTION
    assert oidc.withheld({"access_token": "abc", "token_type": "Bearer"}) == {
        "access_token": "<withheld: 3 chars>",
        "token_type": "Bearer",
    }


def _facts(status: int, error: str | None, description: str | None = None, tokens: tuple[str, ...] = ()) -> dict:
    grant = {
        "status": status,
        "error": error,
        "error_description": description,
        "token_type": None,
        **{f"{t}_returned": t in tokens for t in oidc.TOKEN_KEYS},
    }
    return {"advertises_password_grant": True, "password_grant": grant}


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (_facts(400, "unauthorized_client", "Client not allowed for direct access grants"), "pass"),
        (_facts(400, "unsupported_grant_type", "Unsupported grant_type"), "pass"),
        (_facts(401, "unauthorized_client", "Invalid client or Invalid client credentials"), "error"),
        (_facts(401, "invalid_client"), "error"),
        (_facts(401, "invalid_grant", "Invalid user credentials"), "error"),
        (_facts(400, "invalid_request", "Missing form parameter: grant_type"), "error"),
        (_facts(400, "invalid_scope"), "error"),
        (_facts(503, "temporarily_unavailable"), "error"),
        (_facts(403, "access_denied", "not for you"), "fail"),
        (_facts(200, None, tokens=("access_token",)), "fail"),
        (_facts(400, "invalid_grant", tokens=("access_token",)), "fail"),  # a token is a token, whatever else it says
    ],
)
def test_decision(facts, status):
    assert _judge(facts)[0] == status
    if status != "fail":
        assert (undecidable(facts["password_grant"]) is not None) == (status == "error")


def test_refusal_errors_come_from_the_profile():
    judge = Judge()
    strict = Params.model_validate({"access": {"oidc_refusal_errors": ["unsupported_grant_type"]}})
    check_oidc_password_grant(_facts(400, "unauthorized_client", "Client not allowed"), strict, judge)
    assert [e.observed for e in judge.failed] == ["unauthorized_client"]


def _inventory(tmp_path: Path, oidc_block: str) -> Path:
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "version: 1\nname: t\nbaseline:\n  web_admins:\n"
        "    - name: w\n      url: https://x/admin\n      login_url: https://x/login\n      user: u\n"
        "      password: {env: PW}\n      ca_file: ca.pem\n" + oidc_block
    )
    return inv


def test_inventory_oidc_block_builds_one_target(tmp_path):
    inv, _ = load_inventory(
        _inventory(
            tmp_path,
            "      oidc:\n        issuer: https://idp.example:8444/realms/a\n"
            "        client_id: admin\n        client_secret: {env: CS}\n",
        )
    )
    [t] = BUILDERS["oidc_client"](inv)
    assert (t.name, t.address, t.port, t.spec.oidc.client_id) == ("w-oidc", "idp.example", 8444, "admin")
    assert t.spec.oidc.scope == "openid" and t.spec.oidc.ca_file is None


@pytest.mark.parametrize(
    ("block", "says"),
    [
        (
            "      oidc:\n        issuer: https://i/r\n        client_id: a\n        client_secret: s3cr3t-inline\n",
            "referenced, never inlined",
        ),
        ("      oidc:\n        issuer: http://i/r\n        client_id: a\n", "https"),
        ("      oidc:\n        issuer: https://i/r\n        client_id: a\n        grant: password\n", "grant"),
    ],
)
def test_inventory_oidc_block_errors_name_the_line(tmp_path, block, says):
    with pytest.raises(InputError) as exc:
        load_inventory(_inventory(tmp_path, block))
    text = str(exc.value)
    assert says in text and "inv.yaml:" in text and "s3cr3t-inline" not in text
