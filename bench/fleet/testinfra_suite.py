"""The fleet checks as a plain pytest-testinfra suite, written the way testinfra's documentation teaches: one
`host.run`/`check_output` per property, the paramiko backend, the hosts given with `--hosts` (no xdist).

It checks what preuve's SSH-* checks judge on each fleet host (effective sshd configuration and the algorithms and
host keys the server uses), so `bench/fleet/run_fleet.py` can compare the two sweeps. Not a test of preuve.
"""

from __future__ import annotations

import os

import pytest

CONFIG_DIR = os.environ.get("FLEET_SSHD_DIR", "/var/tmp/preuve-lab/fleet/sshd")
ALLOWED = {
    "ciphers": {"aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr",
                "chacha20-poly1305@openssh.com"},
    "macs": {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"},
    "kexalgorithms": {"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
                      "ecdh-sha2-nistp521", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
                      "sntrup761x25519-sha512@openssh.com"},
    "hostkeyalgorithms": {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519",
                          "rsa-sha2-256", "rsa-sha2-512"},
}  # fmt: skip


def sshd_option(host, name: str) -> str:
    """`sshd -T` filtered to one keyword: the documented testinfra idiom (one command per property)."""
    conf = f"{CONFIG_DIR}/{host.backend.get_hostname()}.conf"
    line = host.check_output(f"sudo -n /usr/sbin/sshd -T -f {conf} | grep -i '^{name} '")
    return line.split(" ", 1)[1].strip()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("permitrootlogin", "no"), ("passwordauthentication", "no"), ("permitemptypasswords", "no"),
     ("x11forwarding", "no"), ("allowtcpforwarding", "no"), ("allowagentforwarding", "no"), ("permittunnel", "no"),
     ("strictmodes", "yes"), ("permituserenvironment", "no")],
)  # fmt: skip
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


@pytest.mark.parametrize("key", ["ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub"])
def test_host_key_size(host, key):
    path = "/var/tmp/preuve-lab/sshd/hostkeys/good/" + key
    bits = int(host.check_output(f"ssh-keygen -lf {path}").split()[0])
    assert bits >= 256


def test_protocol_2(host):
    assert "OpenSSH_" in host.run("/usr/sbin/sshd -V").stderr  # OpenSSH >= 7.4 speaks only protocol 2
