"""SOURCES-SIGNING-KEYS-RECOMMENDED (10.4.b): the recommended size (RSA/DSA >= 3072 bits), judged on the package
sources recorded by the lab demo (tests/fixtures/recorded-demo.tar.xz: ssh-mfa trusts one Ed25519 mirror key,
ssh-key-only also a 1024-bit RSA key). A 2048-bit RSA key, which the rule (SOURCES-SIGNING-KEYS) accepts until
2030, fails the recommendation: the one record changed by hand is that key's size, said where it is done."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path

import pytest

from checks.patching.check_sources import check_signing_keys, check_signing_keys_recommended
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.results.messages import sentence
from tools.record_unit_facts import DEFAULT_OUT as ARCHIVE


@pytest.fixture(scope="module")
def sources() -> dict[str, dict]:
    """package_sources facts of the two baseline hosts, as the demo recorded them."""
    out = {}
    with tarfile.open(ARCHIVE) as tar:
        for host in ("ssh-mfa", "ssh-key-only"):
            member = tar.extractfile(f"observations/ssh_host/{host}.json")
            assert member is not None
            out[host] = json.load(member)["facts"]["package_sources"]
    return out


def judged(check, facts: dict) -> Judge:
    j = Judge()
    check(package_sources=facts, params=Params(), judge=j)
    return j


def failed(j: Judge) -> str:
    return "; ".join(sentence(e, e.label, "en") for e in j.failed)


def test_an_ed25519_mirror_key_passes(sources):
    j = judged(check_signing_keys_recommended, sources["ssh-mfa"])
    assert j.expectations and not j.failed


def test_a_1024_bit_key_fails_quoting_size_and_parameter(sources):
    msg = failed(judged(check_signing_keys_recommended, sources["ssh-key-only"]))
    assert "RSA 1024 bits" in msg and "3072" in msg and "supply.signing_recommended_rsa_bits" in msg, msg


def test_a_2048_bit_key_meets_the_rule_but_not_the_recommendation(sources):
    facts = copy.deepcopy(sources["ssh-key-only"])
    for keys in facts["keyring_keys"].values():
        for key in keys:
            if key.get("bits") == 1024:
                key["bits"] = 2048  # changed by hand: the recorded weak key, as a 2048-bit one
    assert not judged(check_signing_keys, facts).failed
    msg = failed(judged(check_signing_keys_recommended, facts))
    assert "RSA 2048 bits" in msg and "3072" in msg, msg


def test_archive_is_where_the_recording_says():
    assert Path(ARCHIVE).is_file()
