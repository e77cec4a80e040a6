"""Account lockout as configured: faillock.conf and sshd's PAM auth stack."""

from __future__ import annotations

import re
from typing import Any

from preuve.observe.registry import HostFact

FAILLOCK = (
    "echo '== /etc/security/faillock.conf'; cat /etc/security/faillock.conf 2>/dev/null; "
    "for f in /etc/pam.d/sshd /etc/pam.d/common-auth /etc/pam.d/system-auth /etc/pam.d/password-auth; do "
    '[ -r "$f" ] && { echo "== $f"; cat "$f"; }; done; true'
)


def parse_faillock(text: str) -> dict:
    """faillock.conf settings and the auth lines of the PAM files sshd may use (includes kept by name)."""
    files: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("== /"):
            current = files.setdefault(line[3:].strip(), [])
        elif current is not None and line.split("#", 1)[0].strip():
            current.append(line.split("#", 1)[0].strip())
    conf = {}
    for line in files.pop("/etc/security/faillock.conf", []):
        key, _, value = line.partition("=")
        conf[key.strip()] = value.strip() or "true"
    pam: dict[str, list[dict]] = {}
    for path, lines in files.items():
        entries: list[dict[str, Any]] = []
        for line in lines:
            if line.startswith("@include"):
                entries.append({"include": line.split()[1]})
                continue
            m = re.match(r"-?(\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)", line)
            if not m or m[1] != "auth":
                continue
            if m[2] in ("include", "substack"):
                entries.append({"include": m[3]})
            else:
                entries.append({"control": m[2], "module": m[3].rsplit("/", 1)[-1], "args": m[4].split()})
        pam[path.rsplit("/", 1)[-1]] = entries
    return {"conf": conf, "pam": pam}


HOST_FACTS = (
    HostFact("faillock", FAILLOCK, parse_faillock, fixture="faillock", doc="faillock.conf and sshd's PAM auth stack"),
)
