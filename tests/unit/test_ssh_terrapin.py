"""Terrapin-aware algorithm judgement (issue 12, point 2): ChaCha20-Poly1305 and the -etm MACs pass only with the
strict key exchange (kex-strict-s-v00@openssh.com, CVE-2023-48795), as the profile parameter decides, and the
evidence says which rule decided.

A real OpenSSH (Debian's 9.2 has the strict-KEX backport) offers them with strict KEX; no OpenSSH can be told to
drop strict KEX, so the server without it is a scripted KEXINIT read by the real collector.
"""

from __future__ import annotations

import pytest
from support.sshd_servers import kexinit_packet, scripted_server

from checks.ssh.check_protocol import check_ciphers, check_macs
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.ssh import protocol as ssh_protocol

CIPHERS = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr"]
MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"]


def observed(kex: list[str]) -> dict:
    """What the real collector reads from a server whose KEXINIT offers `kex` and the lists above."""
    lists = [kex, ["ssh-ed25519"], CIPHERS, CIPHERS, MACS, MACS, ["none"], ["none"], [], []]
    with scripted_server(b"SSH-2.0-Scripted_1.0\r\n" + kexinit_packet(lists)) as port:
        facts, _ = ssh_protocol.collect("127.0.0.1", port, timeout=3, keyscan=False)
    return facts


def judged(check, facts: dict, params: Params) -> Judge:
    j = Judge()
    check(ssh=facts, params=params, judge=j)
    return j


def rule(j: Judge) -> str:
    return next(e for e in j.expectations if e.label == "ssh.terrapin").observed["rule"]


@pytest.mark.parametrize("check", [check_ciphers, check_macs])
def test_with_strict_kex_the_terrapin_algorithms_pass_and_say_why(check):
    j = judged(check, observed(["curve25519-sha256", "kex-strict-s-v00@openssh.com"]), Params())
    assert not j.failed, [e.as_dict() for e in j.failed]
    assert "strict KEX offered" in rule(j) and "terrapin_allow_with_strict_kex = true" in rule(j)


@pytest.mark.parametrize(
    ("check", "algorithm"),
    [(check_ciphers, "chacha20-poly1305@openssh.com"), (check_macs, "hmac-sha2-256-etm@openssh.com")],
)
def test_without_strict_kex_they_fail_quoting_cve(check, algorithm):
    j = judged(check, observed(["curve25519-sha256", "ext-info-s"]), Params())
    terrapin = next(e for e in j.failed if e.label == "ssh.terrapin")
    assert terrapin.offending == [algorithm] and "CVE-2023-48795" in terrapin.observed["rule"]
    assert algorithm in next(e for e in j.failed if e.label != "ssh.terrapin").offending


def test_a_profile_can_refuse_them_even_with_strict_kex():
    params = Params.model_validate({"ssh": {"terrapin_allow_with_strict_kex": False}})
    j = judged(check_ciphers, observed(["curve25519-sha256", "kex-strict-s-v00@openssh.com"]), params)
    assert j.failed and "terrapin_allow_with_strict_kex = false" in rule(j)


def test_without_terrapin_algorithms_no_rule_is_applied():
    facts = observed(["curve25519-sha256"])
    facts["ciphers_c2s"] = facts["ciphers_s2c"] = ["aes128-ctr"]
    j = judged(check_ciphers, facts, Params())
    assert not j.failed and all(e.label != "ssh.terrapin" for e in j.expectations)


def test_strict_kex_does_not_admit_a_weak_mac_because_it_is_etm():
    facts = observed(["curve25519-sha256", "kex-strict-s-v00@openssh.com"])
    facts["macs_c2s"] = facts["macs_s2c"] = ["hmac-sha2-256-etm@openssh.com", "hmac-md5-etm@openssh.com"]
    j = judged(check_macs, facts, Params())
    assert next(e for e in j.failed if e.label == "ssh.macs").offending == ["hmac-md5-etm@openssh.com"]
