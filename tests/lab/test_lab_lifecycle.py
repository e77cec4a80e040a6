"""The local lab, end to end, on real namespaces and daemons (root only).

Order matters: the module brings the lab up once, probes it, then crashes
part of it, recovers, and finally tears it down.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

import preuve_lab as lab
from preuve_lab import describe, firewall, netns, pki, procs
from preuve_lab.topology import (
    ADMIN_NS,
    BLACKHOLE_ADDRESS,
    NAMESPACES,
    ROUTER_NS,
    SCANNER_ADDRESS,
    SERVICES,
)

TOOLS = ("ip", "nft", "unshare", "sudo", "ssh", "ssh-keyscan", "openssl", "/usr/sbin/sshd", "/usr/sbin/nginx")
pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"the lab needs {', '.join(TOOLS)}"),
]


def host_links() -> set[str]:
    """``index: name`` of every link in the host's (initial) network namespace."""
    out = os.popen("ip -o link").read()
    return {" ".join(line.split()[:2]) for line in out.splitlines()}


def lab_pids() -> list[int]:
    return [pid for ns in netns.list_lab() for pid in netns.pids(ns)]


def ns_inode(path: str) -> int:
    return os.stat(path).st_ino


@pytest.fixture(scope="module")
def built():
    links_before = host_links()
    t0 = time.monotonic()
    data = lab.up(force=True)
    elapsed = time.monotonic() - t0
    print(f"\nlab up (forced rebuild) took {elapsed:.2f}s")
    yield {"data": data, "elapsed": elapsed, "links_before": links_before}
    lab.down()


@pytest.fixture()
def paths(built) -> lab.LabPaths:
    return lab.LabPaths.current()


def ssh_admin(paths: lab.LabPaths, host: str, command: str, known_hosts: Path, user: str = "auditor"):
    argv = [
        "ssh",
        "-F",
        "/dev/null",
        "-i",
        str(paths.auditor_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=5",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        f"{user}@{host}",
        command,
    ]
    return lab.run_in(ADMIN_NS, argv, timeout=20)


def test_up_is_fast_and_healthy(built, paths):
    assert built["elapsed"] < 30
    st = lab.status()
    assert st["healthy"], st
    assert st["stray_namespaces"] == []
    data = built["data"]
    assert data == describe.read(paths.lab_json)
    assert set(data["namespaces"]) == set(NAMESPACES)
    for name, svc in data["services"].items():
        assert procs.alive(svc["pid"]), name
        assert svc["address"] == SERVICES[name].address
    for contract in (
        paths.auditor_key,
        paths.auditor_pub,
        paths.known_hosts,
        paths.known_hosts_wrong,
        paths.ca_fr,
        paths.ca_us,
        paths.sshd_config("good"),
        paths.sshd_config("weak"),
    ):
        assert contract.is_file(), contract
    assert paths.auditor_key.stat().st_mode & 0o777 == 0o600


def test_up_again_returns_quickly_without_restarting(built):
    t0 = time.monotonic()
    again = lab.up()
    assert time.monotonic() - t0 < 2
    assert again["services"] == built["data"]["services"]
    assert lab.ensure_up()["started_at"] == built["data"]["started_at"]


def test_known_hosts_hold_the_true_host_keys(paths):
    scan = lab.run_in(
        ADMIN_NS,
        ["ssh-keyscan", "-t", "rsa,dsa,ecdsa,ed25519", "198.18.2.10", "198.18.2.11", "198.18.2.40"],
        timeout=20,
    )
    scanned = {line for line in scan.stdout.splitlines() if line and not line.startswith("#")}
    known = set(paths.known_hosts.read_text().splitlines())
    assert scanned == known
    types = {tuple(line.split()[:2]) for line in known}
    assert types == {
        ("198.18.2.10", "ecdsa-sha2-nistp256"),
        ("198.18.2.10", "ssh-ed25519"),
        ("198.18.2.11", "ssh-rsa"),
        ("198.18.2.11", "ssh-dss"),
        ("198.18.2.11", "ssh-ed25519"),
        ("198.18.2.40", "ecdsa-sha2-nistp256"),
        ("198.18.2.40", "ssh-ed25519"),  # ssh-match: ssh-good's keys
    }
    wrong = set(paths.known_hosts_wrong.read_text().splitlines())
    assert {ln for ln in wrong if ln.startswith("198.18.2.11 ")} == {
        ln for ln in known if ln.startswith("198.18.2.11 ")
    }
    assert not {ln for ln in wrong if ln.startswith("198.18.2.10 ")} & known


@pytest.mark.parametrize(
    ("host", "profile", "expected"),
    [
        ("198.18.2.10", "good", "permitrootlogin no"),
        ("198.18.2.11", "weak", "permitrootlogin yes"),
    ],
)
def test_auditor_reads_effective_sshd_config(paths, host, profile, expected):
    cfg = paths.sshd_config(profile)
    proc = ssh_admin(paths, host, f"id -un; sudo -n /usr/sbin/sshd -T -f {cfg}", paths.known_hosts)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "auditor"
    assert expected in lines
    if profile == "good":
        assert "passwordauthentication no" in lines
        assert "hostkeyalgorithms ecdsa-sha2-nistp256,ssh-ed25519" in lines
    else:
        kex = next(ln for ln in lines if ln.startswith("kexalgorithms "))
        assert "diffie-hellman-group1-sha1" in kex


def test_sudo_is_limited_and_host_etc_untouched(paths):
    proc = ssh_admin(paths, "198.18.2.10", "sudo -n /bin/cat /etc/shadow", paths.known_hosts)
    assert proc.returncode != 0
    host_users = {line.split(":", 1)[0] for line in Path("/etc/passwd").read_text().splitlines()}
    assert "auditor" not in host_users


def test_changed_host_key_is_refused(paths):
    proc = ssh_admin(paths, "198.18.2.10", "true", paths.known_hosts_wrong)
    assert proc.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in proc.stderr


def test_tls_good_negotiates_tls13_with_a_valid_french_chain(paths):
    ctx = ssl.create_default_context(cafile=str(paths.ca_fr))
    with (
        lab.enter(ADMIN_NS),
        socket.create_connection(("198.18.3.10", 443), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="tls-good.lab") as tls,
    ):
        assert tls.version() == "TLSv1.3"
        issuer = dict(x[0] for x in tls.getpeercert()["issuer"])
        tls.sendall(b"GET / HTTP/1.1\r\nHost: tls-good.lab\r\nConnection: close\r\n\r\n")
        reply = tls.recv(4096).decode()
    assert issuer["countryName"] == "FR"
    assert "Strict-Transport-Security: max-age=63072000" in reply


def test_tls_weak_negotiates_tls10_static_rsa(paths):
    proc = lab.run_in(
        ADMIN_NS,
        ["openssl", "s_client", "-connect", "198.18.3.11:443", "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"],
        input="",
        timeout=10,
    )
    assert "Protocol  : TLSv1\n" in proc.stdout, proc.stdout + proc.stderr
    assert "Cipher    : AES128-SHA" in proc.stdout
    assert "Server public key is 1024 bit" in proc.stdout


def test_pki_good_and_weak_certificates(paths):
    good = x509.load_pem_x509_certificate(pki.material(paths, "tls-good").cert.read_bytes())
    weak = x509.load_pem_x509_certificate(pki.material(paths, "tls-weak").cert.read_bytes())
    assert isinstance(good.public_key(), ec.EllipticCurvePublicKey)
    assert good.public_key().curve.name == "secp256r1"
    assert good.signature_hash_algorithm.name == "sha256"
    assert 360 <= (good.not_valid_after_utc - good.not_valid_before_utc).days <= 370
    san = good.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["tls-good.lab"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["198.18.3.10"]
    assert weak.public_key().key_size == 1024
    assert weak.signature_hash_algorithm.name == "sha1"
    assert (weak.not_valid_after_utc - weak.not_valid_before_utc).days >= 3649
    for ca_file, country in ((paths.ca_fr, "FR"), (paths.ca_us, "US")):
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
        assert ca.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)[0].value == country


def test_router_ruleset_takes_extra_rules_after_the_blackhole(paths):
    text = firewall.router_ruleset("ip saddr 198.18.5.0/24 drop\n")
    assert text.index("198.18.2.99") < text.index("ip saddr 198.18.5.0/24 drop")
    try:
        firewall.load_router_ruleset(paths.router_ruleset, "ip saddr 198.18.5.0/24 counter drop")
        listed = lab.run_in(ROUTER_NS, ["nft", "list", "table", "inet", "preuve"]).stdout
        assert "ip saddr 198.18.5.0/24" in listed
    finally:
        firewall.load_router_ruleset(paths.router_ruleset)
    assert firewall.ruleset_loaded()
    assert "198.18.5.0/24" not in lab.run_in(ROUTER_NS, ["nft", "list", "ruleset"]).stdout


def test_blackhole_times_out_silently(built):
    t0 = time.monotonic()
    with lab.enter(ADMIN_NS), pytest.raises(TimeoutError):
        socket.create_connection((BLACKHOLE_ADDRESS, 22), timeout=1)
    assert time.monotonic() - t0 >= 0.9


def test_enter_moves_only_the_calling_thread(built):
    host_ns = ns_inode("/proc/thread-self/ns/net")
    admin_ns = ns_inode(f"/run/netns/{ADMIN_NS}")
    seen: dict[str, int] = {}

    def child() -> None:
        seen["thread"] = ns_inode("/proc/thread-self/ns/net")

    with lab.enter(ADMIN_NS):
        assert ns_inode("/proc/thread-self/ns/net") == admin_ns
        with socket.create_connection(("198.18.3.10", 443), timeout=2) as s:
            assert s.getsockname()[0] == SCANNER_ADDRESS
        t = threading.Thread(target=child)
        t.start()
        t.join()
        addrs = os.popen("ip -o -4 addr show").read()  # a subprocess inherits the namespace
    assert seen["thread"] == admin_ns
    assert SCANNER_ADDRESS in addrs
    assert ns_inode("/proc/thread-self/ns/net") == host_ns
    # Outside, the lab's addresses do not exist. Checked with bind(), which sends
    # nothing: a connect could leave through the host's own default route.
    with socket.socket() as s, pytest.raises(OSError) as exc:
        s.bind((SCANNER_ADDRESS, 0))
    assert exc.value.errno == 99  # EADDRNOTAVAIL


def test_enter_process_moves_a_whole_cli_process(built):
    code = (
        "import socket; from preuve_lab import enter_process; enter_process('pv-admin'); "
        "s = socket.create_connection(('198.18.2.10', 22), timeout=2); print(s.recv(64).decode())"
    )
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=20)
    assert proc.stdout.startswith("SSH-2.0-OpenSSH"), proc.stderr


def test_no_route_out_of_the_lab(built):
    # Route lookups only: nothing is sent.
    assert lab.run_in(ADMIN_NS, ["ip", "route", "get", "192.0.2.1"]).returncode == 0  # via the router
    proc = lab.run_in(ROUTER_NS, ["ip", "route", "get", "192.0.2.1"])
    assert proc.returncode != 0
    assert "unreachable" in proc.stderr
    assert "198.18." not in subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout


def test_helpers_refuse_foreign_namespaces():
    with pytest.raises(ValueError):
        lab.run_in("default", ["true"])
    with pytest.raises(ValueError), lab.enter("../pv-admin"):
        pass


def test_host_namespace_gained_no_link(built):
    assert host_links() == built["links_before"]


def test_up_recovers_after_a_crash(built, paths):
    victim = procs.read_pid(paths.pid_file("ssh-good"))
    os.kill(victim, 9)
    paths.lab_json.unlink()
    deadline = time.monotonic() + 2
    while procs.alive(victim) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not lab.status()["healthy"]
    data = lab.up()
    assert lab.status()["healthy"]
    assert data["services"]["ssh-good"]["pid"] != victim
    assert paths.lab_json.is_file()


def test_down_is_complete_idempotent_and_needs_no_state_dir(built, paths, monkeypatch, tmp_path):
    pids = lab_pids()
    assert pids
    monkeypatch.setenv("PREUVE_LAB_DIR", str(tmp_path / "gone"))
    lab.down()
    assert netns.list_lab() == []
    assert not [p for p in pids if procs.alive(p)]
    monkeypatch.delenv("PREUVE_LAB_DIR")
    lab.down()
    lab.down()
    assert not list(paths.run.glob("*.pid"))
    assert not paths.lab_json.exists()
    assert host_links() == built["links_before"]
    assert not lab.status()["healthy"]
