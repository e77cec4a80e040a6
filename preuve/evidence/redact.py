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
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(aws_secret_access_key\s*[=:]\s*)\S+"),
]


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def register(self, secret: str) -> None:
        """Remember a secret; very short values are not registered because masking them would be noise."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def text(self, s: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            s = s.replace(secret, MASK)
        for pat in _PATTERNS:
            s = pat.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, s)
        return s

    def value(self, v: Any) -> Any:
        """Redact recursively inside JSON-like values (keys included)."""
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
