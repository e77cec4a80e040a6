"""A tiny web administration interface over TLS (stdlib http.server + ssl), in two variants, for the MFA checks.

- ``:8443`` (mfa): every admin URL redirects an anonymous client to the login page before any content; the
  login form grants a session only for password + TOTP (pyotp, RFC 6238);
- ``:9443`` (password-only): the admin console shell is served to anyone, and a password alone grants a session;
- the twins of ``:8443`` that ask a code and check too little (issue 12; a naive "password alone refused,
  password + TOTP accepted" check passes all three): ``:10443`` takes any code, ``:10444`` a right code or an
  EMPTY one (a present but empty field: "no token enrolled yet"), ``:10445`` any six digits;
- ``:11441``-``:11445``: consoles fronted by the IdP (CONSOLES: provider's and customers', each realm; 9.6.a-c).

Run as ``python -m preuve_lab.webadmin --state DIR --address A --pid-file F`` inside pv-dmz (started by the lab).
"""

from __future__ import annotations

import hmac
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

from . import https_standin
from .paths import LabPaths
from .topology import SERVICES

NAME = "web-admin"
MFA_PORT, PASSWORD_ONLY_PORT = 8443, 9443
FACTOR_TWINS = {10443: "otp-any", 10444: "otp-empty", 10445: "otp-digits"}
USER = "webadmin"
SERVER_NAME = "web-admin.lab"
CUSTOMER_USER = "acme-admin"  # a customer's administrator (admin identity separation, 9.6.a-c)
# Consoles that log in through an IdP (9.6.a-c): port -> (audience, IdP port, realm, client id). Each redirects any
# anonymous GET to its IdP's authorization endpoint, as a Keycloak-fronted console does.
CONSOLES: dict[int, tuple[str, int, str, str]] = {
    11441: ("provider", 8444, "admin", "provider-console"),  # the provider's console, provider realm
    11442: ("customer", 11446, "customers", "customer-console"),  # customers' console on their own IdP: compliant
    11443: ("customer", 11447, "customers", "shared-console"),  # one console for both sides (any path)
    11444: ("customer", 11447, "customers", "customer-console"),  # own IdP, but it also knows the provider's admins
    11445: ("provider", 11447, "customers", "provider-console"),  # provider console on that shared directory
    11448: ("end-user", 11446, "customers", "enduser-portal"),  # the SaaS end users' portal, apart from the consoles
}


def root(paths: LabPaths) -> Path:
    return paths.root / "webadmin"


def password_file(paths: LabPaths) -> Path:
    return paths.keys / "web-admin.password"


def totp_file(paths: LabPaths) -> Path:
    return paths.keys / "web-admin.totp"


def customer_password_file(paths: LabPaths) -> Path:
    return paths.keys / "customer-admin.password"


def customer_totp_file(paths: LabPaths) -> Path:
    return paths.keys / "customer-admin.totp"


def console_redirect(port: int) -> str:
    return f"https://{SERVICES[NAME].address}:{port}/oidc/callback"


def cert_file(paths: LabPaths) -> Path:
    return root(paths) / "cert.pem"


def write(paths: LabPaths) -> None:
    """Canary password and TOTP seed (files the inventory references), and a self-signed certificate."""
    import pyotp

    https_standin.secret_file(password_file(paths), lambda: secrets.token_urlsafe(18))
    https_standin.secret_file(totp_file(paths), pyotp.random_base32)
    https_standin.secret_file(customer_password_file(paths), lambda: secrets.token_urlsafe(18))
    https_standin.secret_file(customer_totp_file(paths), pyotp.random_base32)
    https_standin.self_signed(root(paths), SERVER_NAME, SERVICES[NAME].address)


LOGIN_FORM = (
    b"<!doctype html><title>login</title><form method=post action=/login>"
    b"<input name=username><input name=password type=password><input name=otp></form>"
)
CONSOLE = b"<!doctype html><title>admin console</title><h1>Administration</h1><ul><li>tenants<li>keys</ul>"


def otp_ok(mode: str, seed: str, otp: str | None) -> bool:
    """The variant's verdict on the code field (None: the field is absent, refused by every variant)."""
    import pyotp

    if otp is None:
        return False
    if mode == "otp-any":
        return True
    if mode == "otp-empty" and otp == "":
        return True
    if mode == "otp-digits":
        return len(otp) == 6 and otp.isascii() and otp.isdigit()
    return pyotp.TOTP(seed).verify(otp, valid_window=1)


def handler(mfa: bool, password: str, seed: str, mode: str = "mfa") -> type[BaseHTTPRequestHandler]:

    sessions: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "preuve-lab-admin"

        def log_message(self, *args: object) -> None:  # no access log (and never a form field)
            return

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _session(self) -> bool:
            for part in self.headers.get("Cookie", "").split(";"):
                k, _, v = part.strip().partition("=")
                if k == "session":
                    with lock:
                        return v in sessions
            return False

        def do_GET(self) -> None:
            if self.path.startswith("/login"):
                self._send(200, LOGIN_FORM, {"Content-Type": "text/html"})
            elif self.path.startswith("/admin"):
                if self._session() or not mfa:  # the weak variant serves its console shell to anyone
                    self._send(200, CONSOLE, {"Content-Type": "text/html"})
                else:
                    self._send(302, b"", {"Location": "/login?next=/admin/"})
            else:
                self._send(404)

        def do_POST(self) -> None:
            if not self.path.startswith("/login"):
                self._send(404)
                return
            length = min(int(self.headers.get("Content-Length", "0") or 0), 4096)
            body = self.rfile.read(length).decode(errors="replace")
            form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
            ok = form.get("username") == USER and hmac.compare_digest(form.get("password", ""), password)
            if ok and mfa:
                ok = otp_ok(mode, seed, form.get("otp"))
            if not ok:
                self._send(401, b"authentication failed", {"Content-Type": "text/plain"})
                return
            token = secrets.token_urlsafe(24)
            with lock:
                sessions.add(token)
            self._send(303, b"", {"Location": "/admin/", "Set-Cookie": f"session={token}; Secure; HttpOnly"})

    return Handler


def console(port: int, address: str) -> type[BaseHTTPRequestHandler]:
    """A console fronted by an IdP: every anonymous GET is redirected to the authorization endpoint of its realm
    (client id, its own callback as redirect URI, a fresh state), like Keycloak's gatekeeper or oauth2-proxy."""
    from urllib.parse import urlencode

    _, idp_port, realm, client_id = CONSOLES[port]
    authorize = f"https://{address}:{idp_port}/realms/{realm}/protocol/openid-connect/auth"

    class Console(BaseHTTPRequestHandler):
        server_version = "preuve-lab-console"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            query = {
                "client_id": client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": console_redirect(port),
                "state": secrets.token_urlsafe(12),
            }
            self.send_response(302)
            self.send_header("Location", f"{authorize}?{urlencode(query)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Console


def serve(state: Path, address: str, pid_file: Path) -> None:
    paths = LabPaths(state)
    password = password_file(paths).read_text().strip()
    seed = totp_file(paths).read_text().strip()
    handlers = {
        MFA_PORT: handler(True, password, seed),
        PASSWORD_ONLY_PORT: handler(False, password, seed),
        **{port: handler(True, password, seed, mode) for port, mode in FACTOR_TWINS.items()},
        **{port: console(port, address) for port in CONSOLES},
    }
    https_standin.serve_tls(address, cert_file(paths), root(paths) / "key.pem", handlers, pid_file)


def start(paths: LabPaths) -> None:
    """Start the app detached inside pv-dmz; the lab waits for its port and pid file."""
    https_standin.start(paths, NAME, "preuve_lab.webadmin")


if __name__ == "__main__":
    sys.exit(https_standin.main(serve, __doc__))
