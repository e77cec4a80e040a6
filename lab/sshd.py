"""The plain OpenSSH servers: configs (hardened, legacy, hardened but for Match blocks) and how they start.

ssh-good follows the ANSSI OpenSSH guide; ssh-weak keeps OpenSSH's defaults
and re-enables every legacy algorithm OpenSSH 9.2 still compiles in, so the
scanner has real findings to make. ssh-match (issue 12) has ssh-good's global
section, so `sshd -T` alone finds nothing, and three Match blocks that each
weaken one setting for one kind of connection only. Each sshd runs in its own private mount
namespace with the lab's /etc files bind-mounted over the host's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import netns
from .paths import LabPaths
from .sshkeys import host_key_files
from .topology import SERVICES

SSHD = "/usr/sbin/sshd"
PROFILES = ("good", "weak", "match")
PRIVSEP_DIR = Path("/run/sshd")

GOOD_OPTIONS = """\
HostKeyAlgorithms ecdsa-sha2-nistp256,ssh-ed25519
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,\
ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512
Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
MaxAuthTries 2
LoginGraceTime 30
StrictModes yes
AllowUsers auditor
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitUserEnvironment no
LogLevel VERBOSE
UsePAM no
"""

# Everything legacy that OpenSSH 9.2 (Debian 12) still accepts, on top of the
# defaults (``+`` keeps the modern algorithms so current clients connect).
WEAK_OPTIONS = """\
HostKeyAlgorithms +ssh-rsa,ssh-dss
PubkeyAcceptedAlgorithms +ssh-rsa,ssh-dss
KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,\
diffie-hellman-group-exchange-sha1
Ciphers +aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc
MACs +hmac-sha1-96,hmac-md5,hmac-md5-96,hmac-sha1-96-etm@openssh.com,\
hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com
PermitRootLogin yes
PasswordAuthentication yes
PermitEmptyPasswords yes
MaxAuthTries 10
StrictModes no
X11Forwarding yes
AllowTcpForwarding yes
PermitUserEnvironment yes
LogLevel QUIET
UsePAM no
"""


MATCH_PORT = 2222
"""ssh-match's second listener (only judged host-side, with `sshd -T -C lport=`; no flow needs it)."""

# Compliant for every connection but: the scanner's network (password), root (direct login), the second port.
MATCH_BLOCKS = f"""\
Match Address 198.18.1.0/24
    PasswordAuthentication yes
Match User root
    PermitRootLogin yes
Match LocalPort {MATCH_PORT}
    MaxAuthTries 10
"""


def render_config(paths: LabPaths, profile: str) -> str:
    """sshd_config text for ``profile`` (``good``, ``weak`` or ``match``)."""
    svc = SERVICES[f"ssh-{profile}"]
    keys = "good" if profile == "match" else profile
    extra = [f"ListenAddress {svc.address}:{MATCH_PORT}"] if profile == "match" else []
    head = [
        f"# preuve lab: {svc.name} (generated, do not edit)",
        f"ListenAddress {svc.address}:{svc.port}",
        *extra,
        *(f"HostKey {k}" for k in host_key_files(paths, keys)),
        f"PidFile {paths.pid_file(svc.name)}",
        "AuthorizedKeysFile .ssh/authorized_keys",
    ]
    body = GOOD_OPTIONS if profile == "good" else WEAK_OPTIONS
    if profile == "match":  # root is allowed in (no key, locked password): PermitRootLogin is what decides
        body = GOOD_OPTIONS.replace("AllowUsers auditor", "AllowUsers auditor root") + MATCH_BLOCKS
    return "\n".join(head) + "\n" + body


def write_configs(paths: LabPaths) -> None:
    """Write the configs and have ``sshd -t`` vet them (fails loudly if not)."""
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)  # sshd -t insists on it too
    paths.sshd.mkdir(parents=True, exist_ok=True)
    for profile in PROFILES:
        cfg = paths.sshd_config(profile)
        cfg.write_text(render_config(paths, profile))
        cfg.chmod(0o644)
        check = subprocess.run([SSHD, "-t", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd -t rejected {cfg}: {check.stderr.strip()}")


_WRAPPER = (
    'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && '
    'mount --bind "$3" /etc/shadow && mount --bind "$4" /etc/sudoers && '
    f'exec {SSHD} -f "$5" -E "$6"'
)


def start(paths: LabPaths, profile: str) -> None:
    """Start (daemonized) the sshd for ``profile`` in its zone namespace.

    sshd forks into the background before binding; the caller waits for the
    port. The pid file is written by sshd itself.
    """
    svc = SERVICES[f"ssh-{profile}"]
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.run.mkdir(parents=True, exist_ok=True)
    etc = paths.etc
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        _WRAPPER,
        "sh",
        str(etc / "passwd"),
        str(etc / "group"),
        str(etc / "shadow"),
        str(etc / "sudoers"),
        str(paths.sshd_config(profile)),
        str(paths.log(svc.name)),
    ]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    proc = netns.run_in(svc.ns, argv, stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{svc.name} failed to start: {proc.stderr.strip()}")
