"""The fleet checks as a plain pytest-testinfra suite, written the way testinfra's documentation teaches: one
`host.run`/`check_output` per property, the paramiko backend, the hosts given with `--hosts` (no xdist).

It checks what preuve's SSH-* checks judge on each fleet host (effective sshd configuration and the algorithms and
host keys the server uses), so `bench/fleet/run_fleet.py` can compare the two sweeps. Not a test of preuve.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

CONFIG_DIR = os.environ.get("FLEET_SSHD_DIR", "/var/tmp/preuve-lab/fleet/sshd")
INVENTORY = os.environ.get("FLEET_INVENTORY", "/var/tmp/preuve-lab/fleet/inventory.yaml")
ENDPOINTS = {h["name"]: (h["address"], h["ssh"]["port"]) for h in yaml.safe_load(Path(INVENTORY).read_text())["hosts"]}
ALLOWED = {
    "ciphers": {
        "aes256-gcm@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-ctr",
        "aes192-ctr",
        "aes128-ctr",
        "chacha20-poly1305@openssh.com",
    },
    "macs": {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"},
    "kexalgorithms": {
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "sntrup761x25519-sha512@openssh.com",
    },
    "hostkeyalgorithms": {
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-ed25519",
        "rsa-sha2-256",
        "rsa-sha2-512",
    },
}


def sshd_option(host, name: str) -> str:
    """`sshd -T` filtered to one keyword: the documented testinfra idiom (one command per property)."""
    conf = f"{CONFIG_DIR}/{host.backend.get_hostname()}.conf"
    line = host.check_output(f"sudo -n /usr/sbin/sshd -T -f {conf} | grep -i '^{name} '")
    return line.split(" ", 1)[1].strip()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("permitrootlogin", "no"),
        ("passwordauthentication", "no"),
        ("permitemptypasswords", "no"),
        ("x11forwarding", "no"),
        ("allowtcpforwarding", "no"),
        ("allowagentforwarding", "no"),
        ("permittunnel", "no"),
        ("strictmodes", "yes"),
        ("permituserenvironment", "no"),
    ],
)
def test_sshd_option(host, name, expected):
    assert sshd_option(host, name) == expected


def test_max_auth_tries(host):
    assert int(sshd_option(host, "maxauthtries")) <= 3


def test_login_grace_time(host):
    assert int(sshd_option(host, "logingracetime")) <= 60


def test_log_level(host):
    assert sshd_option(host, "loglevel") in ("VERBOSE", "INFO")


def test_allow_users(host):
    assert sshd_option(host, "allowusers")


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_algorithms(host, name):
    assert set(sshd_option(host, name).split(",")) <= ALLOWED[name]


@pytest.mark.parametrize("key_type", ["ecdsa", "ed25519"])
def test_host_key_size(host, key_type):
    """The host key as the server presents it (ssh-keyscan run on the host itself, then ssh-keygen -l)."""
    address, port = ENDPOINTS[host.backend.get_hostname()]
    line = host.check_output(f"ssh-keyscan -p {port} -t {key_type} {address} 2>/dev/null | ssh-keygen -lf -")
    assert int(line.split()[0]) >= 256


def test_protocol_2(host):
    assert "OpenSSH_" in host.run("/usr/sbin/sshd -V").stderr  # OpenSSH >= 7.4 speaks only protocol 2
