"""Keep secrets out of evidence, reports and logs.

Two nets: every secret value preuve itself resolved (passwords, tokens from env vars or files) is registered
and replaced wherever it appears; and well-known secret shapes (private key blocks) are masked whatever
their origin, since a command's raw output may contain them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "«redacted»"
MIN_SECRET_CHARS = 12  # see preuve.inputs.inventory.MIN_SECRET_CHARS
# Collectors that send no credential and record only what the target shows every anonymous client (TLS
# handshakes and certificates, SSH banners, KEXINIT and host keys).
PUBLIC_COLLECTORS = frozenset({"tls", "ssh_protocol"})
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(aws_secret_access_key\s*[=:]\s*)\S+"),
]


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def register(self, secret: str) -> bool:
        """Remember a secret, to be masked wherever it appears. A value shorter than MIN_SECRET_CHARS is not
        registered (False): it also occurs by chance in ordinary text, and masking it there would rewrite a fact
        that a check judges and an auditor reads (a 7-letter key id inside a certificate's CN). Inventory secrets
        that short are refused before anything runs (lint, and `reveal` at run time); short values a server
        returns (tokens) are never written to evidence in the first place."""
        if secret and len(secret) >= MIN_SECRET_CHARS:
            self._secrets.add(secret)
            return True
        return False

    def text(self, s: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            s = s.replace(secret, MASK)
        for pat in _PATTERNS:
            s = pat.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, s)
        return s

    def shapes(self, v: Any) -> Any:
        """Only the secret shapes (private key blocks...), recursively: for data no registered secret can be in."""
        if isinstance(v, str):
            for pat in _PATTERNS:
                v = pat.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, v)
            return v
        if isinstance(v, dict):
            return {self.shapes(str(k)): self.shapes(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.shapes(x) for x in v]
        return v

    def value(self, v: Any) -> Any:
        """Redact recursively inside JSON-like values (keys included). The facts and raw answer of a public
        collector (PUBLIC_COLLECTORS) are what the server shows any anonymous client: no secret preuve holds is
        sent there, so they are never rewritten (a certificate's CN stays what the certificate says)."""
        if isinstance(v, dict) and v.get("collector") in PUBLIC_COLLECTORS and {"facts", "raw"} <= v.keys():
            return {k: self.shapes(x) if k in ("facts", "raw") else self.value(x) for k, x in v.items()}
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        return v


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Attach to log handlers so that no log line carries a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR.text(record.getMessage())
        record.args = ()
        return True
