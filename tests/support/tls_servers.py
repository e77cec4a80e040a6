"""Real TLS servers on 127.0.0.1 for tests: certificates, nginx instances, silent sockets.

Everything here is for tests only and never binds anything but loopback. Reuse it from a
session fixture, e.g.::

    with NginxLab(tmp_dir) as lab:
        compliant = lab.start_compliant()
        weak = lab.start_weak()

Certificates are built with ``cryptography``. Its builder refuses SHA-1 signatures, so
:func:`make_self_signed` re-signs the TBS itself in that case (see :func:`_resign_sha1`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, padding, rsa
from cryptography.x509.oid import NameOID

from preuve_lab import loopback_nginx

LOOPBACK = "127.0.0.1"
NGINX = loopback_nginx.NGINX

# RFC 2409 "Second Oakley Group": a well-known 1024-bit safe prime, so the weak server gets a
# 1024-bit DHE group instantly instead of waiting for parameter generation.
_OAKLEY_GROUP_2_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)

COMPLIANT_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
WEAK_CIPHERS = "AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:@SECLEVEL=0"
HSTS_VALUE = "max-age=63072000; includeSubDomains"
HSTS_MAX_AGE = 63072000


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertFiles:
    """PEM files of a certificate and its private key."""

    cert: Path
    key: Path
    certificate: x509.Certificate


def make_self_signed(
    directory: Path,
    name: str,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    hash_alg: hashes.HashAlgorithm,
    days: int,
    dns_names: tuple[str, ...] = ("localhost",),
    ip_addresses: tuple[str, ...] = (LOOPBACK,),
    country: str = "FR",
) -> CertFiles:
    """Write a self-signed leaf certificate (with SANs) and its key to ``directory``."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "preuve tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0] if dns_names else name),
        ]
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if isinstance(hash_alg, hashes.SHA1):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("SHA-1 re-signing is only implemented for RSA keys")
        der = _resign_sha1(builder.sign(key, hashes.SHA256()), key)
        certificate = x509.load_der_x509_certificate(der)
    else:
        certificate = builder.sign(key, hash_alg)

    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return CertFiles(cert=cert_path, key=key_path, certificate=certificate)


def make_ca(directory: Path, name: str, country: str) -> tuple[CertFiles, ec.EllipticCurvePrivateKey]:
    """A self-signed CA (EC P-256, SHA-256) whose subject says C=``country``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root CA")]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}-ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CertFiles(cert=path, key=path, certificate=cert), key


def make_leaf(
    directory: Path,
    name: str,
    ca: tuple[CertFiles, ec.EllipticCurvePrivateKey],
    *,
    dns_names: tuple[str, ...] = ("localhost",),
    not_before_days: int = -1,
    not_after_days: int = 365,
    country: str = "FR",
) -> CertFiles:
    """A leaf (EC P-256) issued by ``ca``; the PEM file holds the chain as nginx presents it (leaf, then CA)."""
    ca_files, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                    x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0]),
                ]
            )
        )
        .issuer_name(ca_files.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=not_before_days))
        .not_valid_after(now + dt.timedelta(days=not_after_days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_files.cert.read_bytes())
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return CertFiles(cert=cert_path, key=key_path, certificate=cert)


_ALGID_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_ALGID_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _resign_sha1(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    """Turn a sha256WithRSA certificate into a sha1WithRSA one (cryptography won't sign SHA-1).

    Both AlgorithmIdentifiers have the same DER length, so swapping them in the TBS keeps
    every length valid; then sign the new TBS with SHA-1 and rebuild the outer SEQUENCE.
    """
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_ALGID_SHA256_RSA) != 1:
        raise ValueError("unexpected TBS layout")
    tbs = tbs.replace(_ALGID_SHA256_RSA, _ALGID_SHA1_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    bit_string = b"\x03" + _der_len(len(signature) + 1) + b"\x00" + signature
    body = tbs + _ALGID_SHA1_RSA + bit_string
    return b"\x30" + _der_len(len(body)) + body


def write_dhparam_1024(path: Path) -> Path:
    """Write the 1024-bit Oakley group 2 as PKCS#3 PEM (for ``ssl_dhparam``)."""
    params = dh.DHParameterNumbers(_OAKLEY_GROUP_2_P, 2).parameters()
    path.write_bytes(params.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3))
    return path


# --- ports and sockets ----------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (small race accepted in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 5.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {LOOPBACK}:{port} after {timeout}s")


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    return free_port()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A 'black hole': the kernel completes TCP handshakes (listen backlog) but nobody ever
    reads or answers. Yields the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        s.listen(64)
        yield int(s.getsockname()[1])


@contextlib.contextmanager
def canned_reply_server(reply: bytes) -> Iterator[int]:
    """Answers every connection's first bytes with ``reply``, then closes. Lets tests stand up
    "speaks TLS but refuses everything" (a TLS alert) or "not TLS at all" (an HTTP line)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(64)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # listener closed: we are done
                return
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=2)


@contextlib.contextmanager
def hello_size_limiting_proxy(upstream_port: int, max_record: int = 600) -> Iterator[int]:
    """A TCP proxy to 127.0.0.1:``upstream_port`` that resets every connection whose first TLS record is longer
    than ``max_record`` bytes, without an alert (what some load balancers do to big ClientHellos)."""

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            head = b""
            while len(head) < 5:
                chunk = conn.recv(5 - len(head))
                if not chunk:
                    return
                head += chunk
            if int.from_bytes(head[3:5], "big") > max_record:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return  # close with RST
            with socket.create_connection((LOOPBACK, upstream_port), timeout=5) as up:
                up.sendall(head)
                back = threading.Thread(target=pipe, args=(up, conn), daemon=True)
                back.start()
                pipe(conn, up)
                back.join(timeout=5)

    with threaded_server(handle) as port:
        yield port


@contextlib.contextmanager
def threaded_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A listener on 127.0.0.1 handing each accepted connection to ``handle`` on its own thread; yields the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(128)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=2)


# A fatal handshake_failure alert: what a TLS stack sends when it accepts nothing offered.
TLS_HANDSHAKE_FAILURE_ALERT = bytes.fromhex("15030300020228")


# --- nginx ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsServer:
    """A running test server."""

    name: str
    host: str
    port: int
    cert: CertFiles


def compliant_directives() -> str:
    """nginx TLS settings in line with the ANSSI guide (ECDSA, TLS 1.2/1.3, AEAD, PFS, HSTS)."""
    return "\n".join(
        [
            "        ssl_protocols TLSv1.2 TLSv1.3;",
            f"        ssl_ciphers '{COMPLIANT_CIPHERS}';",
            "        ssl_prefer_server_ciphers on;",
            "        ssl_ecdh_curve X25519:prime256v1:secp384r1;",
            f'        add_header Strict-Transport-Security "{HSTS_VALUE}" always;',
        ]
    )


def weak_directives(dhparam: Path) -> str:
    """nginx TLS settings violating the guide (old versions, static RSA, CBC, DHE 1024, no HSTS)."""
    return "\n".join(
        [
            "        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;",
            f"        ssl_ciphers '{WEAK_CIPHERS}';",
            f"        ssl_dhparam {dhparam};",
        ]
    )


class NginxLab:
    """Owns one nginx master serving any number of TLS servers from a temp directory.

    One process for all servers keeps the fixture fast; ``stop()`` (or the context manager)
    terminates it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[tuple[TlsServer, str]] = []
        self.proc: subprocess.Popen | None = None
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def add(self, name: str, cert: CertFiles, directives: str) -> TlsServer:
        """Register a server block; call before ``start()``."""
        server = TlsServer(name=name, host=LOOPBACK, port=free_port(), cert=cert)
        self.servers.append((server, directives))
        return server

    def add_compliant(self, name: str = "compliant") -> TlsServer:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = make_self_signed(self.root, name, key, hashes.SHA256(), days=365)
        return self.add(name, cert, compliant_directives())

    def add_weak(self, name: str = "weak") -> TlsServer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        cert = make_self_signed(self.root, name, key, hashes.SHA1(), days=3650)
        dhparam = write_dhparam_1024(self.root / f"{name}-dh1024.pem")
        return self.add(name, cert, weak_directives(dhparam))

    def config_text(self) -> str:
        blocks = (
            loopback_nginx.server_block(s.port, s.cert.cert, s.cert.key, directives, host=s.host)
            for s, directives in self.servers
        )
        return loopback_nginx.config(self.root, blocks)

    def start(self, timeout: float = 5.0) -> None:
        """Write the config, start nginx in the foreground, wait until every port answers."""
        ports = [s.port for s, _ in self.servers]
        self.proc = loopback_nginx.start(self.root, self.config_text(), ports, timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None:
            loopback_nginx.stop(self.proc)
        self.proc = None

    def __enter__(self) -> NginxLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
