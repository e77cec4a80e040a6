"""A tiny web administration interface over TLS (stdlib http.server + ssl), in two variants, for the MFA checks.

- ``:8443`` (mfa): every admin URL redirects an anonymous client to the login page before any content; the
  login form grants a session only for password + TOTP (pyotp, RFC 6238);
- ``:9443`` (password-only): the admin console shell is served to anyone, and a password alone grants a session.

Run as ``python -m preuve.lab.webadmin --state DIR --address A --pid-file F`` inside pv-dmz (started by the lab).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hmac
import ipaddress
import os
import secrets
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from . import netns
from .paths import LabPaths
from .topology import SERVICES

NAME = "web-admin"
MFA_PORT, PASSWORD_ONLY_PORT = 8443, 9443
USER = "webadmin"
SERVER_NAME = "web-admin.lab"


def root(paths: LabPaths) -> Path:
    return paths.root / "webadmin"


def password_file(paths: LabPaths) -> Path:
    return paths.keys / "web-admin.password"


def totp_file(paths: LabPaths) -> Path:
    return paths.keys / "web-admin.totp"


def cert_file(paths: LabPaths) -> Path:
    return root(paths) / "cert.pem"


def write(paths: LabPaths) -> None:
    """Canary password and TOTP seed (files the inventory references), and a self-signed certificate."""
    import pyotp
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    paths.keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    makers = ((password_file(paths), lambda: secrets.token_urlsafe(18)), (totp_file(paths), pyotp.random_base32))
    for path, make in makers:
        if not path.is_file():
            path.write_text(make() + "\n")
            path.chmod(0o600)
    d = root(paths)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    if cert_file(paths).is_file() and (d / "key.pem").is_file():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                      x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME),
                           x509.IPAddress(ipaddress.ip_address(SERVICES[NAME].address))]), critical=False)
            .sign(key, hashes.SHA256()))  # fmt: skip
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))  # fmt: skip
    (d / "key.pem").chmod(0o600)
    cert_file(paths).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


LOGIN_FORM = (b"<!doctype html><title>login</title><form method=post action=/login>"
              b"<input name=username><input name=password type=password><input name=otp></form>")  # fmt: skip
CONSOLE = b"<!doctype html><title>admin console</title><h1>Administration</h1><ul><li>tenants<li>keys</ul>"


def handler(mfa: bool, password: str, seed: str) -> type[BaseHTTPRequestHandler]:
    import pyotp

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
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(errors="replace")).items()}
            ok = form.get("username") == USER and hmac.compare_digest(form.get("password", ""), password)
            if ok and mfa:
                ok = pyotp.TOTP(seed).verify(form.get("otp", ""), valid_window=1)
            if not ok:
                self._send(401, b"authentication failed", {"Content-Type": "text/plain"})
                return
            token = secrets.token_urlsafe(24)
            with lock:
                sessions.add(token)
            self._send(303, b"", {"Location": "/admin/", "Set-Cookie": f"session={token}; Secure; HttpOnly"})

    return Handler


def serve(state: Path, address: str, pid_file: Path) -> None:
    paths = LabPaths(state)
    password = password_file(paths).read_text().strip()
    seed = totp_file(paths).read_text().strip()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file(paths), root(paths) / "key.pem")
    servers = []
    for port, mfa in ((MFA_PORT, True), (PASSWORD_ONLY_PORT, False)):
        httpd = ThreadingHTTPServer((address, port), handler(mfa, password, seed))
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        servers.append(httpd)
    pid_file.write_text(f"{os.getpid()}\n")
    for httpd in servers[1:]:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def start(paths: LabPaths) -> None:
    """Start the app detached inside pv-dmz; the lab waits for its port and pid file."""
    svc = SERVICES[NAME]
    argv = [sys.executable, "-m", "preuve.lab.webadmin", "--state", str(paths.root), "--address", svc.address,
            "--pid-file", str(paths.pid_file(NAME))]  # fmt: skip
    log = open(paths.log(NAME), "ab")  # noqa: SIM115 - handed to the child
    subprocess.Popen(["ip", "netns", "exec", netns.check_name(svc.ns), *argv], stdin=subprocess.DEVNULL,
                     stdout=log, stderr=log, start_new_session=True)  # fmt: skip
    log.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--state", required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--pid-file", required=True)
    a = p.parse_args(argv)
    serve(Path(a.state), a.address, Path(a.pid_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
