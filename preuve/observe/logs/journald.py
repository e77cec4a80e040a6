"""journald's merged configuration (storage, retention limits) as `systemd-analyze cat-config` shows it."""

from __future__ import annotations

import re

from preuve.observe.registry import HostFact
from preuve.observe.shell import SBIN_PATH as _PATH

JOURNALD = (
    _PATH + "if ! command -v systemd-analyze >/dev/null && ! command -v journalctl >/dev/null && "
    "! [ -e /lib/systemd/systemd-journald ] && ! [ -e /usr/lib/systemd/systemd-journald ]; then "
    "echo '#preuve: journald absent (no systemd-analyze, journalctl nor systemd-journald)'; exit 0; fi; "
    "systemd-analyze cat-config systemd/journald.conf && { [ -d /var/log/journal ] "
    '&& echo "#preuve: /var/log/journal exists" || echo "#preuve: /var/log/journal absent"; }'
)


def parse_journald(text: str) -> dict:
    """Merged journald settings (the last assignment wins, as systemd reads them) and the files read."""
    settings: dict[str, str] = {}
    files = []
    journal_dir = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#preuve: journald absent"):  # observed: not installed (a fact, not an error)
            return {"absent": s.removeprefix("#preuve: "), "settings": {}, "files": [], "var_log_journal": None}
        if s.startswith("#preuve: /var/log/journal"):
            journal_dir = s.endswith("exists")
        elif s.startswith("# /"):
            files.append(s[2:])
        elif s and not s.startswith(("#", ";", "[")) and "=" in s:
            key, _, value = s.partition("=")
            settings[key.strip()] = value.strip()
    return {"settings": settings, "files": files, "var_log_journal": journal_dir}


_UNITS = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "month": 2629800,
    "months": 2629800,
    "M": 2629800,
    "y": 31557600,
    "year": 31557600,
    "years": 31557600,
}


def timespan_seconds(value: str) -> float | None:
    """systemd.time(7) span ("1y", "6month", "2w 3d", plain seconds) -> seconds; None if unparsable."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    total = 0.0
    pos = 0
    for m in re.finditer(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)", value):
        if m.start() != pos or m.group(2) not in _UNITS:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(value) else None


HOST_FACTS = (HostFact("journald", JOURNALD, parse_journald, fixture="journald", doc="merged journald configuration"),)
