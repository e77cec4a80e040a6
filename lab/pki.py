"""Lab PKI: a French CA chain for the good TLS host, a US CA for the weak one.

Generated with ``cryptography`` (no openssl CLI dance) and cached in the state
dir so that ``up`` stays fast; regenerated when a file is missing or a
leaf is about to expire. The weak leaf is deliberately bad (RSA 1024,
SHA-1, 10 years) and the DH parameters are 1024-bit, as test material.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .paths import LabPaths
from .topology import SERVICES

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsMaterial:
    """Files an nginx server block needs, plus the CA a client should trust."""

    cert: Path
    chain: Path
    key: Path
    ca: Path


def _name(cn: str, country: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class _Issuer:
    name: x509.Name
    key: PrivateKey


def _cert(
    subject: x509.Name,
    key: PrivateKey,
    issuer: _Issuer | None,
    *,
    days: int,
    digest: hashes.HashAlgorithm,
    ca_path_len: int | None = None,
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """A CA certificate if ``ca_path_len`` is set, else a TLS server leaf.

    ``issuer=None`` means self-signed.
    """
    issuer = issuer or _Issuer(subject, key)
    is_ca = ca_path_len is not None
    now = _now()
    pub = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=ca_path_len), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                content_commitment=False,
                # RSA leaves also serve static-RSA key exchange.
                key_encipherment=not is_ca and isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not is_ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(x509.SubjectAlternativeName(sans or []), critical=False)
    return builder.sign(issuer.key, digest)


# DER AlgorithmIdentifier for sha256WithRSAEncryption and sha1WithRSAEncryption:
# same length, so swapping them inside the TBS keeps every length valid.
_ALG_RSA_SHA256 = bytes.fromhex("300d06092a864886f70d01010b0500")
_ALG_RSA_SHA1 = bytes.fromhex("300d06092a864886f70d0101050500")


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _resign_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """Return ``cert`` re-signed with SHA-1.

    ``cryptography`` (>= 45) refuses SHA-1 for new signatures, but the lab
    needs a SHA-1 certificate as a negative example: sign the TBS ourselves.
    """
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_ALG_RSA_SHA256) != 1:
        raise ValueError("unexpected TBS layout")
    tbs = tbs.replace(_ALG_RSA_SHA256, _ALG_RSA_SHA1)
    sig = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = _der(0x30, tbs + _ALG_RSA_SHA1 + _der(0x03, b"\x00" + sig))
    return x509.load_der_x509_certificate(der)


def _sans(service: str) -> list[x509.GeneralName]:
    svc = SERVICES[service]
    return [
        x509.DNSName(f"{service}.lab"),
        x509.IPAddress(ipaddress.IPv4Address(svc.address)),
    ]


def _write_key(path: Path, key: PrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def material(paths: LabPaths, service: str) -> TlsMaterial:
    ca = paths.ca_fr if SERVICES[service].profile == "good" else paths.ca_us
    return TlsMaterial(
        cert=paths.pki / f"{service}.pem",
        chain=paths.pki / f"{service}.chain.pem",
        key=paths.pki_private / f"{service}.key",
        ca=ca,
    )


def dhparam_path(paths: LabPaths) -> Path:
    return paths.pki / "dhparam-1024.pem"


def _cache_valid(paths: LabPaths) -> bool:
    files = [paths.ca_fr, paths.ca_us, dhparam_path(paths)]
    for svc in ("tls-good", "tls-weak"):
        m = material(paths, svc)
        files += [m.cert, m.chain, m.key]
    if not all(f.is_file() for f in files):
        return False
    try:
        for svc in ("tls-good", "tls-weak"):
            cert = x509.load_pem_x509_certificate(material(paths, svc).cert.read_bytes())
            if cert.not_valid_after_utc - _now() < RENEW_BEFORE:
                return False
    except ValueError:
        return False
    return True


def ensure(paths: LabPaths) -> dict[str, TlsMaterial]:
    """Create (or reuse) the CAs, leaves and DH params; return per-service files."""
    paths.pki.mkdir(parents=True, exist_ok=True)
    paths.pki_private.mkdir(mode=0o700, exist_ok=True)
    if not _cache_valid(paths):
        _generate(paths)
    return {svc: material(paths, svc) for svc in ("tls-good", "tls-weak")}


def _generate(paths: LabPaths) -> None:
    sha256 = hashes.SHA256()

    # French chain: root -> issuing CA -> ECDSA P-256 leaf, all SHA-2.
    fr_root_key = ec.generate_private_key(ec.SECP384R1())
    fr_root_name = _name("Preuve Lab Root CA FR", "FR", "Preuve Lab")
    fr_root = _cert(fr_root_name, fr_root_key, None, days=3650, digest=hashes.SHA384(), ca_path_len=1)
    fr_root_issuer = _Issuer(fr_root_name, fr_root_key)
    fr_int_key = ec.generate_private_key(ec.SECP256R1())
    fr_int_name = _name("Preuve Lab Issuing CA FR", "FR", "Preuve Lab")
    fr_int = _cert(fr_int_name, fr_int_key, fr_root_issuer, days=1825, digest=hashes.SHA384(), ca_path_len=0)
    good_key = ec.generate_private_key(ec.SECP256R1())
    good_name = _name("tls-good.lab", "FR", "Preuve Lab")
    good = _cert(
        good_name,
        good_key,
        _Issuer(fr_int_name, fr_int_key),
        days=365,
        digest=sha256,
        sans=_sans("tls-good"),
    )

    # US CA signing an RSA 1024 / SHA-1 / 10-year leaf.
    us_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    us_name = _name("Legacy Lab Root CA US", "US", "Legacy Lab")
    us_root = _cert(us_name, us_key, None, days=7300, digest=sha256, ca_path_len=0)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_name = _name("tls-weak.lab", "US", "Legacy Lab")
    weak_sha256 = _cert(weak_name, weak_key, _Issuer(us_name, us_key), days=3650, digest=sha256, sans=_sans("tls-weak"))
    weak = _resign_sha1(weak_sha256, us_key)

    _write_key(paths.pki_private / "ca-fr.key", fr_root_key)
    _write_key(paths.pki_private / "ca-fr-issuing.key", fr_int_key)
    _write_key(paths.pki_private / "ca-us.key", us_key)
    paths.ca_fr.write_bytes(_pem(fr_root))
    (paths.pki / "ca-fr-issuing.pem").write_bytes(_pem(fr_int))
    paths.ca_us.write_bytes(_pem(us_root))
    for svc, key, leaf, chain in (
        ("tls-good", good_key, good, (good, fr_int)),
        ("tls-weak", weak_key, weak, (weak,)),
    ):
        m = material(paths, svc)
        _write_key(m.key, key)
        m.cert.write_bytes(_pem(leaf))
        m.chain.write_bytes(_pem(*chain))

    params = dh.generate_parameters(generator=2, key_size=1024)
    dhparam_path(paths).write_bytes(
        params.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3)
    )
