"""Second factors that ask and accept anyway: the lab's targets for MFA-SSH-ENFORCED's factor probe (issue 12).

Each is a real sshd with real PAM, asking keyboard-interactive after the canary's key exactly as ``ssh-mfa`` does
(``AuthenticationMethods publickey,keyboard-interactive``, pam_faillock deny=5 around the factor), so that a check
that only watches for *partial success* passes all of them. What differs is the factor:

- ``ssh-factor-permit`` (198.18.2.50): ``pam_permit``. No prompt at all: any answer, or none, opens the session;
- ``ssh-factor-empty`` (198.18.2.51): a pam_exec script that checks the TOTP code with ``oathtool`` but lets an
  EMPTY answer through (the "no token enrolled yet" shortcut);
- ``ssh-factor-digits`` (198.18.2.52): a pam_exec script that only checks the format: any six digits pass.

The real TOTP server (pam_oath) is ``ssh-mfa``. Each instance runs in its own mount namespace where a small
directory (``pam.d/sshd``, the factor script, its copy of the canary's seed) is laid over ssh-mfa's private /etc
(same accounts, same canary ``pvadmin``) and its own directory is bound over /var/log (its own faillock tally).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

from . import hosts, netns
from .paths import LabPaths
from .sshd import GOOD_OPTIONS, PRIVSEP_DIR, SSHD
from .sshkeys import host_key_files
from .topology import SERVICES

FACTORS = ("ssh-factor-permit", "ssh-factor-empty", "ssh-factor-digits")
FAILLOCK = hosts.FAILLOCK  # dir=/var/log/faillock deny=5 unlock_time=600, as on ssh-mfa
SCRIPT = "/etc/preuve-lab-factor/check"
SEED = "/etc/preuve-lab-factor/seed.hex"

# pam_exec hands the answer on stdin, NUL-terminated (expose_authtok); `read -d ''` takes it whole.
_HEAD = '#!/bin/bash\n[ "$PAM_TYPE" = auth ] || exit 0\nIFS= read -r -d "" code\n'
SCRIPTS = {
    "ssh-factor-empty": _HEAD + '[ -z "$code" ] && exit 0\n'
    'exec oathtool --totp -w 2 "$(cat ' + SEED + ')" "$code" >/dev/null 2>&1\n',
    "ssh-factor-digits": _HEAD + '[[ "$code" =~ ^[0-9]{6}$ ]]\n',
}


def _pam(name: str) -> str:
    if name == "ssh-factor-permit":
        factor = "auth [success=1 default=bad] pam_permit.so"
    else:
        # pam_exec's setcred returns PAM_IGNORE: skip authfail then too, whose [default=die] would fail setcred
        factor = f"auth [success=1 ignore=1 default=bad] pam_exec.so quiet expose_authtok {SCRIPT}"
    return (
        f"# preuve lab {name}: asks after the key like ssh-mfa, but its factor refuses too little\n"
        f"auth required pam_faillock.so preauth {FAILLOCK}\n{factor}\n"
        f"auth [default=die] pam_faillock.so authfail {FAILLOCK}\n"
        f"auth sufficient pam_faillock.so authsucc {FAILLOCK}\n"
        "account required pam_unix.so\nsession required pam_permit.so\npassword required pam_deny.so\n"
    )


def root(paths: LabPaths) -> Path:
    return paths.root / "mfa-factors"


def known_hosts(paths: LabPaths) -> Path:
    return root(paths) / "known_hosts"


def tally_dir(paths: LabPaths, name: str) -> Path:
    """pam_faillock's dir for this instance, as seen from the lab host (the instance sees /var/log/faillock)."""
    return root(paths) / name / "log" / "faillock"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chown(path, 0, 0)
    path.chmod(mode)


def _config(paths: LabPaths, name: str) -> str:
    svc = SERVICES[name]
    body = GOOD_OPTIONS.replace("AllowUsers auditor", f"AllowUsers {hosts.ADMIN}")
    body = body.replace("UsePAM no", "UsePAM yes").replace(
        "KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes"
    )
    head = [
        f"# preuve lab: {name} (generated, do not edit)",
        f"ListenAddress {svc.address}:{svc.port}",
        *(f"HostKey {k}" for k in host_key_files(paths, "good")),
        f"PidFile {paths.pid_file(name)}",
        "AuthorizedKeysFile .ssh/authorized_keys",
    ]
    return "\n".join(head) + "\n" + body + "AuthenticationMethods publickey,keyboard-interactive\n"


def canary_totp_base32(paths: LabPaths) -> Path:
    """The MFA canary's seed in base32 (what an authenticator app holds), for the inventory's `totp` reference."""
    return paths.keys / "canary.totp.base32"


def write(paths: LabPaths) -> None:
    """Per instance: the /etc upper layer (PAM stack, script, seed), /var/log with a faillock dir, sshd_config."""
    seed = hosts.canary_totp(paths).read_text().strip()
    b32 = canary_totp_base32(paths)
    b32.write_text(base64.b32encode(bytes.fromhex(seed)).decode() + "\n")
    b32.chmod(0o600)
    lines = []
    for name in FACTORS:
        d = root(paths) / name
        if (d / "etc").exists():
            shutil.rmtree(d / "etc")
        _write(d / "etc" / "pam.d" / "sshd", _pam(name))
        if name in SCRIPTS:
            _write(d / "etc" / SCRIPT.removeprefix("/etc/"), SCRIPTS[name], 0o700)
            _write(d / "etc" / SEED.removeprefix("/etc/"), seed + "\n", 0o600)
        (d / "log" / "faillock").mkdir(mode=0o700, parents=True, exist_ok=True)
        cfg = d / "sshd_config"
        _write(cfg, _config(paths, name))
        check = subprocess.run([SSHD, "-t", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t rejected {cfg}: {check.stderr.strip()}")
        for key in host_key_files(paths, "good"):
            keytype, blob = key.with_suffix(".pub").read_text().split()[:2]
            lines.append(f"{SERVICES[name].address} {keytype} {blob}")
    known_hosts(paths).write_text("\n".join(lines) + "\n")


_WRAPPER = (
    'mount -t overlay overlay -o "lowerdir=$1:$2:/etc" /etc && mount --bind "$3" /var/log && '
    f'exec {SSHD} -f "$4" -E "$5"'
)


def start(paths: LabPaths, name: str) -> None:
    """The instance's sshd (daemonized) in pv-prod, in its own mount namespace."""
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    d = root(paths) / name
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
        str(hosts.host_dir(paths, "ssh-mfa") / "etc"),
        str(d / "log"),
        str(d / "sshd_config"),
        str(paths.log(name)),
    ]
    proc = netns.run_in(
        SERVICES[name].ns, argv, stdin=subprocess.DEVNULL, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed to start: {proc.stderr.strip()}")


def tally(paths: LabPaths, name: str, user: str = hosts.ADMIN) -> int:
    """pam_faillock's current failure count for `user` on an instance (or on ssh-mfa), read as root on the lab host."""
    d = hosts.host_dir(paths, "ssh-mfa") / "log" / "faillock" if name == "ssh-mfa" else tally_dir(paths, name)
    out = subprocess.run(["faillock", "--dir", str(d), "--user", user], capture_output=True, text=True).stdout
    return sum(1 for ln in out.splitlines() if ln[:4].isdigit() and ln.rstrip().endswith("V"))  # valid entries


def describe(paths: LabPaths, name: str) -> dict[str, str]:
    d = root(paths) / name
    return {
        "config": str(d / "sshd_config"),
        "pam": str(d / "etc" / "pam.d" / "sshd"),
        "log": str(paths.log(name)),
        "known_hosts": str(known_hosts(paths)),
        "admin_user": hosts.ADMIN,
        "faillock_dir": str(tally_dir(paths, name)),
    }
