"""Targets that cannot be observed give `error` (never pass) within the timeout, and the run still completes;
a changed host key stops that host with a clear message; no secret reaches any output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import lab_inventory, scan

pytestmark = pytest.mark.lab
LAB_DIR = Path("/var/tmp/preuve-lab")


def _inventory(tmp, edit):
    return lab_inventory(tmp, edit)


def test_black_holed_target_is_error_within_timeout(lab_up, tmp_path):
    def edit(inv):
        inv["defaults"]["timeout"] = 2
        inv["hosts"] = [{"name": "ghost", "address": "198.18.2.99", "zone": "production"}]
        inv["tls_endpoints"] = [{"name": "ghost-tls", "address": "198.18.2.99", "port": 443, "zone": "production"}]

    t0 = time.monotonic()
    run = scan(tmp_path / "run", inventory=_inventory(tmp_path, edit))
    elapsed = time.monotonic() - t0
    assert run.code == Exit.INCOMPLETE, run.proc.stderr
    assert run.results and {r["status"] for r in run.results} == {"error"}
    assert elapsed < 20, f"a 2 s timeout must not stall the run ({elapsed:.1f} s)"
    for r in run.results:
        assert "could not observe" in r["message"]["en"]
        assert r["evidence"], "the failed observation itself is evidence"
    for obs in (run.out / "observations").glob("*/*.json"):
        o = json.loads(obs.read_text())
        assert not o["ok"] and o["duration_ms"] < 3 * 2000 + 1000, (obs, o["duration_ms"], o["error"])
    assert (run.out / "junit.xml").exists() and (run.out / "MANIFEST.sha256").exists()


def test_changed_host_key_aborts_that_host(lab_up, tmp_path):
    def edit(inv):
        inv["defaults"]["ssh"]["known_hosts"] = str(LAB_DIR / "known_hosts.wrong")
        inv["tls_endpoints"] = []

    run = scan(tmp_path / "run", "--select", "SSH-*", inventory=_inventory(tmp_path, edit))
    good = [r for r in run.results if r["target"]["name"] == "ssh-good" and r["target"]["kind"] == "host"]
    assert good and {r["status"] for r in good} == {"error"}
    message = good[0]["message"]["en"]
    assert "host key" in message.lower() and "SHA256:" in message, message
    weak = [r for r in run.results if r["target"]["name"] == "ssh-weak" and r["target"]["kind"] == "host"]
    assert {r["status"] for r in weak} == {"fail"}, "only the host whose key changed is stopped"


def test_no_secret_in_run_directory_or_output(lab_up, tmp_path):
    canary_env = "canary-Pw-7f3a9c"
    canary_file = "canary-File-Pw-51d2e8"
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(canary_file + "\n")

    def edit(inv):
        inv["tls_endpoints"] = []
        inv["hosts"] = inv["hosts"][:2]  # ssh-good and ssh-weak
        inv["hosts"][0]["ssh"].update({"password": {"env": "PV_CANARY"}, "key_file": None})
        inv["hosts"][1]["ssh"].update({"password": {"file": str(secret_file)}, "key_file": None})

    run = scan(tmp_path / "run", inventory=_inventory(tmp_path, edit), env={"PV_CANARY": canary_env})
    key_body = (LAB_DIR / "keys" / "auditor").read_text().splitlines()[1]
    haystacks = [run.proc.stdout, run.proc.stderr]
    haystacks += [p.read_text(errors="replace") for p in run.out.rglob("*") if p.is_file()]
    for secret in (canary_env, canary_file, key_body):
        assert not any(secret in h for h in haystacks), f"secret leaked: {secret[:6]}…"
    # The wrong passwords were really tried: those hosts' checks are errors, not passes.
    assert {r["status"] for r in run.results if r["target"]["kind"] == "host"} == {"error"}
