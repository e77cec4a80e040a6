"""Pure helpers turning what a TLS server sent into facts: suite names, certificates, names, HSTS.

No network here; kept apart so they can be tested on their own and reused (the referee test reads sslyze's
objects through the same ``certificate_facts``)."""

from __future__ import annotations

import ipaddress
import re
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


def system_ca_file() -> Path | None:
    """The OS CA bundle OpenSSL uses (Debian: /etc/ssl/certs/ca-certificates.crt), if any."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# --- suites -----------------------------------------------------------------------------------

_MAC_NAMES = {"SHA": "SHA1", "SHA256": "SHA256", "SHA384": "SHA384", "MD5": "MD5"}


def parse_suite_name(name: str) -> dict:
    """Split an IANA suite name into its parts (pure; sslyze gives only the name and key size)."""
    if name.startswith("SSL_CK_"):  # SSLv2: SSL_CK_<cipher>_WITH_<mac>, RSA key transport
        cipher, _, mac = name[len("SSL_CK_") :].partition("_WITH_")
        kx, auth, export = "RSA", "RSA", "EXPORT" in cipher
    elif "_WITH_" in name:
        head, _, tail = name.removeprefix("TLS_").partition("_WITH_")
        export = "EXPORT" in head
        kx, auth = _split_key_exchange([t for t in head.split("_") if not t.startswith("EXPORT")])
        cipher, mac = _split_cipher(tail)
    else:  # TLS 1.3: TLS_<AEAD>_<hash>; key exchange known only from the handshake
        kx, auth, export = None, None, False
        cipher, mac = _split_cipher(name.removeprefix("TLS_"))
    tokens = cipher.split("_")
    aead = any(t in ("GCM", "CCM", "POLY1305") for t in tokens)
    return {
        "key_exchange": kx,
        "authentication": auth,
        "encryption": cipher,
        "mac": mac,
        "aead": aead,
        "cbc": "CBC" in tokens,
        "export": export,
        "null_encryption": cipher == "NULL",
        "anonymous": auth == "anon",
        "forward_secrecy": kx in ("ECDHE", "DHE") or kx is None,
    }


def _split_key_exchange(tokens: list[str]) -> tuple[str, str | None]:
    if not tokens:
        return "UNKNOWN", None
    kx = tokens[0]
    if kx == "SRP":  # TLS_SRP_SHA_RSA_WITH_...
        rest = [t for t in tokens[1:] if t != "SHA"]
        return "SRP", rest[0] if rest else "SRP"
    auth = tokens[1] if len(tokens) > 1 else kx  # TLS_RSA_WITH_..., TLS_PSK_WITH_...
    return kx, auth


def _split_cipher(tail: str) -> tuple[str, str | None]:
    cipher, _, last = tail.rpartition("_")
    if last in _MAC_NAMES:
        return cipher, _MAC_NAMES[last]
    return tail, None  # e.g. AES_128_CCM_8: AEAD without a named hash


_FIXED_KEY_SIZES = {
    "3DES_EDE": 168,
    "DES": 56,
    "DES40": 40,
    "CHACHA20": 256,
    "NULL": 0,
    "IDEA": 128,
    "SEED": 128,
    "RC4": 128,
    "RC2": 128,
}


def suite_key_size(encryption: str) -> int:
    """Symmetric key bits of a suite's cipher, as sslyze reports them (3DES: 168, CHACHA20: 256)."""
    head = encryption.split("_")[0]
    if "EXPORT40" in encryption or "_40" in encryption or head == "DES40":
        return 40
    if head in ("3DES", "DES") and "EDE" in encryption:
        return 168
    if head in ("DES", "NULL", "CHACHA20", "IDEA", "SEED", "DES40") or encryption.startswith("NULL"):
        return _FIXED_KEY_SIZES[head]
    numbers = re.findall(r"_(\d+)", encryption)
    if numbers:
        return int(numbers[0])
    return _FIXED_KEY_SIZES.get(head, 0)


# --- certificate facts ------------------------------------------------------------------------


def certificate_facts(cert: Certificate) -> dict:
    """Normalised, JSON-able description of one X.509 certificate."""
    from cryptography.hazmat.primitives import hashes

    subject, issuer = _name(cert, "subject"), _name(cert, "issuer")
    key_type, key_size, curve = _public_key(cert)
    san_dns, san_ip = _sans(cert)
    hash_alg = cert.signature_hash_algorithm
    return {
        "subject": subject,
        "issuer": issuer,
        "subject_country": _country(cert, "subject"),
        "issuer_country": _country(cert, "issuer"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "key_type": key_type,
        "key_size": key_size,
        "curve": curve,
        "signature_hash": hash_alg.name if hash_alg else None,
        "signature_algorithm": getattr(cert.signature_algorithm_oid, "_name", None)
        or cert.signature_algorithm_oid.dotted_string,
        "san_dns": san_dns,
        "san_ip": san_ip,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "serial": format(cert.serial_number, "x"),
        "is_ca": _is_ca(cert),
        "self_issued": subject is not None and subject == issuer,
    }


def _name(cert: Certificate, which: str) -> str | None:
    try:
        return getattr(cert, which).rfc4514_string()
    except ValueError:  # garbage names exist in the wild
        return None


def _country(cert: Certificate, which: str) -> str | None:
    from cryptography.x509.oid import NameOID

    try:
        values = getattr(cert, which).get_attributes_for_oid(NameOID.COUNTRY_NAME)
    except ValueError:
        return None
    return str(values[0].value) if values else None


def _public_key(cert: Certificate) -> tuple[str, int | None, str | None]:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    return type(key).__name__, None, None


def _sans(cert: Certificate) -> tuple[list[str], list[str]]:
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        return [], []
    dns = sorted(str(n) for n in san.get_values_for_type(x509.DNSName))
    ips = sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return dns, ips


def _is_ca(cert: Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def hostname_matches(server_name: str, san_dns: list[str], san_ip: list[str]) -> bool:
    """RFC 6125 matching against the SAN only (CAs must put names there; browsers ignore the CN).
    A wildcard stands for exactly one whole left-most label."""
    if is_ip(server_name):
        wanted = ipaddress.ip_address(server_name)
        return any(ipaddress.ip_address(ip) == wanted for ip in san_ip)
    name = server_name.rstrip(".").lower()
    for pattern in (p.rstrip(".").lower() for p in san_dns):
        if pattern == name:
            return True
        label, _, rest = name.partition(".")
        if pattern.startswith("*.") and rest and label and pattern[2:] == rest:
            return True
    return False


# --- HSTS -------------------------------------------------------------------------------------


def _hsts(http: dict | None) -> dict | None:
    """HSTS from the first response carrying it (a UA honours it on any HTTPS response)."""
    if not http or "hops" not in http:
        return None
    first = http["hops"][0]
    carrying = next((h for h in http["hops"] if h["strict_transport_security"]), None)
    header = carrying["strict_transport_security"][0] if carrying else None
    return {**parse_hsts(header), "header": header, "http_status": first["status"], "path": first["path"]}


def parse_hsts(header: str | None) -> dict:
    """RFC 6797 directives; an unparsable max-age yields None (the header is then ineffective)."""
    parsed: dict[str, Any] = {"max_age": None, "include_subdomains": False, "preload": False}
    for directive in (header or "").split(";"):
        key, _, value = directive.strip().partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if key == "max-age":
            parsed["max_age"] = int(value) if value.isdigit() else None
        elif key == "includesubdomains":
            parsed["include_subdomains"] = True
        elif key == "preload":
            parsed["preload"] = True
    return parsed
