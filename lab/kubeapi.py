"""The lab's Kubernetes API stand-ins: a compliant cluster (k8s-good) and a non-compliant one (k8s-weak).

Both are preuve_lab.kube_standin processes in pv-prod on 198.18.2.30, ports 6443 and 6444, over TLS with a
cluster CA of their own (as a kubeadm cluster has), with bearer tokens in files the inventory references.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .paths import LabPaths
from .topology import SERVICES

PROFILES = ("good", "weak")


def kube_dir(paths: LabPaths) -> Path:
    return paths.root / "kube"


def _name(cn: str) -> x509.Name:
    """kubeadm names its CA only "CN=kubernetes"; the lab adds C=FR so that its CA is demonstrably EU (10.6.a)."""
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write_pki(directory: Path, addresses: list[str]) -> tuple[Path, Path, Path]:
    """A cluster CA ("kubernetes", as kubeadm names it) and an apiserver leaf for `addresses`: (ca, cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key"
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("kubernetes"))
        .issuer_name(_name("kubernetes"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sans = [
        x509.DNSName("kubernetes"),
        x509.DNSName("kubernetes.default.svc"),
        x509.DNSName("localhost"),
        *(x509.IPAddress(ipaddress.ip_address(a)) for a in addresses),
    ]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


def write_tokens(directory: Path) -> dict[str, str]:
    """The scanner's read-only token, a valid token with no rights and the acme tenant canary's token (files the
    inventory references)."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = {k: secrets.token_urlsafe(24) for k in ("scanner", "noaccess", "tenant-acme")}
    for name, value in tokens.items():
        (directory / f"{name}.token").write_text(value + "\n")
        (directory / f"{name}.token").chmod(0o600)
    (directory / "wrong.token").write_text("not-a-valid-token\n")
    (directory / "tokens.json").write_text(json.dumps(tokens))
    (directory / "tokens.json").chmod(0o600)
    return tokens


def write_configs(paths: LabPaths) -> None:
    """CA, apiserver certificate and tokens, regenerated at each `up` (cheap: two EC keys)."""
    addresses = sorted({SERVICES[f"k8s-{p}"].address for p in PROFILES})
    write_pki(kube_dir(paths), addresses)
    write_tokens(kube_dir(paths))


def start(paths: LabPaths, profile: str) -> None:
    """Start the stand-in for `profile` inside its zone namespace; it writes its pid file once listening."""
    name = f"k8s-{profile}"
    svc = SERVICES[name]
    d = kube_dir(paths)
    argv = [
        "ip",
        "netns",
        "exec",
        svc.ns,
        sys.executable,
        "-m",
        "preuve_lab.kube_standin",
        "--profile",
        profile,
        "--tokens",
        str(d / "tokens.json"),
        "--address",
        svc.address,
        "--port",
        str(svc.port),
        "--cert",
        str(d / "apiserver.crt"),
        "--key",
        str(d / "apiserver.key"),
        "--pid-file",
        str(paths.pid_file(name)),
    ]
    log = paths.log(name).open("ab")
    subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        },
    )
    log.close()
