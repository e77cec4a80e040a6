"""SSH collectors against real sshd processes on 127.0.0.1 (no mocks).

Oracles are independent of the code under test: `sshd -T` run locally for what a server
offers, `ssh-keygen -l` for key sizes and fingerprints, sshd's own log for logins.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from support.sshd_servers import (
    GOOD_CIPHERS,
    GOOD_HOST_KEY_ALGORITHMS,
    GOOD_KEX,
    GOOD_MACS,
    LOOPBACK,
    SSHD,
    SshdLab,
    SshdServer,
    closed_port,
    kexinit_packet,
    scripted_server,
    silent_listener,
)

from preuve.observe.errors import HostKeyMismatch, ObservationError
from preuve.observe.registry import HostFact, registry
from preuve.observe.ssh import host as ssh_host
from preuve.observe.ssh import protocol as ssh_protocol
from preuve.observe.ssh.host import SshTarget

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        os.geteuid() != 0 or not os.path.exists(SSHD) or not shutil.which("ssh-keyscan"),
        reason="needs root, /usr/sbin/sshd and ssh-keyscan",
    ),
]

PSEUDO_KEX = {"kex-strict-s-v00@openssh.com", "ext-info-s"}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    with SshdLab(tmp_path_factory.mktemp("sshd")) as lab:
        lab.start("good")
        lab.start("weak")
        yield lab


@pytest.fixture
def good(lab: SshdLab) -> SshdServer:
    return lab.servers[0]


@pytest.fixture
def weak(lab: SshdLab) -> SshdServer:
    return lab.servers[1]


@pytest.fixture(autouse=True)
def _fresh_memo():
    ssh_host.forget()
    yield
    ssh_host.forget()


def target(lab: SshdLab, server: SshdServer, known_hosts: Path | None, **kw) -> SshTarget:
    return SshTarget(
        host=LOOPBACK,
        port=server.port,
        user="root",
        key_file=str(lab.client_key),
        known_hosts=str(known_hosts) if known_hosts else None,
        **kw,
    )


def known_hosts_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(text)
    return path


def expected_host_keys(server: SshdServer) -> list[dict]:
    return sorted(
        ({"type": kind, "bits": bits, "fingerprint_sha256": fp} for kind, (bits, fp) in server.fingerprints().items()),
        key=lambda k: k["type"],
    )


# --- ssh_protocol ----------------------------------------------------------------------------------


def test_protocol_good_server_offers_exactly_its_configuration(good: SshdServer) -> None:
    facts, raw = ssh_protocol.collect(LOOPBACK, good.port, timeout=5)
    assert [k for k in facts["kex"] if k not in PSEUDO_KEX] == GOOD_KEX
    assert facts["ciphers_c2s"] == facts["ciphers_s2c"] == GOOD_CIPHERS
    assert facts["macs_c2s"] == facts["macs_s2c"] == GOOD_MACS
    assert sorted(facts["host_key_algorithms"]) == sorted(GOOD_HOST_KEY_ALGORITHMS)
    assert set(facts["compression_c2s"]) <= {"none", "zlib@openssh.com"}
    assert facts["banner"].startswith("SSH-2.0-OpenSSH_")
    assert facts["protocol_version"] == "2.0"
    assert facts["software"].startswith("OpenSSH_") and " " not in facts["software"]
    assert (facts["host"], facts["port"]) == (LOOPBACK, good.port)
    assert facts["host_keys"] == expected_host_keys(good)
    assert raw["kexinit_hex"].startswith("14") and raw["banner"] == facts["banner"]
    assert json.loads(json.dumps(facts)) == facts


def test_protocol_weak_server_matches_sshd_T_and_measures_legacy_keys(weak: SshdServer) -> None:
    facts, _ = ssh_protocol.collect(LOOPBACK, weak.port, timeout=5)
    oracle = weak.effective_config()
    assert [k for k in facts["kex"] if k not in PSEUDO_KEX] == oracle["kexalgorithms"].split(",")
    assert facts["ciphers_c2s"] == oracle["ciphers"].split(",")
    assert facts["macs_s2c"] == oracle["macs"].split(",")
    assert {"diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"} <= set(facts["kex"])
    assert {"aes128-cbc", "3des-cbc"} <= set(facts["ciphers_s2c"])
    assert {"hmac-sha1", "hmac-md5"} <= set(facts["macs_c2s"])
    assert {"ssh-rsa", "ssh-dss"} <= set(facts["host_key_algorithms"])
    assert facts["host_keys"] == expected_host_keys(weak)
    sizes = {k["type"]: k["bits"] for k in facts["host_keys"]}
    assert sizes == {"ssh-dss": 1024, "ssh-ed25519": 256, "ssh-rsa": 1024}


def test_protocol_without_keyscan_says_not_observed(good: SshdServer) -> None:
    start = time.perf_counter()
    facts, raw = ssh_protocol.collect(LOOPBACK, good.port, timeout=5, keyscan=False)
    assert time.perf_counter() - start < 0.5
    assert facts["host_keys"] is None and "keyscan_stdout" not in raw


def test_protocol_facts_are_deterministic(weak: SshdServer) -> None:
    first, raw1 = ssh_protocol.collect(LOOPBACK, weak.port)
    second, raw2 = ssh_protocol.collect(LOOPBACK, weak.port)
    assert first == second
    assert raw1["kexinit_hex"] != raw2["kexinit_hex"]  # the random cookie lives in raw only


def _fake_kexinit() -> bytes:
    lists = [["curve25519-sha256"], ["ssh-ed25519"], ["aes128-ctr"], ["aes128-ctr"], ["hmac-sha2-256"]]
    return kexinit_packet([*lists, ["hmac-sha2-256"], ["none"], ["none"], [], []])


def test_protocol_skips_pre_banner_lines() -> None:
    payload = b"Welcome to a chatty server\r\nsecond line\r\nSSH-2.0-Fake_1.0 hello\r\n" + _fake_kexinit()
    with scripted_server(payload) as port:
        facts, raw = ssh_protocol.collect(LOOPBACK, port, timeout=2, keyscan=False)
    assert facts["software"] == "Fake_1.0" and facts["kex"] == ["curve25519-sha256"]
    assert raw["pre_banner"] == ["Welcome to a chatty server", "second line"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "not an SSH server"),
        (b"\x16\x03\x01\x00\x05hello\n", "not an SSH server"),
        (b"SSH-1.5-OldServer\r\n", "protocol 1.5 only"),
        (b"SSH-2.0-Fake\r\n" + struct.pack(">IB", 1000, 4) + b"\x14" + b"x" * 40, "truncated packet"),
        (b"SSH-2.0-Fake\r\n" + struct.pack(">I", 0x7FFFFFFF), "invalid packet length"),
    ],
    ids=["http", "binary", "ssh1", "truncated", "huge-length"],
)
def test_protocol_rejects_what_is_not_ssh2(payload: bytes, reason: str) -> None:
    with scripted_server(payload) as port, pytest.raises(ObservationError, match=reason):
        ssh_protocol.collect(LOOPBACK, port, timeout=2)


def test_closed_port_fails_fast() -> None:
    port = closed_port()
    start = time.perf_counter()
    with pytest.raises(ObservationError, match="refused"):
        ssh_protocol.collect(LOOPBACK, port, timeout=5)
    with pytest.raises(ObservationError, match="refused"):
        ssh_host.collect(SshTarget(LOOPBACK, port, key_file="/nonexistent"), ["id"], timeout=5)
    assert time.perf_counter() - start < 1


def test_silent_listener_times_out_within_twice_the_timeout() -> None:
    with silent_listener() as port:
        for observe in (
            lambda: ssh_protocol.collect(LOOPBACK, port, timeout=1),
            lambda: ssh_host.collect(SshTarget(LOOPBACK, port, key_file="/nonexistent"), ["id"], timeout=1),
        ):
            start = time.perf_counter()
            with pytest.raises(ObservationError):
                observe()
            assert 0.9 < time.perf_counter() - start < 2


# --- ssh_host --------------------------------------------------------------------------------------


def test_host_facts_in_one_connection_and_one_exec(lab: SshdLab, good: SshdServer, tmp_path: Path) -> None:
    kh = known_hosts_file(tmp_path, good.known_hosts_lines())
    before, logins = dict(ssh_host.counters), good.accepted_logins()
    facts, raw = ssh_host.collect(
        target(lab, good, kh), ["sshd_config", "os_release", "uname", "id"], sshd_config_path=str(good.config)
    )
    assert ssh_host.counters["connections"] - before["connections"] == 1
    assert ssh_host.counters["exec_commands"] - before["exec_commands"] == 1
    assert good.accepted_logins() == logins + 1

    config = facts["sshd_config"]
    assert config["port"] == [str(good.port)]  # proves `-f <our config>` was used
    assert config["ciphers"] == GOOD_CIPHERS and config["macs"] == GOOD_MACS
    assert config["kexalgorithms"] == GOOD_KEX
    assert config["hostkey"] == [str(k) for k in good.host_keys]
    assert config["permitrootlogin"] == ["without-password"]
    local = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    assert facts["uname"] == local
    assert facts["id"].startswith("uid=0(root)")
    assert facts["os_release"]["ID"] == "debian" and "PRETTY_NAME" in facts["os_release"]
    assert facts["host_key"]["trusted"] == "known_hosts"
    assert (facts["host_key"]["type"], facts["host_key"]["fingerprint_sha256"]) in [
        (kind, fp) for kind, (_, fp) in good.fingerprints().items()
    ]
    assert {f: r["rc"] for f, r in raw.items()} == dict.fromkeys(["sshd_config", "os_release", "uname", "id"], 0)
    assert json.loads(json.dumps(facts)) == facts

    again, _ = ssh_host.collect(target(lab, good, kh), ["id", "uname"], sshd_config_path=str(good.config))
    assert again["id"] == facts["id"]
    assert ssh_host.counters["connections"] - before["connections"] == 1  # memoized


def test_failing_sshd_T_is_a_fact_error_not_a_host_error(lab: SshdLab, good: SshdServer, tmp_path: Path) -> None:
    kh = known_hosts_file(tmp_path, good.known_hosts_lines())
    facts, raw = ssh_host.collect(target(lab, good, kh), ["sshd_config", "id"], sshd_config_path="/nonexistent/cfg")
    assert "/nonexistent/cfg" in facts["sshd_config"]["error"]
    assert raw["sshd_config"]["rc"] != 0
    assert facts["id"].startswith("uid=0")


def test_wrong_known_host_key_raises_mismatch_with_both_fingerprints(
    lab: SshdLab, good: SshdServer, weak: SshdServer, tmp_path: Path
) -> None:
    kh = known_hosts_file(tmp_path, good.known_hosts_lines(port=weak.port))  # good's keys, weak's name
    before = dict(ssh_host.counters)
    with pytest.raises(HostKeyMismatch) as err:
        ssh_host.collect(target(lab, weak, kh), ["id"])
    message = str(err.value)
    assert good.fingerprints()["ssh-ed25519"][1] in message  # expected
    assert weak.fingerprints()["ssh-ed25519"][1] in message  # presented
    assert f"[{LOOPBACK}]:{weak.port}" in message
    assert ssh_host.counters["exec_commands"] == before["exec_commands"]  # not scanned further


def test_unknown_host_without_tofu_is_refused(lab: SshdLab, good: SshdServer, tmp_path: Path) -> None:
    for kh in (known_hosts_file(tmp_path, ""), None):
        with pytest.raises(ObservationError, match="trust_on_first_use") as err:
            ssh_host.collect(target(lab, good, kh), ["id"])
        assert not isinstance(err.value, HostKeyMismatch)


def test_tofu_is_recorded_then_remembered(lab: SshdLab, good: SshdServer, tmp_path: Path) -> None:
    kh = tmp_path / "new_known_hosts"
    facts, _ = ssh_host.collect(target(lab, good, kh, trust_on_first_use=True), ["id"])
    assert facts["host_key"]["trusted"] == "tofu"
    assert kh.read_text().startswith(f"[{LOOPBACK}]:{good.port} ")
    ssh_host.forget()
    facts, _ = ssh_host.collect(target(lab, good, kh), ["id"])
    assert facts["host_key"]["trusted"] == "known_hosts"


def test_password_never_leaks(
    lab: SshdLab,
    good: SshdServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "pv-Secret-7f3a9c"  # a test value, rejected by the server
    monkeypatch.setenv("PREUVE_TEST_PASSWORD", secret)
    kh = known_hosts_file(tmp_path, good.known_hosts_lines())
    tgt = SshTarget(LOOPBACK, good.port, known_hosts=str(kh), password_env="PREUVE_TEST_PASSWORD")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ObservationError, match="authentication failed") as err:
        ssh_host.collect(tgt, ["id"])
    assert secret not in str(err.value) and secret not in repr(err.value)
    assert secret not in repr(tgt) and secret not in caplog.text


def test_jump_host(lab: SshdLab, good: SshdServer, weak: SshdServer, tmp_path: Path) -> None:
    kh = known_hosts_file(tmp_path, good.known_hosts_lines() + weak.known_hosts_lines())
    before = dict(ssh_host.counters)
    facts, _ = ssh_host.collect(target(lab, weak, kh, jump=target(lab, good, kh)), ["id"])
    assert facts["id"].startswith("uid=0") and facts["host_key"]["trusted"] == "known_hosts"
    assert facts["host_key"]["fingerprint_sha256"] in {fp for _, fp in weak.fingerprints().values()}
    assert ssh_host.counters["connections"] - before["connections"] == 2
    assert ssh_host.counters["exec_commands"] - before["exec_commands"] == 1


def test_framing_survives_hostile_output() -> None:
    """Command output cannot forge a frame: the nonce is unguessable; trailing newlines are kept."""
    nonce = "abc123"
    output = b"==abc123 id stdout\n==xyz id stderr\nno newline\n==abc123 id stderr\n\n\n==abc123 id rc 3\n"
    assert ssh_host.parse_framed(output, nonce) == {
        "id": {"rc": 3, "stdout": "==xyz id stderr\nno newline", "stderr": "\n"}
    }


def test_a_hanging_fact_times_out_alone(
    lab: SshdLab, good: SshdServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry().host_facts, "hangs", HostFact("hangs", "sleep 5"))
    kh = known_hosts_file(tmp_path, good.known_hosts_lines())
    start = time.perf_counter()
    facts, raw = ssh_host.collect(target(lab, good, kh), ["id", "hangs"], timeout=1)
    assert time.perf_counter() - start < 2.5
    assert facts["id"].startswith("uid=0")
    assert facts["hangs"] == {"error": "preuve: no result (timed out after 1s)"}
    assert raw["hangs"]["rc"] is None
