"""Every command preuve runs through `sudo -n` on a scanned host: the source of the sudoers block in
docs/sudoers.md (written by tools/gen_docs.py).

A scanning account that is not root needs exactly these rules (read-only commands; `list` is sudo's built-in
that lets `sudo -l -U user` show another account's rules). tests/unit/test_sudoers_block.py fails when a collector
runs a command through sudo that this table does not hold, or when the docs/sudoers.md block does not cover it.

When sudo refuses one of them, the fact's error names the rule to add (`explain_refusal`), instead of sudo's
bare "a password is required".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Privileged:
    name: str  # the command's name as the collector scripts call it
    rule: str  # the sudoers command specification to allow
    example: str  # a real invocation (absolute path) the rule must cover
    facts: tuple[str, ...]  # ssh_host facts that run it
    why: str
    optional: bool = False  # only for some inventories (then commented out in the block)


SYSLOG_NG = "/usr/sbin/syslog-ng --no-caps --preprocess-into=/dev/stdout -f /etc/syslog-ng/syslog-ng.conf"
COMMANDS: tuple[Privileged, ...] = (
    Privileged(
        "sshd",
        "/usr/sbin/sshd -T *",
        "/usr/sbin/sshd -T -f /etc/ssh/sshd_config -C user=root,host=10.0.0.1,addr=10.0.0.1,laddr=10.0.0.2,lport=22",
        ("sshd_config", "sshd_effective", "sshd_admin", "accounts", "admin_keys"),
        "effective sshd configuration per connection context (SSH-*, MFA-SSH-CONFIG)",
    ),
    Privileged(
        "list",
        "list",
        "list",
        ("sshd_admin",),
        "who holds a sudo rule, as sudo resolves its policy: `sudo -l -U user` (MFA-SSH-CONFIG)",
    ),
    Privileged(
        "cat",
        "/usr/bin/cat /etc/shadow",
        "/usr/bin/cat /etc/shadow",
        ("shadow",),
        "password hash schemes and salts, never the hashes themselves in evidence (HYG-*)",
    ),
    Privileged(
        "ssh-keygen",
        "/usr/bin/ssh-keygen -l -f *",
        "/usr/bin/ssh-keygen -l -f /home/alice/.ssh/authorized_keys",
        ("accounts",),
        "who can log in with which key: fingerprints of every account's authorized keys, never the keys (ACC-*)",
    ),
    Privileged(
        "auditctl",
        "/usr/sbin/auditctl -l, /usr/sbin/auditctl -s",
        "/usr/sbin/auditctl -l",
        ("audit",),
        "the kernel's audit rules and status, read-only (AUDIT-EVENTS)",
    ),
    Privileged(
        "chronyc",
        "/usr/bin/chronyc -n -c tracking, /usr/bin/chronyc -n -c sources",
        "/usr/bin/chronyc -n -c tracking",
        ("timesync",),
        "clock synchronisation state (TIME-*)",
    ),
    Privileged(
        "ss",
        "/usr/bin/ss -tnpH state established",
        "/usr/bin/ss -tnpH state established",
        ("rsyslog",),
        "which process holds each log-forwarding connection (LOG-*)",
    ),
    Privileged(
        "nft",
        "/usr/sbin/nft -j list ruleset",
        "/usr/sbin/nft -j list ruleset",
        ("nft_ruleset",),
        "host firewall rules (NET-HOST-FIREWALL)",
    ),
    Privileged(
        "iptables-save",
        "/usr/sbin/iptables-save -t filter",
        "/usr/sbin/iptables-save -t filter",
        ("nft_ruleset",),
        "host firewall rules where nft is absent (NET-HOST-FIREWALL)",
    ),
    Privileged("syslog-ng", SYSLOG_NG, SYSLOG_NG, ("syslog_ng",), "syslog-ng's own merge of its configuration (LOG-*)"),
    Privileged(
        "cryptsetup",
        "/usr/sbin/cryptsetup luksDump /dev/DEVICE",
        "/usr/sbin/cryptsetup luksDump /dev/DEVICE",
        ("luks",),
        "LUKS header of each declared data volume, one rule per device (hosts[].data_volumes): never a wildcard, "
        "which would also allow --dump-volume-key with a key file (ENC-*, KEYS-LUKS-UNLOCK)",
        optional=True,
    ),
    Privileged(
        "cat",
        "/usr/bin/cat -- /root/*, /usr/bin/ls -1A -- /root/*, /usr/bin/cat -- /home/*, /usr/bin/ls -1A -- /home/*",
        "/usr/bin/cat -- /home/alice/.ssh/id_ed25519",
        ("admin_keys",),
        "administrators' key files and kubeconfig, classified on the host (encrypted or not, fingerprint, field "
        "names): nothing of them is recorded; a sudoers `*` also matches further arguments, so grant this to the "
        "dedicated scanning account only (KEYS-ADMIN-*)",
        optional=True,
    ),
    Privileged(
        "faillock",
        "/usr/sbin/faillock --dir /var/run/faillock --user CANARY --reset",
        "/usr/sbin/faillock --dir /var/run/faillock --user CANARY --reset",
        (),
        "reset of the lockout canary's counter, on hosts with a lockout_canary only (LOCK-*)",
        optional=True,
    ),
)

BY_FACT: dict[str, list[Privileged]] = {}
for _c in COMMANDS:
    for _f in _c.facts:
        BY_FACT.setdefault(_f, []).append(_c)

REFUSALS = (
    "a password is required",
    "is not allowed to execute",
    "a terminal is required",
    "may not run sudo",
    "is not in the sudoers file",
    "no tty present",
)


def sudoers_block(user: str = "preuve-audit") -> str:
    """The block docs/sudoers.md gives (and `tests/unit/test_sudoers_block.py` compares with it)."""
    lines = [f"# /etc/sudoers.d/{user}: the read-only commands preuve runs through `sudo -n` (check: visudo -cf FILE)"]
    for c in COMMANDS:
        lines.append(f"# {c.why}")
        lines.append(
            f"{'# ' if c.optional else ''}{user} ALL=({'ALL' if c.name == 'list' else 'root'}) NOPASSWD: {c.rule}"
        )
    return "\n".join(lines)


def explain_refusal(fact: str, message: str) -> str:
    """sudo's refusal, completed with the rule to allow (a plain message otherwise unchanged)."""
    if "sudo" not in message or not any(r in message for r in REFUSALS):
        return message
    rules = [c.rule for c in BY_FACT.get(fact, [])]
    if not rules:
        return message
    return (
        f"{message} — sudo refused a read-only command: allow it for the scanning account in sudoers: "
        f"`NOPASSWD: {' ; '.join(rules)}` (docs/sudoers.md)"
    )
