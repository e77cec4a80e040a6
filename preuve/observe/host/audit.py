"""Linux audit: the rules a host declares (/etc/audit/audit.rules, rules.d) and, through `auditctl`, what the kernel
holds and whether an audit daemon is registered (AUDIT-EVENTS, 12.6.b).

Why both: rule files are what the host will load at boot; `auditctl -l` is what the kernel enforces now and
`auditctl -s` says whether auditing is enabled and which pid receives the events. Both are read-only. The kernel's
audit state is global to the machine (not per container or mount namespace), so the check trusts it only when an
auditd runs in the host's own mount namespace (daemons fact). Rule lines are kept as written, comments and blank
lines removed (rules name paths and keys, never secrets).
"""

from __future__ import annotations

from preuve.observe.registry import HostFact

SNIPPET = r"""PATH="$PATH:/usr/sbin:/sbin"; export LC_ALL=C
asroot() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
[ -d /etc/audit/rules.d ] && [ ! -r /etc/audit/rules.d ] && echo "== unreadable /etc/audit/rules.d"
for f in /etc/audit/audit.rules /etc/audit/rules.d/*.rules; do
  [ -e "$f" ] || continue
  if [ -r "$f" ]; then echo "== file $f"; grep -Ev '^[[:space:]]*(#|$)' "$f"; else echo "== unreadable $f"; fi
done
if command -v auditctl >/dev/null 2>&1; then
  for w in l s; do
    if out=$(asroot auditctl -$w 2>&1 </dev/null); then echo "== live-$w"; printf '%s\n' "$out"
    else printf '== live-error auditctl -%s: %s\n' "$w" "$(printf '%s' "$out" | head -n 1)"; fi
  done
else echo "== no-auditctl auditctl is not installed"; fi
true
"""


def parse(text: str) -> dict:
    """{"files": {path: [rule lines]}, "unreadable": [paths], "live_rules": [lines] | None,
    "status": {key: value} | None, "errors": [..], "auditctl": bool}."""
    out: dict = {"files": {}, "unreadable": [], "live_rules": None, "status": None, "errors": [], "auditctl": True}
    section, current = "", None
    for line in text.splitlines():
        if line.startswith("== "):
            word, _, rest = line[3:].partition(" ")
            section = word
            if word == "file":
                current = out["files"].setdefault(rest, [])
            elif word == "unreadable":
                out["unreadable"].append(rest)
            elif word == "live-l":
                out["live_rules"] = []
            elif word == "live-s":
                out["status"] = {}
            elif word == "live-error":
                out["errors"].append(rest)
            elif word == "no-auditctl":
                out["auditctl"] = False
            continue
        if section == "file" and current is not None:
            current.append(line.strip())
        elif section == "live-l" and line.strip() and line.strip() != "No rules":
            out["live_rules"].append(line.strip())
        elif section == "live-s":
            key, _, value = line.partition(" ")
            if key:
                out["status"][key] = value.strip()
    return out


HOST_FACTS = (
    HostFact(
        "audit",
        SNIPPET,
        parse,
        fixture="audit",
        doc="audit rule files (/etc/audit) and, through auditctl -l / -s, the kernel's rules and audit status",
    ),
)
