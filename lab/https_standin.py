"""What the lab's small HTTPS stand-ins (web admin, IdP, log stores) share: serve several ports over TLS from one
process, start it detached inside its zone namespace, and its command line.

Each stand-in module keeps only what is its own (handlers, state files) and calls these three.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import netns
from .paths import LabPaths
from .topology import SERVICES


def serve_tls(
    address: str, cert: Path, key: Path, handlers: dict[int, type[BaseHTTPRequestHandler]], pid_file: Path
) -> None:
    """Serve each port's handler over TLS (1.2+) in one process; the pid file is written once all listen."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    servers = []
    for port, handler in handlers.items():
        httpd = ThreadingHTTPServer((address, port), handler)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        servers.append(httpd)
    pid_file.write_text(f"{os.getpid()}\n")
    for httpd in servers[1:]:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def start(paths: LabPaths, name: str, module: str) -> None:
    """Start ``python -m module`` detached inside the service's zone namespace; the lab waits for its port."""
    svc = SERVICES[name]
    argv = [
        sys.executable,
        "-m",
        module,
        "--state",
        str(paths.root),
        "--address",
        svc.address,
        "--pid-file",
        str(paths.pid_file(name)),
    ]
    log = open(paths.log(name), "ab")  # noqa: SIM115 - handed to the child
    subprocess.Popen(
        ["ip", "netns", "exec", netns.check_name(svc.ns), *argv],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()


def main(serve: Callable[[Path, str, Path], None], doc: str | None, argv: list[str] | None = None) -> int:
    """The stand-ins' command line: ``--state DIR --address A --pid-file F``."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--state", required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--pid-file", required=True)
    a = p.parse_args(argv)
    serve(Path(a.state), a.address, Path(a.pid_file))
    return 0


def secret_file(path: Path, make: Callable[[], str]) -> None:
    """A lab secret the inventory references by file (0600), made once and kept across `lab up`."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.is_file():
        path.write_text(make() + "\n")
        path.chmod(0o600)


def self_signed(directory: Path, server_name: str, address: str) -> None:
    """``cert.pem`` + ``key.pem`` (ECDSA P-256, C=FR, SAN name and address) in `directory`; kept once made."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.is_file() and key_path.is_file():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.COMMON_NAME, server_name)]
    )
    now = dt.datetime.now(dt.UTC)
    sans = [x509.DNSName(server_name), x509.IPAddress(ipaddress.ip_address(address))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
