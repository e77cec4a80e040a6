"""Lab users and the private /etc files the sshd see instead of the host's.

The sshd run in a private mount namespace where the lab's passwd, group,
shadow and sudoers are bind-mounted over the host's, so lab users exist
only for them and the host's /etc is never written. The copies keep the
host's accounts (sshd needs its privsep user) but lock every host password:
no host hash is copied into the state dir.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from .paths import LabPaths

HOST_ETC = Path("/etc")
ETC_FILES = ("passwd", "group", "shadow", "sudoers")
FIRST_UID = 61000

SUDOERS = """\
# preuve lab sudoers (bind-mounted over /etc/sudoers for the lab sshd only)
Defaults env_reset
Defaults !fqdn
Defaults !lecture
Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
root ALL=(ALL:ALL) ALL
# read-only use: the scanner dumps the effective sshd config
auditor ALL=(root) NOPASSWD: /usr/sbin/sshd -T *
# read-only use: the scanner reads the host firewall (checks/network NET-HOST-FIREWALL)
auditor ALL=(root) NOPASSWD: /usr/sbin/nft -j list ruleset
# read-only use: the scanner lists who holds a sudo rule, through sudo's own policy (`sudo -n -l -U user`;
# MFA-SSH-CONFIG counts every such account as an administrator)
auditor ALL=(ALL) NOPASSWD: list
"""


@dataclass(frozen=True)
class LabUser:
    name: str
    uid: int
    home: Path
    password_field: str
    """Shadow field: ``*`` = no password (key only), empty = empty password."""


def _used_ids(path: Path) -> set[int]:
    ids = set()
    for line in path.read_text().splitlines():
        parts = line.split(":")
        if len(parts) > 2 and parts[2].isdigit():
            ids.add(int(parts[2]))
    return ids


def lab_users(paths: LabPaths) -> list[LabUser]:
    """``auditor`` (key only) and ``guest`` (empty password, for ssh-weak)."""
    used = _used_ids(HOST_ETC / "passwd") | _used_ids(HOST_ETC / "group")
    uid = FIRST_UID
    users = []
    for name, pw in (("auditor", "*"), ("guest", "")):
        while uid in used:
            uid += 1
        users.append(LabUser(name, uid, paths.home / name, pw))
        uid += 1
    return users


def _strip_lab(lines: list[str], names: set[str]) -> list[str]:
    return [ln for ln in lines if ln and ln.split(":", 1)[0] not in names]


def write_etc(paths: LabPaths, users: list[LabUser]) -> dict[str, Path]:
    """Write the lab's passwd/group/shadow/sudoers; return name -> path."""
    etc = paths.etc
    etc.mkdir(parents=True, exist_ok=True)
    names = {u.name for u in users}
    days = int(time.time() // 86400)

    passwd = _strip_lab((HOST_ETC / "passwd").read_text().splitlines(), names)
    passwd += [f"{u.name}:x:{u.uid}:{u.uid}:preuve lab {u.name}:{u.home}:/bin/sh" for u in users]
    group = _strip_lab((HOST_ETC / "group").read_text().splitlines(), names)
    group += [f"{u.name}:x:{u.uid}:" for u in users]
    shadow = []
    for line in _strip_lab((HOST_ETC / "shadow").read_text().splitlines(), names):
        fields = line.split(":")
        fields[1] = "!" if fields[1] not in ("*", "!", "!*") else fields[1]
        shadow.append(":".join(fields))
    shadow += [f"{u.name}:{u.password_field}:{days}:0:99999:7:::" for u in users]

    out = {}
    for name, text, mode in (
        ("passwd", passwd, 0o644),
        ("group", group, 0o644),
        ("shadow", shadow, 0o600),
        ("sudoers", SUDOERS.splitlines(), 0o440),
    ):
        path = etc / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(text) + "\n")
        os.chown(tmp, 0, 0)
        tmp.chmod(mode)
        tmp.replace(path)
        out[name] = path
    return out


def write_homes(paths: LabPaths, users: list[LabUser]) -> None:
    """Homes with modes StrictModes accepts; auditor trusts the lab client key."""
    paths.root.chmod(0o755)  # lab users must traverse it to reach their home
    for parent in paths.root.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise RuntimeError(
                f"state dir {paths.root}: {parent} is not searchable by other users, "
                "so lab users cannot reach their home (choose another PREUVE_LAB_DIR)"
            )
    paths.home.mkdir(mode=0o755, exist_ok=True)
    pub = paths.auditor_pub.read_text()
    for user in users:
        ssh_dir = user.home / ".ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        auth = ssh_dir / "authorized_keys"
        auth.write_text(pub if user.name == "auditor" else "")
        for path, mode in ((user.home, 0o755), (ssh_dir, 0o700), (auth, 0o600)):
            os.chown(path, user.uid, user.uid)
            path.chmod(mode)
