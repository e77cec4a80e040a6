"""The public keys of an OpenPGP keyring (RFC 4880 / RFC 9580 packets): algorithm, size or curve, fingerprint.

Package sources verify signatures against a keyring (apt `signed-by`, yum/dnf `gpgkey`); SOURCES-SIGNING-KEYS
judges the keys in it. Keyrings are public material: the host sends their bytes (base64), parsed here, so no gpg
is needed on the host. Binary keyrings and ASCII armour are both read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

# RFC 9580 9.1 public-key algorithms: name, can it sign
ALGORITHMS = {
    1: ("RSA", True),
    2: ("RSA (encrypt only)", False),
    3: ("RSA (sign only)", True),
    16: ("ElGamal", False),
    17: ("DSA", True),
    18: ("ECDH", False),
    19: ("ECDSA", True),
    22: ("EdDSA", True),
    25: ("X25519", False),
    26: ("X448", False),
    27: ("Ed25519", True),
    28: ("Ed448", True),
}
CURVES = {
    "2b06010401da470f01": "Ed25519",
    "2b060104019755010501": "Curve25519",
    "2a8648ce3d030107": "NIST P-256",
    "2b81040022": "NIST P-384",
    "2b81040023": "NIST P-521",
    "2b2403030208010107": "brainpoolP256r1",
    "2b240303020801010b": "brainpoolP384r1",
    "2b240303020801010d": "brainpoolP512r1",
    "2b8104000a": "secp256k1",
}


def dearmor(data: bytes) -> bytes:
    """The binary packets of an ASCII-armoured block (the input unchanged when it is binary already)."""
    if b"-----BEGIN PGP" not in data:
        return data
    lines = data.decode("ascii", "replace").splitlines()
    body: list[str] = []
    started = False
    for line in lines:
        if line.startswith("-----BEGIN PGP"):
            started, body = True, []
            continue
        if line.startswith("-----END PGP"):
            break
        if not started:
            continue
        if ":" in line and not body:  # armour headers (Version:, Comment:)
            continue
        if line.startswith("="):  # CRC-24 checksum
            continue
        body.append(line.strip())
    try:
        return base64.b64decode("".join(body))
    except binascii.Error:
        return b""


def packets(data: bytes):
    """(tag, body) of each packet; stops at anything that is not a packet header."""
    i = 0
    while i < len(data):
        b = data[i]
        i += 1
        if not b & 0x80:
            return
        if b & 0x40:  # new format
            tag = b & 0x3F
            first = data[i]
            i += 1
            if first < 192:
                length = first
            elif first < 224:
                length = ((first - 192) << 8) + data[i] + 192
                i += 1
            elif first == 255:
                length = int.from_bytes(data[i : i + 4], "big")
                i += 4
            else:  # partial body lengths: never used by key packets
                return
        else:
            tag = (b >> 2) & 0x0F
            kind = b & 3
            if kind == 3:
                length = len(data) - i
            else:
                size = (1, 2, 4)[kind]
                length = int.from_bytes(data[i : i + size], "big")
                i += size
        yield tag, data[i : i + length]
        i += length


def _mpi_bits(material: bytes) -> int | None:
    return int.from_bytes(material[:2], "big") if len(material) >= 2 else None


def key_of(body: bytes, primary: bool) -> dict:
    """One public key (or subkey) packet: version, algorithm, bits or curve, can it sign, fingerprint."""
    version = body[0] if body else 0
    algo = body[5] if len(body) > 5 else 0
    material = body[6:] if version == 4 else body[10:]
    name, signs = ALGORITHMS.get(algo, (f"unknown ({algo})", True))
    key: dict = {"primary": primary, "version": version, "algorithm": name, "signs": signs}
    if algo in (1, 2, 3, 16, 17):
        key["bits"] = _mpi_bits(material)
    elif algo in (18, 19, 22) and material:
        oid = material[1 : 1 + material[0]].hex()
        key["curve"] = CURVES.get(oid, f"OID {oid}")
    elif algo in (25, 27):
        key["curve"] = "Curve25519" if algo == 25 else "Ed25519"
    elif algo in (26, 28):
        key["curve"] = "Curve448" if algo == 26 else "Ed448"
    if version == 4:
        key["fingerprint"] = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
    elif version == 6:
        key["fingerprint"] = hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    return key


def keys(data: bytes) -> list[dict]:
    """Every primary key (tag 6) and subkey (tag 14) of a keyring, with its user ids on the primary."""
    out: list[dict] = []
    primary: dict | None = None
    for tag, body in packets(dearmor(data)):
        if tag in (6, 14):
            out.append(key_of(body, tag == 6))
            primary = out[-1] if tag == 6 else primary
        elif tag == 13 and primary is not None:
            primary.setdefault("uids", []).append(body.decode("utf-8", "replace"))
    return out
