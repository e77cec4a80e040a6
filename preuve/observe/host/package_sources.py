"""Where a host installs packages from, and whether it checks their signatures (SOURCES-SIGNED, SOURCES-MIRRORS).

Read-only: the apt source files (one-line `.list` and deb822 `.sources`, the apt.conf.d options that switch the
signature check off) and the yum/dnf repository files (`/etc/yum.repos.d/*.repo`, `[main]` of dnf.conf/yum.conf,
whose `gpgcheck` is the default of every repository). The keyring files that exist are listed by name so a
`signed-by` pointing at nothing is told apart. Nothing here needs root.
"""

from __future__ import annotations

import base64
import re

from preuve.observe.host import openpgp
from preuve.observe.registry import HostFact

SOURCES = (
    "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources "
    '/etc/yum.repos.d/*.repo /etc/dnf/dnf.conf /etc/yum.conf; do [ -f "$f" ] && { echo "== file $f"; cat "$f"; }; '
    'done; echo "== aptconf"; for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do [ -f "$f" ] && '
    'grep -HiE "AllowInsecureRepositories|AllowDowngradeToInsecureRepositories|AllowUnauthenticated" "$f"; done; '
    'echo "== keyrings"; for f in /etc/apt/keyrings/* /usr/share/keyrings/* /etc/apt/trusted.gpg.d/* '
    '/etc/apt/trusted.gpg /etc/pki/rpm-gpg/*; do [ -f "$f" ] && echo "$f"; done; '
    # the keyrings the sources name (signed-by, gpgkey=file://): public keys, sent whole for SOURCES-SIGNING-KEYS
    "refs=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources "
    "/etc/yum.repos.d/*.repo 2>/dev/null | sed -n -e 's/.*signed-by=\\([^] ,]*\\).*/\\1/p' "
    "-e 's/^[[:space:]]*[Ss]igned-[Bb]y:[[:space:]]*\\(\\/[^[:space:]]*\\).*/\\1/p' "
    "-e 's/^[[:space:]]*gpgkey[[:space:]]*=.*file:\\/\\/\\(\\/[^[:space:]]*\\).*/\\1/p' | sort -u); "
    'for k in $refs; do [ -f "$k" ] && [ -r "$k" ] && { echo "== keyring-data $k"; base64 -w0 "$k"; echo; }; '
    "done; true"
)

_TRUE = {"1", "yes", "true", "on"}


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() in _TRUE


def _one_line(path: str, lines: list[str]) -> list[dict]:
    """sources.list(5) one-line style: `deb [opt=value ...] URI suite [component...]`."""
    out = []
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line.startswith(("deb ", "deb-src ", "deb\t", "deb-src\t")):
            continue
        kind, _, rest = line.partition(" ")
        options: dict[str, str] = {}
        rest = rest.strip()
        if rest.startswith("["):
            opts, _, rest = rest[1:].partition("]")
            for word in opts.split():
                key, _, value = word.partition("=")
                options[key.lower()] = value
        words = rest.split()
        if not words:
            continue
        out.append(
            {
                "file": path,
                "line": n,
                "type": kind,
                "uris": [words[0]],
                "suites": words[1:2],
                "signed_by": options.get("signed-by") or None,
                "trusted": _bool(options.get("trusted")) or False,
                "enabled": True,
            }
        )
    return out


def _deb822(path: str, lines: list[str]) -> list[dict]:
    """sources.list(5) deb822 style: stanzas of `Field: value` (continuation lines start with a space)."""
    out = []
    stanza: dict[str, str] = {}
    start = 1

    def flush() -> None:
        if stanza.get("types"):
            signed = stanza.get("signed-by", "").strip()
            inline = "BEGIN PGP PUBLIC KEY BLOCK" in signed
            out.append(
                {
                    "file": path,
                    "line": start,
                    "type": stanza["types"].split()[0],
                    "uris": stanza.get("uris", "").split(),
                    "suites": stanza.get("suites", "").split(),
                    "signed_by": "(inline key block)" if inline else (signed.split()[0] if signed else None),
                    "trusted": _bool(stanza.get("trusted")) or False,
                    "enabled": _bool(stanza.get("enabled")) is not False,
                }
            )

    key = None
    for n, raw in enumerate(lines, 1):
        if raw.startswith("#"):
            continue
        if not raw.strip():
            flush()
            stanza, key = {}, None
            continue
        if raw[:1] in " \t" and key:
            stanza[key] += "\n" + raw.strip()
            continue
        if not stanza:
            start = n
        key, _, value = raw.partition(":")
        key = key.strip().lower()
        stanza[key] = value.strip()
    flush()
    return out


def _ini(path: str, lines: list[str]) -> list[tuple[str, int, dict[str, str]]]:
    """yum.conf(5) INI sections: [(section, line, {key: value})]; indented lines continue a value (baseurl)."""
    sections: list[tuple[str, int, dict[str, str]]] = []
    key = None
    for n, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = re.match(r"^\[(.+)\]$", stripped)
        if m:
            sections.append((m[1].strip(), n, {}))
            key = None
        elif raw[:1] in " \t" and key and sections:
            sections[-1][2][key] += " " + stripped
        elif "=" in stripped and sections:
            key, _, value = stripped.partition("=")
            key = key.strip().lower()
            sections[-1][2][key] = value.strip()
    return sections


def _rpm_repos(files: list[tuple[str, list[str]]]) -> list[dict]:
    """Repositories of yum.repos.d with their effective gpgcheck ([main] default; dnf's own default is off)."""
    main_gpgcheck: bool | None = None
    main_from = None
    for path, lines in files:
        if path in ("/etc/dnf/dnf.conf", "/etc/yum.conf"):
            for name, _, values in _ini(path, lines):
                if name == "main" and "gpgcheck" in values:
                    main_gpgcheck, main_from = _bool(values["gpgcheck"]), path
    out = []
    for path, lines in files:
        if not path.endswith(".repo"):
            continue
        for name, n, values in _ini(path, lines):
            own = _bool(values.get("gpgcheck"))
            gpgcheck = own if own is not None else (main_gpgcheck if main_gpgcheck is not None else False)
            uris = values.get("baseurl", "").split()
            for key in ("mirrorlist", "metalink"):
                if values.get(key):
                    uris.append(values[key])
            out.append(
                {
                    "file": path,
                    "line": n,
                    "type": "rpm",
                    "id": name,
                    "uris": uris,
                    "enabled": _bool(values.get("enabled")) is not False,
                    "gpgcheck": gpgcheck,
                    "gpgcheck_from": path if own is not None else (main_from or "dnf default (off)"),
                    "gpgkey": values.get("gpgkey", "").split(),
                    "repo_gpgcheck": _bool(values.get("repo_gpgcheck")) or False,
                }
            )
    return out


def parse(text: str) -> dict:
    """{"sources": [...], "apt_insecure": [lines of apt.conf], "keyrings": [paths]}."""
    files: list[tuple[str, list[str]]] = []
    insecure: list[str] = []
    keyrings: list[str] = []
    keyring_keys: dict[str, list[dict]] = {}
    section = current = None
    for line in text.splitlines():
        if line.startswith("== file "):
            files.append((line[8:].strip(), []))
            section = "file"
        elif line.strip() in ("== aptconf", "== keyrings"):
            section = line.strip()[3:]
        elif line.startswith("== keyring-data "):
            section, current = "keyring-data", line[len("== keyring-data ") :].strip()
        elif section == "keyring-data" and line.strip():
            try:
                keyring_keys[current] = openpgp.keys(base64.b64decode(line.strip()))
            except (ValueError, IndexError) as e:
                keyring_keys[current] = [{"error": f"unreadable keyring: {e}"}]
        elif section == "file":
            files[-1][1].append(line)
        elif section == "aptconf" and line.strip():
            conf, _, setting = line.partition(":")
            value = setting.split("//", 1)[0].strip()
            if re.search(r'["\s]"?(true|yes|1)"?\s*;', value, re.IGNORECASE) and not setting.lstrip().startswith("//"):
                insecure.append(f"{conf}: {value}")
        elif section == "keyrings" and line.strip():
            keyrings.append(line.strip())
    sources: list[dict] = []
    for path, lines in files:
        if path.endswith(".sources"):
            sources += _deb822(path, lines)
        elif path.endswith(".list") or path == "/etc/apt/sources.list":
            sources += _one_line(path, lines)
    sources += _rpm_repos(files)
    for s in sources:
        if s["type"] != "rpm":
            s["signed_by_exists"] = s["signed_by"] == "(inline key block)" or s["signed_by"] in keyrings
    return {"sources": sources, "apt_insecure": insecure, "keyrings": keyrings, "keyring_keys": keyring_keys}


def where(source: dict) -> str:
    """file:line of a source, as findings quote it."""
    return f"{source['file']}:{source['line']}"


def unsigned_reason(source: dict, apt_insecure: list[str]) -> str | None:
    """Why this enabled source's packages are not checked against a key dedicated to it (None: they are)."""
    if source["type"] == "rpm":
        if not source["gpgcheck"]:
            return f"gpgcheck off (from {source['gpgcheck_from']})"
        return None if source["gpgkey"] else "gpgcheck=1 but no gpgkey: any key imported in the rpm database signs"
    if source["trusted"]:
        return "trusted=yes: apt skips the signature check"
    if apt_insecure:
        return f"apt configuration allows unsigned repositories ({apt_insecure[0]})"
    if not source["signed_by"]:
        return "no signed-by: every key of apt's global keyrings may sign this source"
    if not source["signed_by_exists"]:
        return f"signed-by {source['signed_by']} does not exist"
    return None


HOST_FACTS = (
    HostFact(
        "package_sources",
        SOURCES,
        parse,
        fixture="package_sources",
        doc="apt sources (.list, deb822 .sources) and yum/dnf repositories: URIs, signed-by / gpgcheck, "
        "apt options allowing unsigned repositories, keyring files present",
    ),
)
