"""An OpenID Connect provider stand-in over TLS (stdlib http.server + ssl), in two variants, for the password-grant
check (MFA-OIDC-PASSWORD-GRANT): one realm ``admin`` with one confidential client ``admin-console``.

- ``:8444`` (compliant): the client's "Direct access grants" are off, so a password grant gets Keycloak's answer,
  HTTP 400 ``{"error": "unauthorized_client", "error_description": "Client not allowed for direct access grants"}``
  (keycloak/keycloak, services/.../oidc/grants/ResourceOwnerPasswordCredentialsGrantType.java: the
  ``isDirectAccessGrantsEnabled()`` test throws ``UNAUTHORIZED_CLIENT`` with that text and ``BAD_REQUEST``);
- ``:9444`` (non-compliant): the canary's username and password alone buy an access, refresh and ID token (the
  AccessTokenResponse fields Keycloak returns: access_token, expires_in, refresh_expires_in, refresh_token,
  token_type "Bearer", id_token, not-before-policy, session_state, scope); its ``/revoke`` (RFC 7009) takes them back.

Both serve ``/realms/admin/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4) shaped like
Keycloak's, which lists "password" in ``grant_types_supported`` for the whole realm whatever each client allows;
other Keycloak answers reproduced: a wrong client secret gets 401 ``unauthorized_client`` "Invalid client or
Invalid client credentials", an unknown client 401 ``invalid_client``, a wrong user password 401 ``invalid_grant``
"Invalid user credentials", another grant 400 ``unsupported_grant_type``. The canary is the web admin's
(``webadmin`` and its password file); the TLS identity is web-admin's (same address, 198.18.3.12). The tokens
last issued are kept in ``idp/last-issued.json`` (0600), with those revoked since, so that a test can prove none
of them reached a report and that the scanner revoked them.

The browser login (authorization code flow, the one admins use; issue 12): ``GET .../auth`` shows a login form,
its POST (username, password) an OTP form, whose POST redirects to the client's registered redirect URI with
``code`` and ``state`` only after the right TOTP code (the canary's web seed, pyotp); a wrong one shows the OTP
form again with Keycloak's "Invalid authenticator code." (forms shaped like Keycloak's ``kc-form-login`` and
``kc-otp-login-form``, one-use session codes in their actions). ``:10446`` is the same IdP whose OTP step takes
any answer (its password grant is refused): it passes MFA-OIDC-PASSWORD-GRANT and must fail MFA-OIDC-FACTOR.

Run as ``python -m preuve_lab.idp --state DIR --address A --pid-file F`` inside pv-dmz (started by the lab).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from . import https_standin, webadmin
from .paths import LabPaths

NAME = "idp"
GOOD_PORT, WEAK_PORT = 8444, 9444
OTP_ANY_PORT = 10446
REDIRECT_URI = "https://198.18.3.12:8443/oidc/callback"  # the admin console's registered callback
REALM = "admin"
CLIENT_ID = "admin-console"
GRANTS = [
    "authorization_code",
    "implicit",
    "refresh_token",
    "password",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:openid:params:grant-type:ciba",
]


def root(paths: LabPaths) -> Path:
    return paths.root / "idp"


def client_secret_file(paths: LabPaths) -> Path:
    return paths.keys / "idp-client.secret"


def last_issued_file(paths: LabPaths) -> Path:
    return root(paths) / "last-issued.json"


def issuer(address: str, port: int) -> str:
    return f"https://{address}:{port}/realms/{REALM}"


def write(paths: LabPaths) -> None:
    """The admin client's secret (a file the inventory references); the certificate is web-admin's."""
    root(paths).mkdir(mode=0o700, parents=True, exist_ok=True)
    https_standin.secret_file(client_secret_file(paths), lambda: secrets.token_urlsafe(24))


def discovery(iss: str) -> dict:
    oidc = f"{iss}/protocol/openid-connect"
    return {
        "issuer": iss,
        "authorization_endpoint": f"{oidc}/auth",
        "token_endpoint": f"{oidc}/token",
        "introspection_endpoint": f"{oidc}/token/introspect",
        "userinfo_endpoint": f"{oidc}/userinfo",
        "end_session_endpoint": f"{oidc}/logout",
        "jwks_uri": f"{oidc}/certs",
        "revocation_endpoint": f"{oidc}/revoke",
        "grant_types_supported": GRANTS,
        "response_types_supported": [
            "code",
            "none",
            "id_token",
            "token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
            "tls_client_auth",
            "client_secret_jwt",
        ],
        "scopes_supported": ["openid", "profile", "email", "roles"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }


def _token(kind: str) -> str:
    """An opaque JWT-shaped string (never verified by anyone: the lab only needs its presence)."""
    head = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "typ": kind}).encode()).rstrip(b"=").decode()
    return f"{head}.{secrets.token_urlsafe(48)}.{secrets.token_urlsafe(32)}"


LOGIN_PAGE = (
    '<!doctype html><title>Sign in to admin</title><form id="kc-form-login" method="post" action="{action}">'
    '<input id="username" name="username" type="text"><input id="password" name="password" '
    'type="password"><input type="hidden" name="credentialId" value=""><input type="submit" '
    'name="login" value="Sign In"></form>{error}'
)
OTP_PAGE = (
    '<!doctype html><title>Sign in to admin</title><form id="kc-otp-login-form" method="post" '
    'action="{action}"><input id="otp" name="otp" autocomplete="off" type="text">'
    '<input type="submit" name="login" value="Sign In"></form>{error}'
)


def handler(
    direct_grants: bool,
    iss: str,
    user: str,
    password: str,
    client_secret: str,
    last_issued: Path,
    seed: str = "",
    otp_any: bool = False,
    realm: str = REALM,
    clients: dict[str, str] | None = None,
    users: dict[str, tuple[str, str]] | None = None,
) -> type[BaseHTTPRequestHandler]:
    """`clients`: client id -> registered redirect URI for the browser login (default: the admin console's);
    `users`: who may log in there, name -> (password, TOTP seed) (default: the web admin canary)."""
    import pyotp

    clients = clients or {CLIENT_ID: REDIRECT_URI}
    users = users or {user: (password, seed)}
    token_path = f"/realms/{realm}/protocol/openid-connect/token"
    auth_path = f"/realms/{realm}/protocol/openid-connect/auth"
    action_path = f"/realms/{realm}/login-actions/authenticate"
    flows: dict[str, dict] = {}  # session_code -> {"stage": "password"|"otp", "redirect_uri", "state", "user"}
    revoke_path = f"/realms/{realm}/protocol/openid-connect/revoke"
    lock = threading.Lock()
    record: dict = {}  # the tokens last issued, and which of them were revoked (RFC 7009)

    class Handler(BaseHTTPRequestHandler):
        server_version = "preuve-lab-idp"

        def log_message(self, *args: object) -> None:  # no access log (and never a form field)
            return

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")  # RFC 6749 §5.1
            self.send_header("Pragma", "no-cache")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, error: str, description: str) -> None:
            self._json(status, {"error": error, "error_description": description})

        def do_GET(self) -> None:
            if self.path == f"/realms/{realm}/.well-known/openid-configuration":
                self._json(200, discovery(iss))
            elif self.path.startswith(auth_path + "?"):
                q = {k: v[0] for k, v in parse_qs(self.path.split("?", 1)[1]).items()}
                cid = q.get("client_id", "")
                if cid not in clients or q.get("response_type") != "code":
                    self._html(400, "<p>Client not found or invalid response type.</p>")
                elif q.get("redirect_uri") != clients[cid]:
                    self._html(400, "<p>Invalid parameter: redirect_uri</p>")
                else:
                    flow = {"stage": "password", "redirect_uri": clients[cid], "state": q.get("state", ""), "cid": cid}
                    self._page(LOGIN_PAGE, flow, "")
            else:
                self._error(404, "not_found", "Not Found")

        def _html(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            for k, v in {"Content-Type": "text/html;charset=utf-8", **(headers or {})}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _page(self, page: str, flow: dict, error: str) -> None:
            code = secrets.token_urlsafe(16)  # one use: each page gets a fresh session code
            with lock:
                flows[code] = flow
            cid = flow.get("cid", CLIENT_ID)
            action = f"{action_path}?session_code={code}&client_id={cid}&tab_id={secrets.token_urlsafe(6)}"
            self._html(200, page.format(action=action, error=error))

        def _login_action(self) -> None:
            query = parse_qs(self.path.split("?", 1)[1]) if "?" in self.path else {}
            with lock:
                flow = flows.pop(query.get("session_code", [""])[0], None)
            length = min(int(self.headers.get("Content-Length", "0") or 0), 8192)
            form = {
                k: v[0]
                for k, v in parse_qs(self.rfile.read(length).decode(errors="replace"), keep_blank_values=True).items()
            }
            if flow is None:
                self._html(400, "<p>Your login attempt timed out. Login will start from the beginning.</p>")
            elif flow["stage"] == "password":
                name = form.get("username", "")
                if name in users and hmac.compare_digest(form.get("password", ""), users[name][0]):
                    self._page(OTP_PAGE, {**flow, "stage": "otp", "user": name}, "")
                else:
                    self._page(LOGIN_PAGE, flow, '<span id="input-error">Invalid username or password.</span>')
            else:
                otp = form.get("otp")
                if otp is not None and (otp_any or pyotp.TOTP(users[flow["user"]][1]).verify(otp, valid_window=1)):
                    where = (
                        f"{flow['redirect_uri']}?state={flow['state']}&session_state={secrets.token_hex(8)}"
                        f"&code={secrets.token_urlsafe(32)}"
                    )
                    self._html(302, "", {"Location": where})
                else:
                    self._page(OTP_PAGE, flow, '<span id="input-error-otp-code">Invalid authenticator code.</span>')

        def _client(self, form: dict[str, str]) -> tuple[str | None, str | None]:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    return None, None
                return unquote_plus(cid), unquote_plus(sec)
            return form.get("client_id"), form.get("client_secret")

        def do_POST(self) -> None:
            if self.path.startswith(action_path + "?"):
                self._login_action()
                return
            if self.path not in (token_path, revoke_path):
                self._error(404, "not_found", "Not Found")
                return
            length = min(int(self.headers.get("Content-Length", "0") or 0), 8192)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(errors="replace")).items()}
            cid, sec = self._client(form)
            if cid != CLIENT_ID:
                self._error(401, "invalid_client", "Invalid client or Invalid client credentials")
            elif not hmac.compare_digest(sec or "", client_secret):
                self._error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
            elif self.path == revoke_path:
                self._revoke(form.get("token", ""))
            elif "grant_type" not in form:
                self._error(400, "invalid_request", "Missing form parameter: grant_type")
            elif form["grant_type"] != "password":
                self._error(400, "unsupported_grant_type", "Unsupported grant_type")
            elif not direct_grants:
                self._error(400, "unauthorized_client", "Client not allowed for direct access grants")
            elif form.get("username") != user or not hmac.compare_digest(form.get("password", ""), password):
                self._error(401, "invalid_grant", "Invalid user credentials")
            else:
                self._issue(form.get("scope", ""))

        def _issue(self, scope: str) -> None:
            body = {
                "access_token": _token("Bearer"),
                "expires_in": 300,
                "refresh_expires_in": 1800,
                "refresh_token": _token("Refresh"),
                "token_type": "Bearer",
                "not-before-policy": 0,
                "session_state": secrets.token_hex(16),
                "scope": " ".join(sorted({*scope.split(), "profile"})),
            }
            if "openid" in scope.split():
                body["id_token"] = _token("ID")
            with lock:  # what a test needs to prove no token reached a report (and that it was revoked)
                record.clear()
                record.update(
                    {k: body[k] for k in ("access_token", "refresh_token", "id_token") if k in body}, revoked=[]
                )
                self._save()
            self._json(200, body)

        def _revoke(self, token: str) -> None:
            """RFC 7009 §2.2: 200 whether or not the token was known."""
            with lock:
                kinds = [k for k in ("access_token", "refresh_token") if token and record.get(k) == token]
                if kinds:
                    record["revoked"] = sorted({*record["revoked"], *kinds})
                    self._save()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _save(self) -> None:
            last_issued.write_text(json.dumps(record))
            last_issued.chmod(0o600)

    return Handler


CUSTOMER_PORT, FEDERATED_PORT = 11446, 11447


def console_clients(idp_port: int) -> dict[str, str]:
    """The consoles logging in through this IdP port: client id -> their callback (webadmin.CONSOLES)."""
    return {c: webadmin.console_redirect(p) for p, (_, i, _, c) in webadmin.CONSOLES.items() if i == idp_port}


def realms(paths: LabPaths, address: str, password: str, seed: str, client_secret: str) -> dict[int, Any]:
    """The consoles' realms (webadmin.CONSOLES): the provider's realm on GOOD_PORT gains the consoles' clients; the
    customers' IdP (CUSTOMER_PORT) knows only customer accounts; its twin (FEDERATED_PORT) also accepts the
    provider's admin account, as a customer realm federating the provider's directory would."""
    customer = (
        webadmin.customer_password_file(paths).read_text().strip(),
        webadmin.customer_totp_file(paths).read_text().strip(),
    )

    out: dict[int, Any] = {}
    for port, users in (
        (CUSTOMER_PORT, {webadmin.CUSTOMER_USER: customer}),
        (FEDERATED_PORT, {webadmin.CUSTOMER_USER: customer, webadmin.USER: (password, seed)}),
    ):
        iss = f"https://{address}:{port}/realms/customers"
        out[port] = handler(
            False,
            iss,
            "",
            "",
            client_secret,
            Path("/dev/null"),
            realm="customers",
            clients=console_clients(port),
            users=users,
        )
    return out


def serve(state: Path, address: str, pid_file: Path) -> None:
    paths = LabPaths(state)
    password = webadmin.password_file(paths).read_text().strip()
    client_secret = client_secret_file(paths).read_text().strip()
    seed = webadmin.totp_file(paths).read_text().strip()
    handlers = {
        port: handler(
            direct_grants,
            issuer(address, port),
            webadmin.USER,
            password,
            client_secret,
            last_issued_file(paths),
            seed,
            otp_any,
            clients={CLIENT_ID: REDIRECT_URI, **console_clients(port)},
        )
        for port, direct_grants, otp_any in (
            (GOOD_PORT, False, False),
            (WEAK_PORT, True, False),
            (OTP_ANY_PORT, False, True),
        )
    }
    handlers.update(realms(paths, address, password, seed, client_secret))
    https_standin.serve_tls(address, webadmin.cert_file(paths), webadmin.root(paths) / "key.pem", handlers, pid_file)


def start(paths: LabPaths) -> None:
    """Start the IdP detached inside pv-dmz; the lab waits for its port and pid file."""
    https_standin.start(paths, NAME, "preuve_lab.idp")


if __name__ == "__main__":
    sys.exit(https_standin.main(serve, __doc__))
