"""Two lab *hosts* for access, hygiene and log checks: ``ssh-mfa`` (compliant) and ``ssh-key-only`` (not).

Each is an sshd in its own mount namespace where a per-host directory is laid over the host's /etc by a
read-only overlay (passwd, shadow, sudoers, PAM, login.defs, journald, logrotate) and a per-host directory is
bound over /var/log, so the scanner logs in to what looks like a whole machine while the host's /etc and
/var/log are never written. ``ssh-mfa`` demands a second factor from admins (PAM OATH TOTP after the key,
``AuthenticationMethods publickey,keyboard-interactive``); ``ssh-key-only`` lets an admin in with a key alone.
The scanning account ``auditor`` keeps key-only access (a read-only service account, Match block).

Each host runs BOTH rsyslog and syslog-ng, each with its own forwarding configuration (compliant on ssh-mfa,
not on ssh-key-only): a real machine runs one of them, but two lab hosts are all we have, and this way one host
pair exercises both parsers and the rule that decides which daemon is judged (every log daemon running in the
host's mount namespace; see preuve/observe/logs/syslog_ng.py). syslog-ng conflicts with rsyslog in Debian, hence its
private extraction (lab/syslog_ng.py).
"""

from __future__ import annotations

import datetime as dt
import grp
import os
import secrets
import shutil
import subprocess
import warnings
from pathlib import Path

from . import admin_homes, clamav, journal_seed, lockout, logsup, netns, patching, syslog_ng, timesyncd_conf, volumes
from .accounts import FIRST_UID, HOST_ETC, SUDOERS
from .paths import LabPaths
from .sshd import GOOD_OPTIONS, PRIVSEP_DIR, SSHD
from .sshkeys import _keygen, host_key_files
from .topology import SERVICES

with warnings.catch_warnings():  # deprecated in 3.13; Debian 12 ships 3.11 and libxcrypt has every scheme needed
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

HOSTS = ("ssh-mfa", "ssh-key-only")
ADMIN = "pvadmin"
"""The canary admin account (key + TOTP on ssh-mfa, key alone on ssh-key-only)."""

EXTRA_SUDOERS = """\
auditor ALL=(root) NOPASSWD: /usr/bin/cat /etc/shadow
auditor ALL=(root) NOPASSWD: /usr/bin/ssh-keygen -l -f *
auditor ALL=(root) NOPASSWD: /usr/sbin/auditctl -l, /usr/sbin/auditctl -s
# the canary administrator reaches root through sudo (ACC-TECH-USERS-REVIEW: root's declared user)
pvadmin ALL=(ALL:ALL) ALL
auditor ALL=(root) NOPASSWD: /usr/bin/chronyc -n -c tracking, /usr/bin/chronyc -n -c sources
auditor ALL=(root) NOPASSWD: /usr/bin/ss -tnpH state established
# an operator outside every admin group, with one sudo rule: an administrator all the same (MFA-SSH-CONFIG)
alice ALL=(root) /usr/bin/systemctl restart nginx
"""


def root(paths: LabPaths) -> Path:
    return paths.root / "hosts"


def host_dir(paths: LabPaths, name: str) -> Path:
    return root(paths) / name


def canary_key(paths: LabPaths) -> Path:
    return paths.keys / "canary"


def canary_totp(paths: LabPaths) -> Path:
    """The canary's TOTP seed (hex), read by the inventory by reference only."""
    return paths.keys / "canary.totp"


def known_hosts(paths: LabPaths) -> Path:
    return root(paths) / "known_hosts"


def oath_file(paths: LabPaths) -> Path:
    return host_dir(paths, "ssh-mfa") / "oath" / "users.oath"


# --- accounts and password hashes ---------------------------------------------------------------------


def _salt(n: int = 16) -> str:
    alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _hash(scheme: str, salt: str | None = None) -> str:
    """A real crypt(3) hash of a throwaway random password (nobody ever logs in with these)."""
    password = secrets.token_urlsafe(12)
    prefix = {
        "yescrypt": "$y$j9T$" + (salt or _salt()),
        "bcrypt": "$2b$10$" + (salt or _salt(22)),
        "sha512crypt": "$6$rounds=65000$" + (salt or _salt()),
        "sha512crypt-weak": "$6$rounds=1000$" + (salt or _salt()),
        "md5crypt": "$1$" + (salt or _salt(8)),
        "des": salt or _salt(2),
    }[scheme]
    return crypt.crypt(password, prefix)


def _accounts(name: str) -> list[tuple[str, str]]:
    """(user, shadow password field) of the lab accounts of a host, beyond auditor and pvadmin."""
    if name == "ssh-mfa":
        return [("alice", _hash("yescrypt")), ("bob", _hash("bcrypt")), ("carol", _hash("sha512crypt"))]
    shared = _salt()
    return [
        ("alice", _hash("md5crypt")),
        ("bob", _hash("des")),
        ("carol", ""),
        ("dave", _hash("sha512crypt-weak", shared)),
        ("erin", _hash("sha512crypt-weak", shared)),
    ]


SERVICE = "svc-backup"
"""A technical account on both hosts: ``*`` in shadow (no password: "cannot log in", a naive check says) and a key in
its authorized_keys. sshd lets it in on ssh-key-only (AllowUsers names it), not on ssh-mfa (ACC-TECH-DIRECT-LOGIN)."""
DEPARTED = "olivier"
"""An administrator who left (ssh-key-only only): ``passwd -l`` was run, his key and sudo rule were left behind."""
DEPARTED_SUDOERS = f"{DEPARTED} ALL=(ALL:ALL) ALL\n"
LAST_LOGIN_DAYS = {
    "ssh-mfa": {ADMIN: 2, "alice": 3},
    "ssh-key-only": {ADMIN: 2, "alice": 200, DEPARTED: 400},
}
"""Days since each account's last interactive login, written in /var/log/lastlog as login(1) writes it
(ACC-RIGHTS-REVIEW: alice holds a sudo rule and has not logged in to ssh-key-only for 200 days)."""


ROSTER = """\
# preuve lab: the declared active administrators (inventories/lab.yaml baseline.roster), written at lab up so the
# review dates stay {reviewed} and {technical} days old (ACC-RIGHTS-REVIEW, ACC-TECH-USERS-REVIEW)
reviewed_on: {reviewed_on}
technical_reviewed_on: {technical_reviewed_on}
people:
  - {{name: Paula Admin, accounts: [pvadmin], vetted_on: 2025-06-02}}
  - {{name: Alice Operator, accounts: [alice]}}
  - {{name: Bob Developer, accounts: [bob]}}
  - {{name: Carol Developer, accounts: [carol]}}
technical_accounts:
  - {{name: root, users: [pvadmin, alice]}}   # alice: one sudo rule run as root
  - {{name: svc-backup}}
  - {{name: auditor, direct_login: true, why: "preuve's read-only scanning account (key only)"}}
  - {{name: pvlock, direct_login: true, why: "lockout canary of LOCK-ACTIVE (no right)"}}
"""


def write_roster(paths: LabPaths, reviewed: int = 30, technical: int = 20) -> Path:
    """/var/tmp/preuve-lab/roster.yaml, its review dates `reviewed` and `technical` days before today (UTC)."""
    today = dt.datetime.now(dt.UTC).date()
    text = ROSTER.format(
        reviewed=reviewed,
        technical=technical,
        reviewed_on=(today - dt.timedelta(days=reviewed)).isoformat(),
        technical_reviewed_on=(today - dt.timedelta(days=technical)).isoformat(),
    )
    path = paths.root / "roster.yaml"
    _write(path, text)
    return path


STALE_OPENSSH = "1:8.4p1-5+deb11u1"
"""The openssh-server version the lab's software inventory declares for ssh-key-only (Debian 11's): a stale entry
INV-SOFTWARE-DECLARED must catch there, while ssh-mfa's entry holds the versions really installed."""


def write_software(paths: LabPaths) -> Path:
    """/var/tmp/preuve-lab/software.yaml (inventories/lab.yaml baseline.software_inventory): the lab hosts share
    this machine's dpkg database, so the declared versions are read from it at lab up (never drifting) for every
    installed package of the default watch-list; ssh-key-only's openssh-server is declared at STALE_OPENSSH."""
    from preuve.inputs.params import PatchingParams

    watch = PatchingParams().inventory_watch
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *watch],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    real = {}
    for line in out.splitlines():
        name, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if status.startswith("ii") and version:
            real[name] = version
    stale = {**real, "openssh-server": STALE_OPENSSH}
    lines = [
        "# preuve lab: the declared software inventory (INV-SOFTWARE-DECLARED), written at lab up from dpkg-query",
        "software:",
    ]
    for host, pkgs in (("ssh-mfa", real), ("ssh-key-only", stale)):
        lines.append(f"  - hosts: [{host}]")
        lines.append("    packages:")
        lines += [f'      {k}: "{v}"' for k, v in sorted(pkgs.items())]
    path = paths.root / "software.yaml"
    _write(path, "\n".join(lines) + "\n")
    return path


def _keyed(name: str) -> list[tuple[str, str]]:
    """(user, shadow field) of the lab accounts holding a key besides auditor, pvadmin and the lockout canary."""
    return [(SERVICE, "*"), (DEPARTED, "!")] if name == "ssh-key-only" else [(SERVICE, "*")]


def _lastlog(path: Path, uids: dict[str, int], days: dict[str, int]) -> None:
    """/var/log/lastlog: struct lastlog {int32 ll_time; char ll_line[32]; char ll_host[256]} at offset uid * 292."""
    import struct

    now = int(dt.datetime.now(dt.UTC).timestamp())
    with path.open("wb") as f:
        for user, age in days.items():
            f.seek(uids[user] * 292)
            f.write(struct.pack("=i32s256s", now - age * 86400, b"pts/0", b"198.18.1.10"))
    path.chmod(0o664)


def _uids(count: int) -> list[int]:
    used = set()
    for f in ("passwd", "group"):
        for line in (HOST_ETC / f).read_text().splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[2].isdigit():
                used.add(int(parts[2]))
    out, uid = [], FIRST_UID + 100
    while len(out) < count:
        if uid not in used:
            out.append(uid)
        uid += 1
    return out


# --- files ---------------------------------------------------------------------------------------------

FAILLOCK = "dir=/var/log/faillock deny=5 unlock_time=600"
MFA_PAM = """\
# preuve lab ssh-mfa: the keyboard-interactive stage asks for a TOTP code (PAM OATH); 5 failures lock (faillock)
auth required pam_faillock.so preauth {faillock}
auth [success=1 default=bad] pam_oath.so usersfile={oath} window=2 digits=6
auth [default=die] pam_faillock.so authfail {faillock}
auth sufficient pam_faillock.so authsucc {faillock}
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
"""

KEY_ONLY_PAM = """\
# preuve lab ssh-key-only: no second factor
auth required pam_unix.so
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
"""

JOURNALD = {
    "ssh-mfa": "[Journal]\nStorage=persistent\nMaxRetentionSec=1y\nSystemMaxUse=20G\n",
    "ssh-key-only": "[Journal]\nStorage=volatile\nMaxRetentionSec=1month\nRuntimeMaxUse=8M\n",
}

LOGROTATE = {
    "ssh-mfa": "weekly\nrotate 30\ncreate\ncompress\ninclude /etc/logrotate.d\n",
    "ssh-key-only": "weekly\nrotate 4\ncreate\ninclude /etc/logrotate.d\n",
}
LOGROTATE_D = {
    "ssh-mfa": "/var/log/app.log {\n  monthly\n  rotate 12\n  missingok\n}\n"
    "/var/log/audit.log {\n  size 100M\n  rotate 50\n  missingok\n}\n",
    "ssh-key-only": "/var/log/app.log {\n  daily\n  rotate 60\n  maxage 30\n  missingok\n}\n"
    "/var/log/audit.log {\n  size 10M\n  rotate 5\n  missingok\n}\n",
}
ROTATED_AGE_DAYS = {"ssh-mfa": 200, "ssh-key-only": 20}
"""Age given to the oldest rotated audit.log (size-based rotation is judged on it)."""

LOGIN_DEFS_METHOD = {"ssh-mfa": "YESCRYPT", "ssh-key-only": "MD5"}
PAM_PASSWORD = {
    "ssh-mfa": "password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_deny.so\n"
    "password required pam_permit.so\n",
    "ssh-key-only": "password [success=1 default=ignore] pam_unix.so obscure md5\npassword requisite pam_deny.so\n"
    "password required pam_permit.so\n",
}


def _sshd_config(paths: LabPaths, name: str) -> str:
    svc = SERVICES[name]
    body = GOOD_OPTIONS.replace("AllowUsers auditor", f"AllowUsers auditor {ADMIN} {lockout.USER}")
    if name == "ssh-key-only":  # the technical account's key opens a session there (ACC-TECH-DIRECT-LOGIN)
        body = body.replace(f"{lockout.USER}\n", f"{lockout.USER} {SERVICE} {DEPARTED}\n")
    if name == "ssh-mfa":
        body = body.replace("UsePAM no", "UsePAM yes").replace(
            "KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes"
        )
        body += "AuthenticationMethods publickey,keyboard-interactive\n"
        body += "# the read-only scanning account: key only, its sudo limited to read commands\n"
        body += "Match User auditor\n    AuthenticationMethods publickey\n"
    head = [
        f"# preuve lab: {name} (generated, do not edit)",
        f"ListenAddress {svc.address}:{svc.port}",
        *(f"HostKey {k}" for k in host_key_files(paths, "good")),
        f"PidFile {paths.pid_file(name)}",
        "AuthorizedKeysFile .ssh/authorized_keys",
    ]
    return "\n".join(head) + "\n" + body


def _write(path: Path, text: str, mode: int = 0o644, owner: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chown(tmp, owner, owner)
    tmp.chmod(mode)
    tmp.replace(path)


OS_RELEASE_BUSTER = (
    'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nNAME="Debian GNU/Linux"\nVERSION_ID="10"\nVERSION="10 (buster)"\n'
    "VERSION_CODENAME=buster\nID=debian\n"
)
"""ssh-key-only says it runs Debian 10, whose LTS ended on 2024-06-30 (the lab's /etc; the binaries stay 12's)."""


def _etc(
    paths: LabPaths, name: str, auditor_uid: int, admin_uid: int, extra_uids: list[int], keyed_uids: dict[str, int]
) -> None:
    etc = host_dir(paths, name) / "etc"
    if etc.exists():
        shutil.rmtree(etc)
    etc.mkdir(parents=True)
    etc.chmod(0o755)
    accounts = _accounts(name)
    keyed = _keyed(name)
    lab = {"auditor", ADMIN, lockout.USER, SERVICE, DEPARTED, *(u for u, _ in accounts)}
    keep = [ln for ln in (HOST_ETC / "passwd").read_text().splitlines() if ln and ln.split(":")[0] not in lab]
    users = [("auditor", auditor_uid, paths.home / "auditor"), (ADMIN, admin_uid, root(paths) / "home" / ADMIN)]
    users.append((lockout.USER, lockout.home(paths).stat().st_uid, lockout.home(paths)))  # LOCK-ACTIVE canary
    users += [(u, uid, Path("/nonexistent")) for (u, _), uid in zip(accounts, extra_uids, strict=True)]
    users += [(u, keyed_uids[u], host_dir(paths, name) / "home" / u) for u, _ in keyed]
    passwd = keep + [f"{u}:x:{uid}:{uid}:preuve lab {u}:{home}:/bin/sh" for u, uid, home in users]
    groups = []
    for ln in (HOST_ETC / "group").read_text().splitlines():
        if not ln or ln.split(":")[0] in lab:
            continue
        if ln.startswith("sudo:"):  # the canary is an administrator
            members = [m for m in ln.split(":")[3].split(",") if m] + [ADMIN]
            ln = "sudo:" + ":".join(ln.split(":")[1:3]) + ":" + ",".join(members)
        if ln.startswith("adm:"):  # the scanning account reads the 0640 root:adm logs, as Debian intends
            members = [m for m in ln.split(":")[3].split(",") if m] + ["auditor"]
            ln = "adm:" + ":".join(ln.split(":")[1:3]) + ":" + ",".join(members)
        groups.append(ln)
    groups += [f"{u}:x:{uid}:" for u, uid, _ in users]
    days = int(dt.datetime.now(dt.UTC).timestamp() // 86400)
    shadow = []
    for ln in (HOST_ETC / "shadow").read_text().splitlines():
        fields = ln.split(":")
        if not ln or fields[0] in lab:
            continue
        fields[1] = "!" if fields[1] not in ("*", "!", "!*") else fields[1]  # no host hash ever copied
        if fields[0] == "root" and name == "ssh-key-only":
            fields[1] = _hash("yescrypt")  # a root password (of a throwaway random value): ACC-TECH-DIRECT-LOGIN
        shadow.append(":".join(fields))
    shadow += [f"{u}:*:{days}:0:99999:7:::" for u in ("auditor", ADMIN, lockout.USER)]
    shadow += [f"{u}:{pw}:{days}:0:99999:7:::" for u, pw in accounts + keyed]
    _write(etc / "passwd", "\n".join(passwd) + "\n")
    _write(etc / "group", "\n".join(groups) + "\n")
    _write(etc / "shadow", "\n".join(shadow) + "\n", 0o640)
    departed = DEPARTED_SUDOERS if name == "ssh-key-only" else ""
    _write(
        etc / "sudoers",
        SUDOERS
        + EXTRA_SUDOERS
        + departed
        + lockout.SUDOERS
        + syslog_ng.SUDOERS
        + volumes.sudoers(name)
        + admin_homes.sudoers(paths),
        0o440,
    )
    pam = MFA_PAM.format(oath=oath_file(paths), faillock=FAILLOCK) if name == "ssh-mfa" else KEY_ONLY_PAM
    _write(etc / "pam.d" / "sshd", pam)
    _write(etc / "pam.d" / "common-password", PAM_PASSWORD[name])
    defs = (HOST_ETC / "login.defs").read_text().splitlines()
    defs = [ln for ln in defs if not ln.strip().startswith(("ENCRYPT_METHOD", "SHA_CRYPT_", "YESCRYPT_COST"))]
    _write(etc / "login.defs", "\n".join(defs) + f"\nENCRYPT_METHOD {LOGIN_DEFS_METHOD[name]}\n")
    _write(etc / "systemd" / "journald.conf", "[Journal]\n#Storage=auto\n")
    _write(etc / "systemd" / "journald.conf.d" / "50-preuve-lab.conf", JOURNALD[name])
    _write(etc / "logrotate.conf", LOGROTATE[name])
    _write(etc / "logrotate.d" / "lab-apps", LOGROTATE_D[name])
    _write(etc / "rsyslog.conf", logsup.source_rsyslog(paths, name))
    (etc / "rsyslog.d").mkdir()
    _write(etc / "chrony" / "chrony.conf", logsup.source_chrony(name))
    _write(etc / "resolv.conf", "# preuve lab: no resolver, no name resolves outside\nnameserver 127.0.0.1\n")
    if name == "ssh-mfa":
        tls = logsup.tls_dir(paths)
        for f, mode in (("ca.pem", 0o644), ("source.pem", 0o644), ("source.key", 0o600)):
            _write(etc / "preuve-lab-tls" / f, (tls / f).read_text(), mode)
    patching.write_etc(paths, name, etc)  # /etc/apt (opaque), its mirror suite, /boot kernels (PATCH-*, SOURCES-*)
    volumes.write_etc(paths, name, etc)  # /etc/crypttab (ENC-*, KEYS-LUKS-UNLOCK)
    if name != "ssh-mfa":  # an end-of-life release (PATCH-OS-SUPPORTED)
        _write(etc / "os-release", OS_RELEASE_BUSTER)
    for d in ("logrotate.d", "systemd/journald.conf.d", "rsyslog.d", "chrony"):  # hide the host's own files
        os.setxattr(etc / d, "trusted.overlay.opaque", b"y")


AUDIT_EXAMPLES = Path("/usr/share/doc/auditd/examples/rules")


def _audit_rules(etc: Path, name: str) -> None:
    """ssh-mfa declares auditd rules (the STIG and PCI DSS examples Debian's auditd ships) but no auditd runs there:
    the kernel's audit is one per machine and the lab must not take it over. AUDIT-EVENTS fails it all the same
    (rules in files generate nothing), the target a check reading files would pass; ssh-key-only has none."""
    rules = etc / "audit" / "rules.d"
    rules.mkdir(parents=True, exist_ok=True)
    os.setxattr(rules, "trusted.overlay.opaque", b"y")  # not the machine's own rules.d
    if name == "ssh-mfa":
        for f in ("30-stig.rules", "30-pci-dss-v31.rules"):
            _write(rules / f, (AUDIT_EXAMPLES / f).read_text(), 0o640)
    rules.chmod(0o750)


def _var_log(paths: LabPaths, name: str) -> None:
    """A /var/log with a current and rotated audit.log, the oldest dated as the lab says."""
    log = host_dir(paths, name) / "log"
    log.mkdir(parents=True, exist_ok=True)
    (log / "rsyslog-spool").mkdir(exist_ok=True)
    (log / "faillock").mkdir(mode=0o700, exist_ok=True)
    if name == "ssh-mfa":
        (log / "journal").mkdir(exist_ok=True)
    (log / "app.log").write_text("lab\n")
    (log / "audit.log").write_text("lab\n")
    rotated = log / "audit.log.3"
    rotated.write_text("lab\n")
    old = dt.datetime.now(dt.UTC).timestamp() - ROTATED_AGE_DAYS[name] * 86400
    os.utime(rotated, (old, old))
    (log / "audit.log.1").write_text("lab\n")
    # LOG-FILE-ACCESS: closed to other users on ssh-mfa; on ssh-key-only app.log is world-writable and the
    # security logs keep the 0644 rsyslog gives a file it creates without fileCreateMode
    (log / "messages").touch()
    private = 0o640 if name == "ssh-mfa" else 0o644
    adm = grp.getgrnam("adm").gr_gid
    for f in ("messages", "audit.log", "audit.log.1", "audit.log.3"):
        os.chown(log / f, 0, adm)  # root:adm 0640, as Debian's rsyslog writes them (the scanner is in adm)
        (log / f).chmod(private)
    (log / "app.log").chmod(0o640 if name == "ssh-mfa" else 0o666)


def _home(path: Path, uid: int, pub: str) -> None:
    ssh_dir = path / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(pub)
    for p, mode in ((path, 0o755), (ssh_dir, 0o700), (ssh_dir / "authorized_keys", 0o600)):
        os.chown(p, uid, uid)
        p.chmod(mode)


def write(paths: LabPaths, auditor_uid: int) -> None:
    """Keys, TOTP seed, per-host /etc and /var/log, sshd configs (vetted by ``sshd -t``)."""
    logsup.write(paths)
    _keygen(canary_key(paths), ["-t", "ed25519"], "canary@preuve-lab")
    seed = canary_totp(paths)
    if not seed.is_file():
        _write(seed, secrets.token_hex(20) + "\n", 0o600)
    write_roster(paths)
    write_software(paths)
    admin_uid, lock_uid, *extra = _uids(9)
    keyed_uids = {SERVICE: extra[5], DEPARTED: extra[6]}
    for user in (SERVICE, DEPARTED):
        _keygen(paths.keys / user, ["-t", "ed25519"], f"{user}@preuve-lab")
    root(paths).mkdir(parents=True, exist_ok=True)
    root(paths).chmod(0o755)
    _home(root(paths) / "home" / ADMIN, admin_uid, canary_key(paths).with_suffix(".pub").read_text())
    lockout.write(paths, lock_uid)
    reset_oath(paths)
    keys = host_key_files(paths, "good")
    lines = []
    volumes.attach(paths)  # LUKS headers on /dev/loop60-63 (formatted once)
    for name in HOSTS:
        _etc(paths, name, auditor_uid, admin_uid, extra[: len(_accounts(name))], keyed_uids)
        patching.refresh_index(paths, name, host_dir(paths, name) / "etc")  # the real apt-get update, offline
        admin_homes.write(paths, name)  # its own /root (bound over /root at start)
        _var_log(paths, name)
        uids = {"auditor": auditor_uid, ADMIN: admin_uid, **keyed_uids}
        uids.update(zip((u for u, _ in _accounts(name)), extra, strict=False))
        _lastlog(host_dir(paths, name) / "log" / "lastlog", uids, LAST_LOGIN_DAYS[name])
        for user, _ in _keyed(name):
            _home(host_dir(paths, name) / "home" / user, keyed_uids[user], (paths.keys / f"{user}.pub").read_text())
        syslog_ng.install(host_dir(paths, name), name)  # /etc/syslog-ng, vetted by syslog-ng --syntax-only
        clamav.install(host_dir(paths, name), name)  # /var/lib/clamav and clamd.conf (MAL-PROTECTION-AGENT)
        _audit_rules(host_dir(paths, name) / "etc", name)
        journal_seed.write(host_dir(paths, name), name)  # real journals, entries of chosen age
        journal_seed.grant_read(host_dir(paths, name) / "etc")
        timesyncd_conf.write(host_dir(paths, name) / "etc", name)  # read by TIME-SOURCES-INTERNAL (timesyncd side)
        cfg = host_dir(paths, name) / "sshd_config"
        _write(cfg, _sshd_config(paths, name))
        check = subprocess.run([SSHD, "-t", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t rejected {cfg}: {check.stderr.strip()}")
        for key in keys:
            keytype, blob = key.with_suffix(".pub").read_text().split()[:2]
            lines.append(f"{SERVICES[name].address} {keytype} {blob}")
    known_hosts(paths).write_text("\n".join(lines) + "\n")


def reset_oath(paths: LabPaths) -> None:
    """(Re)write pam_oath's users file, forgetting the last code used (pam_oath refuses a replayed step)."""
    oath = oath_file(paths)
    oath.parent.mkdir(parents=True, exist_ok=True)
    oath.parent.chmod(0o700)
    lines = f"HOTP/T30/6 {ADMIN} - {canary_totp(paths).read_text().strip()}\n"
    _write(oath, lines + (lockout.oath_line(paths) if lockout.totp(paths).is_file() else ""), 0o600)


_WRAPPER = (
    'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && mount --bind "$2" /var/log && '
    'mount --bind "$1/../boot" /boot && '
    'mount --bind "$1/../root-home" /root && mount --bind "$1/../clamav" /var/lib/clamav && '
    'mount -t tmpfs -o mode=0750 tmpfs /run/chrony && mount --bind "$1/../run-journal" /run/log/journal && '
    "chronyd -x -u root -f /etc/chrony/chrony.conf -l /var/log/chronyd.log && "
    "rsyslogd -f /etc/rsyslog.conf -i /var/log/rsyslogd.pid && "
    + syslog_ng.START  # syslog-ng beside rsyslog, same host (lab/syslog_ng.py)
    + clamav.START  # clamd, dropping to the clamav user (lab/clamav.py)
    # omfwd connects on its first message: log one (the socket appears a moment after rsyslogd forks)
    + "{ for i in 1 2 3 4 5 6 7 8 9 10; do logger -u /var/log/lab-log.sock 'preuve lab host up' 2>/dev/null "
    "&& break; sleep 0.1; done; true; } && "
    f'exec {SSHD} -f "$3" -E "$4"'
)


def start(paths: LabPaths, name: str) -> None:
    """Start the host's sshd (daemonized) in its zone namespace, inside its private mount namespace."""
    svc = SERVICES[name]
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    Path("/run/chrony").mkdir(mode=0o750, exist_ok=True)  # mount point only: each host mounts a private tmpfs
    Path("/run/log/journal").mkdir(mode=0o755, parents=True, exist_ok=True)  # mount point: per-host volatile journal
    d = host_dir(paths, name)
    (d / "log" / "rsyslogd.pid").unlink(missing_ok=True)  # rsyslogd refuses to start if a reused pid looks alive
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        _WRAPPER,
        "sh",
        str(d / "etc"),
        str(d / "log"),
        str(d / "sshd_config"),
        str(paths.log(name)),
    ]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    proc = netns.run_in(svc.ns, argv, stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed to start: {proc.stderr.strip()}")


def describe(paths: LabPaths, name: str) -> dict[str, str]:
    """What lab.json says about a lab host (paths only; the seed and keys stay in their files)."""
    d = host_dir(paths, name)
    return {
        "config": str(d / "sshd_config"),
        "etc": str(d / "etc"),
        "var_log": str(d / "log"),
        "log": str(paths.log(name)),
        "known_hosts": str(known_hosts(paths)),
        "admin_user": ADMIN,
        "canary_key": str(canary_key(paths)),
        "canary_totp": str(canary_totp(paths)),
    }
