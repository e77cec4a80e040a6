"""Throwaway private keys made at test time, so that no key material (nor its armour) is ever committed."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def throwaway_private_key(fmt: str = "openssh") -> str:
    """A fresh Ed25519 private key, PEM-armoured as OpenSSH (`id_ed25519`) or PKCS#8 writes it."""
    formats = {"openssh": serialization.PrivateFormat.OpenSSH, "pkcs8": serialization.PrivateFormat.PKCS8}
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], serialization.NoEncryption()).decode()
