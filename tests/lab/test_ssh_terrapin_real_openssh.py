"""Terrapin-aware algorithm judgement (issue 12, point 2): ChaCha20-Poly1305 and the -etm MACs pass only with the
strict key exchange (kex-strict-s-v00@openssh.com, CVE-2023-48795), as the profile parameter decides, and the
evidence says which rule decided.

A real OpenSSH (Debian's 9.2 has the strict-KEX backport) offers them with strict KEX; no OpenSSH can be told to
drop strict KEX, so the server without it is a scripted KEXINIT read by the real collector.
"""

from __future__ import annotations

import os
import shutil

import pytest
from support.sshd_servers import SSHD, SshdLab

from checks.ssh.check_protocol import check_ciphers, check_macs
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.ssh import protocol as ssh_protocol


def judged(check, facts: dict, params: Params) -> Judge:
    j = Judge()
    check(ssh=facts, params=params, judge=j)
    return j


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(SSHD) or not shutil.which("ssh-keyscan"),
    reason="needs root, sshd and ssh-keyscan",
)
def test_real_openssh_with_chacha20_and_strict_kex_passes(tmp_path):
    with SshdLab(tmp_path) as lab:
        server = lab.start("good")  # offers chacha20-poly1305 and the -etm MACs
        facts, _ = ssh_protocol.collect("127.0.0.1", server.port, timeout=3, keyscan=False)
    assert "kex-strict-s-v00@openssh.com" in facts["kex"] and "chacha20-poly1305@openssh.com" in facts["ciphers_c2s"]
    assert not judged(check_ciphers, facts, Params()).failed
    assert not judged(check_macs, facts, Params()).failed
