"""auditd runs on the host with rules that trace changes of access rights, use of privileges and admin commands
(12.6.b).

The rules judged are the kernel's (`auditctl -l`) when an auditd runs in the host's mount namespace and auditctl
answers, else the host's rule files: files alone prove nothing is recorded, so without a running auditd the check
fails whatever the files say (the target a file-reading check would pass)."""

from __future__ import annotations

import itertools

from preuve.judge import check

IDENTITY = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers")
ESCALATORS = ("/usr/bin/sudo", "/bin/sudo", "/usr/bin/su", "/bin/su")


def _fields(rule: str) -> tuple[list[str], dict[str, str], str]:
    """(-S syscalls, -F/-C fields as {name+op: value}, -a action) of one rule line."""
    words = rule.split()
    syscalls: list[str] = []
    fields: dict[str, str] = {}
    action = ""
    for flag, value in itertools.pairwise(words):
        if flag == "-S":
            syscalls += value.split(",")
        elif flag in ("-F", "-C"):
            for op in ("!=", ">=", "<=", "=", ">", "<"):
                if op in value:
                    k, _, v = value.partition(op)
                    fields[k + op] = v
                    break
        elif flag == "-a":
            action = value
    return syscalls, fields, action


def watches(rules: list[str], path: str, perm: str) -> bool:
    """A `-w` watch or an `-F path=`/`dir=` exit rule covering `path` for the access `perm` (w, x)."""
    for rule in rules:
        words = rule.split()
        if words[:1] == ["-w"] and len(words) > 1:
            where = words[1].rstrip("/")
            perms = words[words.index("-p") + 1] if "-p" in words[:-1] else "rwxa"
            if (path == where or path.startswith(where + "/")) and perm in perms:
                return True
        elif words[:1] == ["-a"]:
            _, fields, action = _fields(rule)
            if "never" in action:
                continue
            where = fields.get("path=") or (fields.get("dir=") or "").rstrip("/")
            if where and (path == where or path.startswith(where + "/")) and perm in fields.get("perm=", ""):
                return True
    return False


def execve(rules: list[str], *conditions: str) -> bool:
    """An exit rule on execve carrying every condition (`uid!=euid`, `euid=0`)."""
    for rule in rules:
        syscalls, fields, action = _fields(rule)
        if (
            "execve" in syscalls
            and "never" not in action
            and all(c in [k + v for k, v in fields.items()] for c in conditions)
        ):
            return True
    return False


@check(
    "AUDIT-EVENTS",
    requirements={
        "12.6.b#1": "auditd runs with rules tracing privilege use (setuid execs, sudo/su) and commands run as root",
        "12.6.b#2": "auditd rules trace writes to the identity files and sudoers (changes of access rights)",
        "12.6.e#1": "Linux hosts: auditd active with administration-tracing rules (ANSSI logging guide)",
    },
    target="baseline_host",
    severity="high",
    rule="Guide ANSSI de journalisation (auditd actif) ; BP-028 R73 (journalisation de l'activité par auditd)",
)
def check_audit_events(audit, daemons, judge):
    running = sorted({f"auditd (pid {d['pid']})" for d in daemons if d["name"] == "auditd"})
    file_rules = [r for rules in audit["files"].values() for r in rules]
    if not running:
        judge.equals(
            "audit.daemon",
            f"no auditd in the host's mount namespace ({len(file_rules)} rule(s) in {len(audit['files'])} file(s)"
            + (f", {len(audit['unreadable'])} unreadable)" if audit["unreadable"] else ")"),
            "auditd running",
        )
        return
    live = audit["live_rules"] is not None and audit["auditctl"]
    rules = audit["live_rules"] if live else file_rules
    judge.equals("audit.daemon", running[0], running[0])
    if audit["status"] is not None:
        judge.equals("audit.enabled", audit["status"].get("enabled"), "1")
    source = "auditctl -l" if live else "rule files (" + ", ".join(audit["errors"] or ["no auditctl"]) + ")"
    covered = {
        **{f"write {p}": watches(rules, p, "w") for p in IDENTITY},
        "privilege use (execve uid!=euid, or exec of sudo/su)": execve(rules, "uid!=euid")
        or any(watches(rules, p, "x") for p in ESCALATORS),
        "commands run as root (execve euid=0)": execve(rules, "euid=0"),
    }
    judge.each("audit.rules_cover", covered, observed={"rules from": source, "rules": len(rules)})
