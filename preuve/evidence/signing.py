"""Ed25519 signature of a run's MANIFEST.sha256, with keys the operator holds (no third-party service).

The signature covers the manifest, which covers every file, so one signature seals the whole run. Files are plain
PEM (PKCS#8 private key, SubjectPublicKeyInfo public key) and a raw 64-byte signature, so an auditor verifies with
`openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG = "MANIFEST.sha256.sig"
PUB = "signer.pub.pem"  # the signer's public key, copied next to the signature (outside the manifest)
UNSIGNED = (SIG, PUB)  # files that exist only after the manifest and are therefore not listed in it


def keygen(private_path: Path) -> Path:
    """Write a new private key (mode 0600, refusing to overwrite) and its public key next to it (.pub.pem)."""
    private_path = Path(private_path)
    if private_path.exists():
        raise FileExistsError(f"{private_path} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub_path = public_path_for(private_path)
    pub_path.write_bytes(public_pem(key.public_key()))
    return pub_path


def public_path_for(private_path: Path) -> Path:
    name = private_path.name.removesuffix(".pem")
    return private_path.with_name(f"{name}.pub.pem")


def public_pem(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(pub_pem: bytes) -> str:
    """sha256 of the DER public key, as `openssl pkey -pubin -outform DER | sha256sum` prints it."""
    pub = serialization.load_pem_public_key(pub_pem)
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign_run(run_dir: Path, private_path: Path) -> str:
    """Sign run_dir/MANIFEST.sha256; returns the signer's key fingerprint."""
    key = serialization.load_pem_private_key(Path(private_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{private_path}: not an Ed25519 private key (create one with `preuve keygen`)")
    manifest = (run_dir / "MANIFEST.sha256").read_bytes()
    (run_dir / SIG).write_bytes(key.sign(manifest))
    pem = public_pem(key.public_key())
    (run_dir / PUB).write_bytes(pem)
    return fingerprint(pem)


def verify_signature(run_dir: Path, trusted_pub: Path | None = None) -> tuple[list[str], str | None]:
    """(problems, fingerprint of the key that signed). Without a trusted key the run's own copy is used,
    which proves integrity since signing but not who signed: the caller says so."""
    sig_path = run_dir / SIG
    if not sig_path.exists():
        return ([f"{SIG}: missing (the run is not signed)"] if trusted_pub else []), None
    pem_path = Path(trusted_pub) if trusted_pub else run_dir / PUB
    if not pem_path.exists():
        return [f"{PUB}: missing, and no trusted public key given (--key)"], None
    pem = pem_path.read_bytes()
    pub = serialization.load_pem_public_key(pem)
    if not isinstance(pub, Ed25519PublicKey):
        return [f"{pem_path}: not an Ed25519 public key"], None
    try:
        pub.verify(sig_path.read_bytes(), (run_dir / "MANIFEST.sha256").read_bytes())
    except (InvalidSignature, FileNotFoundError):
        return [f"{SIG}: the signature does not match MANIFEST.sha256 for key {fingerprint(pem)[:16]}"], None
    return [], fingerprint(pem)


class BadKey(ValueError):
    """A key file that is not an Ed25519 public key (the message never quotes the file's content)."""


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks, marker = [], b"-----BEGIN "
    start = data.find(marker)
    while start != -1:
        nxt = data.find(marker, start + 1)
        blocks.append(data[start : nxt if nxt != -1 else len(data)])
        start = nxt
    return blocks


def load_public_keys(path: Path, *, directory: bool) -> list[tuple[str, bytes, str]]:
    """[(fingerprint, PEM, where)] from a public key file (--key), or a trust store (--trust): a file of one or
    more PEM public keys, or a folder of *.pem files. A private key, or anything else, is refused."""
    path = Path(path)
    if not path.exists():
        raise BadKey(f"{path}: not found")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".pem") if path.is_dir() else [path]
    if path.is_dir() and not directory:
        raise BadKey(f"{path}: a folder; --key takes one public key file (use --trust for a folder of keys)")
    out = []
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise BadKey(f"{f}: cannot be read ({exc.strerror})") from None
        blocks = _pem_blocks(data)
        if not blocks:
            raise BadKey(f"{f}: not a PEM public key")
        for block in blocks:
            if b"PRIVATE KEY" in block.split(b"\n", 1)[0]:
                raise BadKey(
                    f"{f}: holds a private key; give the public key (.pub.pem) and keep the private one "
                    "where runs are signed"
                )
            try:
                pub = serialization.load_pem_public_key(block)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                raise BadKey(f"{f}: not a PEM public key") from None
            if not isinstance(pub, Ed25519PublicKey):
                raise BadKey(f"{f}: not an Ed25519 public key (`preuve keygen` makes one)")
            pem = public_pem(pub)
            out.append((fingerprint(pem), pem, f.name))
    if not out:
        raise BadKey(f"{path}: no public key (*.pem) found")
    return out


def check_with(run_dir: Path, pub_pem: bytes) -> bool:
    """Does this public key verify the run's signature over its manifest?"""
    try:
        pub = serialization.load_pem_public_key(pub_pem)
        if not isinstance(pub, Ed25519PublicKey):
            return False
        pub.verify((run_dir / SIG).read_bytes(), (run_dir / "MANIFEST.sha256").read_bytes())
        return True
    except (InvalidSignature, OSError, ValueError, TypeError, UnsupportedAlgorithm):
        return False


def fingerprint_or_none(pem_path: Path) -> str | None:
    try:
        return fingerprint(Path(pem_path).read_bytes())
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm):
        return None


def private_fingerprint(private_path: Path) -> str:
    """The fingerprint of the public half of a private key (what run.json's `signer` records)."""
    key = serialization.load_pem_private_key(Path(private_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{private_path}: not an Ed25519 private key (create one with `preuve keygen`)")
    return fingerprint(public_pem(key.public_key()))
