"""The lockout canary of the lab hosts: a dedicated account that LOCK-ACTIVE locks on purpose, then resets.

Not ``pvadmin`` (MFA-SSH-ENFORCED offers its key concurrently): ``pvlock`` is a plain user with its own key and
TOTP seed. On ssh-mfa it goes through the same PAM stack (key, then pam_oath TOTP, pam_faillock deny=5); on
ssh-key-only its key alone lets it in and nothing counts failures. The scanning account may reset its tally, and
nothing else: one sudo rule with the exact command line.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from .paths import LabPaths
from .sshkeys import _keygen

USER = "pvlock"
FAILLOCK_DIR = "/var/log/faillock"
RESET_COMMAND = f"/usr/sbin/faillock --dir {FAILLOCK_DIR} --user {USER} --reset"
SUDOERS = f"auditor ALL=(root) NOPASSWD: {RESET_COMMAND}\n"


def key(paths: LabPaths) -> Path:
    return paths.keys / "lockout-canary"


def totp(paths: LabPaths) -> Path:
    """The canary's TOTP seed in base32 (what an authenticator app holds), read by the inventory by reference."""
    return paths.keys / "lockout-canary.totp"


def home(paths: LabPaths) -> Path:
    return paths.root / "hosts" / "home" / USER


def seed_hex(paths: LabPaths) -> str:
    """The seed as pam_oath's users file wants it (hex)."""
    return base64.b32decode(totp(paths).read_text().strip()).hex()


def oath_line(paths: LabPaths) -> str:
    return f"HOTP/T30/6 {USER} - {seed_hex(paths)}\n"


def passwd_line(uid: int, paths: LabPaths) -> str:
    return f"{USER}:x:{uid}:{uid}:preuve lab lockout canary:{home(paths)}:/bin/sh"


def write(paths: LabPaths, uid: int) -> None:
    """Key, base32 seed (kept across rebuilds, like the MFA canary's) and home with authorized_keys."""
    _keygen(key(paths), ["-t", "ed25519"], "lockout-canary@preuve-lab")
    seed = totp(paths)
    if not seed.is_file():
        seed.write_text(base64.b32encode(secrets.token_bytes(20)).decode() + "\n")
        seed.chmod(0o600)
    ssh_dir = home(paths) / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(key(paths).with_suffix(".pub").read_text())
    for p, mode in ((home(paths), 0o755), (ssh_dir, 0o700), (ssh_dir / "authorized_keys", 0o600)):
        os.chown(p, uid, uid)
        p.chmod(mode)


def fresh_canaries(paths: LabPaths) -> None:
    """Before a demo scan: no tally left for the canary, and pam_oath forgets the TOTP steps earlier probes used.

    The lab's side of the bargain, not the check's: pam_oath refuses a step already seen, and a probe uses three,
    so a second scan within ~90 s would find its canary's step spent and report an error. A demo run twice in a
    row must show the same results; a real estate's canary is probed nightly, far apart."""
    import subprocess

    from . import hosts

    tally_dir = hosts.host_dir(paths, "ssh-mfa") / "log" / "faillock"
    if tally_dir.is_dir():
        subprocess.run(
            ["faillock", "--dir", str(tally_dir), "--user", USER, "--reset"], check=False, capture_output=True
        )
    hosts.reset_oath(paths)
