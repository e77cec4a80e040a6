"""Maintained software on a host: pending security updates, package index age, running vs installed kernel, release.

One read-only POSIX sh snippet, batched with the other host facts: `apt-get -s dist-upgrade` (a simulation, which
apt allows any account without the lock) on Debian and Ubuntu, `dnf|yum -q -C updateinfo list --security` (the
metadata cache only: no network) on RHEL and its rebuilds. Nothing fetches an index: the age of the one the host
holds is reported instead (PATCH-INDEX-FRESH), since "no pending update" against a month-old index proves little.
The running kernel (`uname -r`) is compared with the kernel images in /boot, and Debian's /run/reboot-required
flag is read. /etc/os-release names the release, judged against the dated table preuve/data/eol.yaml.
"""

from __future__ import annotations

import re

from preuve.observe.registry import HostFact

PATCHING = (
    'PATH="$PATH:/usr/sbin:/sbin"; export LC_ALL=C; echo "== now $(date +%s)"; echo "== kernel $(uname -r)"; '
    'echo "== boot"; for f in /boot/vmlinuz-*; do [ -e "$f" ] && echo "${f#/boot/vmlinuz-}"; done; '
    'if [ -e /run/reboot-required ]; then echo "== reboot-required"; cat /run/reboot-required.pkgs 2>/dev/null; fi; '
    'echo "== os-release"; cat /etc/os-release 2>/dev/null; '
    "if command -v apt-get >/dev/null 2>&1; then echo '== manager apt'; L=; "
    'eval "$(apt-config shell L Dir::State::lists/d 2>/dev/null)"; L="${L:-/var/lib/apt/lists/}"; '
    'echo "== index $L"; for f in "$L"*Release; do [ -f "$f" ] && stat -c "%Y %n" "$f"; done; '
    "echo '== pending'; out=$(apt-get -s -q -o Debug::NoLocking=1 dist-upgrade 2>&1) || "
    '{ printf "%s\\n" "$out" | grep -E "^(E|W):" >&2; exit 1; }; printf "%s\\n" "$out" | grep -E "^(Inst|E:|W:) "; '
    "elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then "
    "m=dnf; command -v dnf >/dev/null 2>&1 || m=yum; echo \"== manager $m\"; echo '== index /var/cache'; "
    "for f in /var/cache/dnf/*/repodata/repomd.xml /var/cache/libdnf5/*/repodata/repomd.xml "
    '/var/cache/yum/*/*/*/repomd.xml /var/cache/yum/*/*/repomd.xml; do [ -f "$f" ] && stat -c "%Y %n" "$f"; done; '
    "echo '== pending'; $m -q -C updateinfo list --security 2>&1 || exit 1; "
    "else echo '== manager none'; fi; true"
)

_APT_INST = re.compile(r"^Inst (?P<pkg>\S+) (?:\[(?P<cur>[^\]]*)\] )?\((?P<new>\S+) (?P<origins>.*?) \[[^\]]*\]\)")
# `yum|dnf updateinfo list`: ADVISORY SEVERITY/Sec. NEVRA (security) or ADVISORY bugfix|enhancement NEVRA
_DNF_LINE = re.compile(r"^(?P<advisory>\S+)\s+(?P<kind>\S+)\s+(?P<nevra>\S+)\s*$")


def _sections(text: str) -> list[tuple[str, str, list[str]]]:
    out: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("== "):
            name, _, arg = line[3:].partition(" ")
            out.append((name, arg.strip(), []))
        elif out:
            out[-1][2].append(line)
    return out


def parse_os_release(lines: list[str]) -> dict[str, str]:
    import shlex

    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            try:
                out[key] = " ".join(shlex.split(value))
            except ValueError:
                out[key] = value
    return out


def is_security_origin(origin: str) -> bool:
    """An apt origin `Label:Version/Archive` from a security archive (Debian-Security, jammy-security, ...)."""
    label, _, rest = origin.strip().partition(":")
    archive = rest.rpartition("/")[2]
    return "security" in label.lower() or archive.lower().endswith("-security")


def parse_apt_pending(lines: list[str]) -> list[dict]:
    """`apt-get -s dist-upgrade` Inst lines: package, installed and candidate versions, origins, security?"""
    pending = []
    for line in lines:
        m = _APT_INST.match(line)
        if not m:
            continue
        origins = [o.strip() for o in m["origins"].split(",") if o.strip()]
        pending.append(
            {
                "package": m["pkg"],
                "installed": m["cur"],
                "candidate": m["new"],
                "origins": origins,
                "security": any(is_security_origin(o) for o in origins),
            }
        )
    return pending


def parse_dnf_security(lines: list[str]) -> list[dict]:
    """`dnf|yum -q -C updateinfo list --security` lines: advisory, severity, package (name-version-release.arch)."""
    pending = []
    for line in lines:
        m = _DNF_LINE.match(line.strip())
        if not m or "/" not in m["kind"] or not m["kind"].lower().endswith("/sec."):
            continue
        nevra = m["nevra"]
        name = re.sub(r"-(\d+:)?[^-]+-[^-]+$", "", nevra)
        pending.append(
            {
                "package": name,
                "candidate": nevra[len(name) + 1 :],
                "advisory": m["advisory"],
                "severity": m["kind"].split("/", 1)[0],
                "security": True,
            }
        )
    return pending


# Lines of the listings that carry no package: banners and headers (anything else is unknown output, see unparsed)
_NOISE = re.compile(
    r"^(Last metadata expiration check|Loaded plugins|Updating Subscription Management|Not root, Subscription|"
    r"This system is|"
    r"Unable to read consumer identity|Repository .* is listed more than once|NOTE: This is only a simulation|"
    r"apt-get has unsafe|Conf |Remv |Reading |Building |Calculating |The following|\d+ upgraded|Inst )"
)


def unparsed(lines: list[str], manager: str | None) -> list[str]:
    """dnf/yum lines that are neither an advisory line nor known noise: a listing format this parser does not know
    (another dnf version's columns, say: dnf5 is not recorded here) must not read as "nothing pending"."""
    if manager == "apt":
        return []
    return [ln.strip() for ln in lines if ln.strip() and not _DNF_LINE.match(ln.strip()) and not _NOISE.match(ln)]


def parse(text: str) -> dict:
    """{"now", "kernel": {running, installed, reboot_required, reboot_packages}, "os_release", "manager",
    "index": {"dir", "files": [{"mtime", "path"}]}, "pending": [...], "security": [...]}."""
    out: dict = {
        "now": None,
        "kernel": {"running": None, "installed": [], "reboot_required": False, "reboot_packages": []},
        "os_release": {},
        "manager": None,
        "index": {"dir": None, "files": []},
        "pending": [],
    }
    for name, arg, lines in _sections(text):
        body = [ln for ln in lines if ln.strip()]
        if name == "now":
            out["now"] = int(arg) if arg.isdigit() else None
        elif name == "kernel":
            out["kernel"]["running"] = arg or None
        elif name == "boot":
            out["kernel"]["installed"] = [b.strip() for b in body if "rescue" not in b]
        elif name == "reboot-required":
            out["kernel"]["reboot_required"] = True
            out["kernel"]["reboot_packages"] = sorted({b.strip() for b in body})
        elif name == "os-release":
            out["os_release"] = parse_os_release(body)
        elif name == "manager":
            out["manager"] = None if arg == "none" else arg
        elif name == "index":
            out["index"]["dir"] = arg
            for b in body:
                stamp, _, path = b.strip().partition(" ")
                if stamp.isdigit():
                    out["index"]["files"].append({"mtime": int(stamp), "path": path})
        elif name == "pending":
            out["pending"] = parse_apt_pending(body) if out["manager"] == "apt" else parse_dnf_security(body)
            out["unparsed"] = unparsed(body, out["manager"])
    out["security"] = sorted({p["package"] for p in out["pending"] if p["security"]})
    return out


def version_key(version: str) -> list:
    """A natural order for kernel releases (6.1.0-28-amd64 after 6.1.0-9-amd64; 5.14.0-427.16.1.el9_4 after ...)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[A-Za-z]+", version)]


def newest_kernel(installed: list[str]) -> str | None:
    return max(installed, key=version_key) if installed else None


HOST_FACTS = (
    HostFact(
        "patching",
        PATCHING,
        parse,
        fixture="patching",
        doc="pending security updates (apt simulation, dnf/yum updateinfo from the cache), package index age, "
        "running vs installed kernels, reboot flag, /etc/os-release",
    ),
)
