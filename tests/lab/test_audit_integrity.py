"""Tamper evidence: one byte changed in an observation, in results.jsonl or in the manifest, a run deleted from
the scope's hash chain; `preuve verify` names each. Plus the Ed25519 signature, checked by openssl too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import preuve, scan

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> Path:
    private = tmp_path_factory.mktemp("keys") / "operator.pem"
    proc = preuve("keygen", private)
    assert proc.returncode == 0, proc.stderr
    assert (private.stat().st_mode & 0o777) == 0o600
    return private


@pytest.fixture(scope="module")
def scope(lab, key, tmp_path_factory) -> Path:
    """Three signed scans of the lab's TLS and SSH targets, one scope, chained in scope/ledger.jsonl."""
    scope = tmp_path_factory.mktemp("scope")
    for name in ("r1", "r2", "r3"):
        run = scan(scope / name, "--sign-key", key, "--select", "TLS-*", "--select", "SSH-*")
        assert run.code == Exit.NON_COMPLIANT, run.proc.stderr  # the lab's weak targets fail on purpose
    return scope


@pytest.fixture
def copy(scope, tmp_path) -> Path:
    dest = tmp_path / "scope"
    shutil.copytree(scope, dest)
    return dest


def _flip(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _verify(run: Path, key: Path) -> subprocess.CompletedProcess:
    return preuve("verify", run, "--key", key.with_name("operator.pub.pem"))


def test_intact_chain_and_signature_verify(scope, key):
    proc = _verify(scope / "r3", key)
    assert proc.returncode == 0, proc.stderr
    assert "every file matches MANIFEST.sha256" in proc.stdout
    assert "signed by" in proc.stdout and "hash chain intact" in proc.stdout
    ledger = [json.loads(x) for x in (scope / "ledger.jsonl").read_text().splitlines()]
    assert [e["seq"] for e in ledger] == [1, 2, 3]
    run3 = json.loads((scope / "r3" / "run.json").read_text())
    assert run3["chain"]["prev_manifest_sha256"] == ledger[1]["manifest_sha256"]


def test_an_auditor_verifies_without_preuve(scope, key):
    """The README's commands: sha256sum -c and openssl pkeyutl over the manifest."""
    run = scope / "r2"
    ok = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=run, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    pub = key.with_name("operator.pub.pem")
    sig = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            pub,
            "-rawin",
            "-in",
            "MANIFEST.sha256",
            "-sigfile",
            "MANIFEST.sha256.sig",
        ],
        cwd=run,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert sig.returncode == 0 and "Signature Verified Successfully" in sig.stdout, sig.stdout + sig.stderr
    import hashlib

    manifest_hash = hashlib.sha256((run / "MANIFEST.sha256").read_bytes()).hexdigest()
    ledger = [json.loads(x) for x in (scope / "ledger.jsonl").read_text().splitlines()]
    assert ledger[1]["manifest_sha256"] == manifest_hash  # `sha256sum MANIFEST.sha256` against the ledger


def test_one_byte_of_an_observation_is_named(copy, key):
    _flip(copy / "r2" / "observations" / "tls" / "tls-weak.json")
    proc = _verify(copy / "r2", key)
    assert proc.returncode == Exit.INTEGRITY
    assert "observations/tls/tls-weak.json: content changed" in proc.stderr
    assert "results.jsonl" not in proc.stderr  # only the file that changed is named


def test_one_byte_of_results_is_named(copy, key):
    _flip(copy / "r1" / "results.jsonl", 50)
    proc = _verify(copy / "r1", key)
    assert proc.returncode == Exit.INTEGRITY
    assert "results.jsonl: content changed" in proc.stderr


def test_one_byte_of_the_manifest_breaks_signature_and_chain(copy, key):
    manifest = copy / "r2" / "MANIFEST.sha256"
    text = manifest.read_text()
    first = text.splitlines()[0]
    digest, _, rel = first.partition("  ")
    forged = ("0" if digest[0] != "0" else "1") + digest[1:]
    manifest.write_text(text.replace(first, f"{forged}  {rel}", 1))
    proc = _verify(copy / "r3", key)  # the next run's verification sees its predecessor altered
    assert proc.returncode == Exit.INTEGRITY
    assert "run r2: MANIFEST.sha256 differs from the ledger" in proc.stderr
    proc = _verify(copy / "r2", key)
    assert proc.returncode == Exit.INTEGRITY
    assert f"{rel}: content changed" in proc.stderr
    assert "MANIFEST.sha256.sig: the signature does not match MANIFEST.sha256" in proc.stderr


def test_a_run_deleted_from_the_chain_is_named(copy, key):
    shutil.rmtree(copy / "r2")
    proc = _verify(copy / "r3", key)
    assert proc.returncode == Exit.INTEGRITY
    assert "run r2 (seq 2" in proc.stderr and "missing, deleted from the chain" in proc.stderr


def test_a_run_and_its_ledger_line_deleted_are_named(copy, key):
    shutil.rmtree(copy / "r2")
    ledger = copy / "ledger.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(lines[0] + lines[2])
    proc = _verify(copy / "r3", key)
    assert proc.returncode == Exit.INTEGRITY
    assert "ledger.jsonl:2 (run r3, seq 3)" in proc.stderr
    assert "a run was deleted from the chain" in proc.stderr
    assert "sequence number 3 follows 1" in proc.stderr


def test_a_signature_by_another_key_is_refused(scope, tmp_path):
    other = tmp_path / "other.pem"
    assert preuve("keygen", other).returncode == 0
    proc = preuve("verify", scope / "r1", "--key", tmp_path / "other.pub.pem")
    assert proc.returncode == Exit.INTEGRITY
    assert "the signature does not match" in proc.stderr


def test_keygen_refuses_to_overwrite_a_key(key):
    proc = preuve("keygen", key)
    assert proc.returncode == Exit.USAGE and "refusing to overwrite" in proc.stderr
