"""SSH key material: host keys per sshd profile, the auditor's client key, known_hosts.

Keys are made with ``ssh-keygen`` (the only tool that still writes DSA and
RSA-1024 keys OpenSSH will load) and cached in the state dir. known_hosts
is rebuilt from the .pub files at every ``up`` so it always matches.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .paths import LabPaths
from .topology import SERVICES

# profile -> [(file stem, ssh-keygen args)]
HOST_KEYS: dict[str, list[tuple[str, list[str]]]] = {
    "good": [
        ("ssh_host_ecdsa_key", ["-t", "ecdsa", "-b", "256"]),
        ("ssh_host_ed25519_key", ["-t", "ed25519"]),
    ],
    "weak": [
        ("ssh_host_rsa_key", ["-t", "rsa", "-b", "1024"]),
        ("ssh_host_dsa_key", ["-t", "dsa"]),
        ("ssh_host_ed25519_key", ["-t", "ed25519"]),
    ],
}
IMPOSTOR = "impostor"
"""Key set impersonating ssh-good in known_hosts.wrong (same types, other keys)."""


def _keygen(path: Path, args: list[str], comment: str) -> None:
    if path.is_file() and path.with_suffix(".pub").is_file():
        return
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-N", "", "-C", comment, *args, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    path.chmod(0o600)


def host_key_files(paths: LabPaths, profile: str) -> list[Path]:
    profile = "good" if profile == "match" else profile  # ssh-match (issue 12) shares ssh-good's host keys
    return [paths.host_keys(profile) / stem for stem, _ in HOST_KEYS[profile]]


def ensure(paths: LabPaths) -> None:
    """Create any missing host, impostor and client keys."""
    paths.keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.keys.chmod(0o700)
    _keygen(paths.auditor_key, ["-t", "ed25519"], "auditor@preuve-lab")
    paths.auditor_pub.chmod(0o600)
    for profile, specs in (*HOST_KEYS.items(), (IMPOSTOR, HOST_KEYS["good"])):
        directory = paths.host_keys(profile)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stem, args in specs:
            _keygen(directory / stem, args, f"{profile}@preuve-lab")


def _entries(host: str, keys: list[Path]) -> list[str]:
    lines = []
    for key in keys:
        keytype, blob = key.with_suffix(".pub").read_text().split()[:2]
        lines.append(f"{host} {keytype} {blob}")
    return lines


def write_known_hosts(paths: LabPaths) -> None:
    """known_hosts (true keys) and known_hosts.wrong (ssh-good impersonated)."""
    good = SERVICES["ssh-good"].address
    weak = SERVICES["ssh-weak"].address
    true_weak = _entries(weak, host_key_files(paths, "weak"))
    true_good = _entries(good, host_key_files(paths, "good"))
    fake_good = _entries(good, [paths.host_keys(IMPOSTOR) / s for s, _ in HOST_KEYS["good"]])
    true_match = _entries(SERVICES["ssh-match"].address, host_key_files(paths, "good"))  # ssh-match: good's keys
    paths.known_hosts.write_text("\n".join(true_good + true_weak + true_match) + "\n")
    paths.known_hosts_wrong.write_text("\n".join(fake_good + true_weak + true_match) + "\n")
