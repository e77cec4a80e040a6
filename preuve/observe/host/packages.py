"""Installed packages and their versions (8.1.b: the software inventory), read-only from the package database.

`dpkg-query -W` on Debian and Ubuntu, `rpm -qa` on RHEL and its rebuilds (epoch printed, `(none)` read as 0 so a
declared `0:VERSION-RELEASE` matches). Neither present: the fact errors naming both, never an empty list.
"""

from __future__ import annotations

from typing import Any

from preuve.observe.registry import HostFact

PACKAGES = (
    'PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin"; export LC_ALL=C; '
    "if command -v dpkg-query >/dev/null 2>&1; then echo '== manager dpkg'; "
    "dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' || exit 1; "
    "elif command -v rpm >/dev/null 2>&1; then echo '== manager rpm'; "
    "rpm -qa --qf '%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\tii \\n' || exit 1; "
    "else echo 'neither dpkg-query nor rpm on the host: no package database preuve can read' >&2; exit 1; fi"
)


def parse(text: str) -> dict[str, Any]:
    """{"manager": "dpkg"|"rpm"|None, "packages": {name: [versions]}}: installed packages only (dpkg status `ii`,
    `hi`; a removed package whose configuration files remain, `rc`, is not installed). Multi-arch or multilib
    packages may list a name more than once."""
    manager: str | None = None
    packages: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("== manager "):
            manager = line[len("== manager ") :].strip()
            continue
        name, sep, rest = line.partition("\t")
        if not sep or not name.strip():
            continue
        version, _, status = rest.partition("\t")
        if manager == "dpkg" and status.strip()[1:2] != "i":
            continue
        if manager == "rpm" and version.startswith("(none):"):
            version = "0:" + version[len("(none):") :]
        name = name.strip().split(":", 1)[0]  # dpkg prints libc6:amd64 for some multi-arch setups
        if version.strip() not in packages.setdefault(name, []):
            packages[name].append(version.strip())
    return {"manager": manager, "packages": packages}


HOST_FACTS = (
    HostFact(
        "packages",
        PACKAGES,
        parse,
        fixture="packages",
        doc="installed packages and versions (dpkg-query -W or rpm -qa), read-only",
    ),
)
