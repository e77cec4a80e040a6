"""A /root of their own for the two lab hosts (KEYS-ADMIN-*): the administrator's keys and kubeconfig.

Each lab host's mount namespace binds hosts/<name>/root-home over /root, so the scanner reads the lab's root
home, never the machine's. Every key is a throwaway made at lab up; passphrases are random and never stored.

- ssh-mfa (compliant): authorized_keys holds an sk-ssh-ed25519 public key (a FIDO2 key type: built from its
  documented wire format, PROTOCOL.u2f, since the lab has no security key) and a `cert-authority` line (an SSH CA);
  id_ed25519 is encrypted with a passphrase; ~/.kube/config authenticates through an exec plugin (no token).
- ssh-key-only (not): a plain ssh-ed25519 authorized key; id_ed25519 without passphrase; a PEM RSA key without
  passphrase under a name a check looking at id_* only would miss (.ssh/backup-deploy); a kubeconfig with an
  embedded bearer token and client key.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import struct
import subprocess
from pathlib import Path

from .paths import LabPaths


def home(paths: LabPaths, name: str) -> Path:
    return paths.root / "hosts" / name / "root-home"


def _keygen(path: Path, *args: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", *args, "-f", str(path), "-C", f"{path.name}@preuve-lab"], check=True, capture_output=True
    )


def _sk_public_key() -> str:
    """An sk-ssh-ed25519@openssh.com public key line (string type, string 32-byte key, string application)."""

    def s(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    blob = s(b"sk-ssh-ed25519@openssh.com") + s(secrets.token_bytes(32)) + s(b"ssh:")
    return f"sk-ssh-ed25519@openssh.com {base64.b64encode(blob).decode()} admin-fido2@preuve-lab"


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "https://198.18.2.30:6443", certificate-authority: /etc/preuve-lab/kube-ca.crt}}
contexts:
- name: lab
  context: {{cluster: lab, user: admin}}
current-context: lab
users:
- name: admin
  user:
{user}
"""


def write(paths: LabPaths, name: str) -> None:
    root = home(paths, name)
    if root.exists():
        shutil.rmtree(root)
    ssh = root / ".ssh"
    ssh.mkdir(parents=True)
    (root / ".kube").mkdir()
    if name == "ssh-mfa":
        _keygen(ssh / "id_ed25519", "-t", "ed25519", "-N", secrets.token_urlsafe(24))
        _keygen(ssh / "lab-user-ca", "-t", "ed25519", "-N", "")
        ca = (ssh / "lab-user-ca.pub").read_text().strip()
        (ssh / "lab-user-ca").unlink()  # the CA's private half never stays on the host
        (ssh / "lab-user-ca.pub").unlink()
        (ssh / "authorized_keys").write_text(f'{_sk_public_key()}\ncert-authority,principals="root" {ca}\n')
        user = (
            "    exec: {apiVersion: client.authentication.k8s.io/v1, command: kubectl, "
            "args: [oidc-login, get-token, --oidc-issuer-url=https://198.18.3.12:8444/realms/admin]}"
        )
    else:
        _keygen(ssh / "id_ed25519", "-t", "ed25519", "-N", "")
        _keygen(ssh / "backup-deploy", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "")
        (ssh / "authorized_keys").write_text((ssh / "id_ed25519.pub").read_text())
        key = base64.b64encode(secrets.token_bytes(48)).decode()
        user = f"    token: {secrets.token_urlsafe(32)}\n    client-key-data: {key}"
    (root / ".kube" / "config").write_text(KUBECONFIG.format(user=user))
    for p in (root, *root.rglob("*")):
        p.chmod(0o700 if p.is_dir() else 0o600)


def secret_lines(paths: LabPaths) -> list[str]:
    """Key material and tokens of both homes (private key body lines, kubeconfig token and client key): no run
    may contain any of them (canary test)."""
    out = []
    for name in ("ssh-mfa", "ssh-key-only"):
        root = home(paths, name)
        if not root.is_dir():
            continue
        for f in (root / ".ssh").iterdir():
            if f.suffix != ".pub" and f.name != "authorized_keys":
                out += [ln for ln in f.read_text().splitlines() if len(ln) >= 16 and "PRIVATE KEY" not in ln]
        for line in (root / ".kube" / "config").read_text().splitlines():
            key, _, value = line.strip().partition(":")
            if key in ("token", "client-key-data") and len(value.strip()) >= 16:
                out.append(value.strip())
    return out


def sudoers(paths: LabPaths) -> str:
    """What the scanning account needs to read administrators' homes (KEYS-ADMIN-*): the lab's /root and homes."""
    lab_homes = paths.root / "hosts" / "home"
    return (
        "# read-only: administrators' key files and kubeconfig, classified on the host (KEYS-ADMIN-*)\n"
        f"auditor ALL=(root) NOPASSWD: /usr/bin/cat -- /root/*, /usr/bin/ls -1A -- /root/*, "
        f"/usr/bin/cat -- {lab_homes}/*, /usr/bin/ls -1A -- {lab_homes}/*\n"
    )
