"""Keep secrets out of evidence, reports and logs without ever rewriting a fact.

Three rules (README, "Secrets in evidence"):
- preuve's own side of an observation (`query`: what it asked; `error`: its message, which may quote a command
  line or a URL it built) is masked in place: every registered secret there becomes «redacted». The collectors
  keep secrets out of what they record by construction: they name what they sent ("password + valid TOTP"),
  never a request body, header, OTP or URL userinfo; passwords go to tools through the environment, not argv.
- the target's side (`facts`, `raw`) is never rewritten by value. If a registered secret still appears there,
  the observation is not recorded: it becomes an error naming the position and the secret's reference (never
  the value), so the check reports `error` loudly instead of judging a rewritten fact or leaking the secret.
- well-known secret shapes (private key blocks, `aws_secret_access_key = ...`) are masked wherever they appear,
  whatever their origin: no check judges a private key's body.
The facts and raw answer of a public collector (PUBLIC_COLLECTORS) are what the server shows any anonymous client
and carry nothing preuve sent: they are kept as they are (a certificate's CN stays what the certificate says).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from preuve.evidence.canonical import dumps

MASK = "«redacted»"
MIN_SECRET_CHARS = 12  # see preuve.inputs.inventory.MIN_SECRET_CHARS
SECRET_IN_FACT = "SecretInFact"  # error_kind of an observation withheld by the safety net
# Collectors that send no credential and record only what the target shows every anonymous client (TLS
# handshakes and certificates, SSH banners, KEXINIT and host keys).
PUBLIC_COLLECTORS = frozenset({"tls", "ssh_protocol"})
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(aws_secret_access_key\s*[=:]\s*)\S+"),
]
# What a string must contain for one of _PATTERNS to match in it (same case rules): absent from the whole
# serialised observation, no pattern matches anywhere in it. (A leading "_" keeps the case-insensitive search a
# fast literal scan: 6 us on a 10 kB TLS observation, 58 us for the whole "aws_..." word.)
_KEY_MARK = "PRIVATE KEY-----"
_AWS_MARK = re.compile(r"(?i)_secret_access_key")


def _path(base: str, key: Any) -> str:
    return f"{base}[{key}]" if isinstance(key, int) else f"{base}.{key}" if base else str(key)


class Redactor:
    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # value -> what it is (a reference's description, never the value)
        self._escaped: dict[str, str] = {}  # value -> how it reads inside a JSON string (canonical form)

    def register(self, secret: str, what: str = "a registered secret") -> bool:
        """Remember a secret, to be masked in preuve's own words and refused in facts. A value shorter than
        MIN_SECRET_CHARS is not registered (False): it also occurs by chance in ordinary text. Inventory secrets
        that short are refused before anything runs (lint, and `reveal` at run time); short values a server
        returns (tokens) are never written to evidence in the first place."""
        if secret and len(secret) >= MIN_SECRET_CHARS:
            self._escaped.setdefault(secret, json.dumps(secret, ensure_ascii=False)[1:-1])
            self._secrets.setdefault(secret, what)
            return True
        return False

    def _known(self) -> dict[str, str]:
        """A snapshot: collectors register secrets from worker threads while another thread stores an observation
        (iterating the live dict raised "dictionary changed size during iteration" and lost that observation)."""
        return self._secrets.copy()

    def text(self, s: str) -> str:
        """Mask every registered secret and secret shape in `s`: for preuve's own words (logs, messages, the
        requests it built), never for what a target returned."""
        for secret in sorted(self._known(), key=len, reverse=True):
            s = s.replace(secret, MASK)
        return self._shape_text(s)

    @staticmethod
    def _shape_text(s: str) -> str:
        for pat in _PATTERNS:
            s = pat.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, s)
        return s

    def shapes(self, v: Any) -> Any:
        """Only the secret shapes (private key blocks...), recursively (keys included)."""
        if isinstance(v, str):
            return self._shape_text(v)
        if isinstance(v, dict):
            return {self.shapes(str(k)): self.shapes(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.shapes(x) for x in v]
        return v

    def value(self, v: Any) -> Any:
        """Mask recursively inside JSON-like values (keys included): preuve's own side of an observation."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        return v

    def found(self, v: Any, where: str = "") -> list[tuple[str, str]]:
        """(position, what) for every registered secret inside `v` (keys included), the value never quoted."""
        hits: list[tuple[str, str]] = []
        if isinstance(v, str):
            hits += [(where or "(value)", what) for s, what in self._known().items() if s in v]
        elif isinstance(v, dict):
            for k, x in v.items():
                hits += [(_path(where, "<key>"), what) for s, what in self._known().items() if s in str(k)]
                hits += self.found(x, _path(where, k))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                hits += self.found(x, _path(where, i))
        return hits

    def untouched(self, obs: dict[str, Any]) -> tuple[bytes, Any] | None:
        """(canonical bytes, a parsed copy) of an observation that `observation()` would return unchanged, proved on
        its serialised form without walking it: it is plain JSON (string keys, no tuple: the parsed copy equals it),
        and its text holds neither a secret shape's mark nor any registered secret as it reads inside a JSON string
        (escaping is character by character, so a secret inside a string or key is also inside the text). None
        when that is not shown: `observation()` then decides, string by string."""
        try:
            data = dumps(obs)
        except (TypeError, ValueError):
            return None
        copy = json.loads(data)
        if copy != obs:
            return None
        text = data.decode()
        if _KEY_MARK in text or _AWS_MARK.search(text):
            return None
        escaped = self._escaped.copy()  # a snapshot: collectors register secrets from worker threads
        if any(e in text for e in escaped.values()):
            return None
        return data, copy

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """The observation as it may be stored. `query` and `error` are masked in place; `facts` and `raw` get
        only the shapes, and a registered secret still in them withholds the observation (an error saying where
        and which secret, facts and raw not recorded) rather than rewrite a fact or leak the secret."""
        out = {k: (self.value(x) if k in ("query", "error") else self.shapes(x)) for k, x in obs.items()}
        if obs.get("collector") in PUBLIC_COLLECTORS:  # what any anonymous client sees: kept as the server says
            return out
        hits = self.found({k: x for k, x in out.items() if k not in ("query", "error")})
        if not hits:
            return out
        where = "; ".join(sorted({f"{what} in {pos}" for pos, what in hits})[:5])
        return {
            **out,
            "ok": False,
            "facts": {},
            "raw": None,
            "error_kind": SECRET_IN_FACT,
            "error": (
                f"a secret appeared in a fact position ({where}): not recorded. Masking it would rewrite "
                "what the target returned and judging it would leak the secret; if the target really "
                "shows this value, the secret is disclosed there: rotate it"
            ),
        }


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Attach to log handlers so that no log line carries a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR.text(record.getMessage())
        record.args = ()
        return True
