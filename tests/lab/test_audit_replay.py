"""Replay: re-judging offline (in a network namespace with no interface up) reproduces results.jsonl byte for
byte; `run --replay-of` re-runs live with the pinned profile and the same sample, and refuses a changed profile."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from preuve.exitcodes import Exit
from tests.conftest import LAB_INVENTORY, REPO, preuve, scan

pytestmark = pytest.mark.lab


def test_offline_judge_in_a_namespace_without_network_is_byte_identical(lab_run, tmp_path):
    out = tmp_path / "offline"
    script = (
        "ip -o link; ip -o addr; "  # the proof that nothing is reachable: only lo, and it is down
        f"exec {sys.executable} -m preuve judge {lab_run.out} -o {out} -q"
    )
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO)
    links = [line for line in proc.stdout.splitlines() if ": " in line and "link/" in line]
    assert len(links) == 1 and " lo:" in links[0] and "state DOWN" in links[0], proc.stdout
    assert "inet" not in proc.stdout  # no address at all, not even 127.0.0.1
    assert proc.returncode == lab_run.code, proc.stderr
    assert (out / "results.jsonl").read_bytes() == (lab_run.out / "results.jsonl").read_bytes()
    run = json.loads((out / "run.json").read_text())
    assert run["replay_of"]["run_id"] == json.loads((lab_run.out / "run.json").read_text())["run_id"]


def _strict(tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        'id: strict\nversion: "1.0"\ntitle: {fr: strict, en: strict}\nselect: {checks: ["TLS-*"]}\n'
        "params:\n  tls: {versions_allowed: [TLSv1.3]}\n"
    )
    return strict


def test_replay_of_refuses_a_changed_profile_unless_told(lab_run, tmp_path):
    out = tmp_path / "refused"
    proc = preuve("run", "--replay-of", lab_run.out, "-p", _strict(tmp_path), "-o", out, "-q")
    assert proc.returncode == Exit.INVALID_INPUT
    assert "sha256" in proc.stderr and "--allow-profile-change" in proc.stderr
    assert not out.exists()  # nothing scanned
    told = preuve(
        "run",
        "--replay-of",
        lab_run.out,
        "-p",
        _strict(tmp_path),
        "--allow-profile-change",
        "-o",
        tmp_path / "told",
        "-q",
    )
    assert told.returncode == Exit.NON_COMPLIANT, told.stderr
    run = json.loads((tmp_path / "told" / "run.json").read_text())
    assert run["profile"]["id"] == "strict" and run["replay_of"]["mode"] == "live"


def test_sample_is_reproducible_recorded_and_replayed(lab, tmp_path):
    sel = ("--select", "TLS-*", "--select", "SSH-*")
    a = scan(tmp_path / "scope" / "a", *sel, "--sample", "1", "--seed", "audit-42")
    assert a.code in (Exit.COMPLIANT, Exit.NON_COMPLIANT), a.proc.stderr
    run = json.loads((a.out / "run.json").read_text())
    s = run["sampling"]
    assert s["seed"] == "audit-42" and s["size"] == "1" and s["mode"] == "count"
    assert len(s["population_sha256"]) == 64 and "sha256(seed|kind|name)" in s["method"]
    for kind, g in s["groups"].items():
        assert len(g["selected"]) == 1 and g["population"] >= 1 and len(g["population_sha256"]) == 64, kind
    sampled = {r["target"]["name"] for r in a.results}
    chosen = {n for g in s["groups"].values() for n in g["selected"]}
    assert sampled <= chosen
    # same seed, same population: same sample
    b = scan(tmp_path / "other" / "b", *sel, "--sample", "1", "--seed", "audit-42")
    assert json.loads((b.out / "run.json").read_text())["sampling"]["groups"] == s["groups"]
    # a live replay keeps the pinned profile and the same sample; re-judging offline reproduces it exactly
    j = preuve("judge", a.out, *sel, "-o", tmp_path / "judged", "-q")
    assert j.returncode == a.code, j.stderr
    assert (tmp_path / "judged" / "results.jsonl").read_bytes() == (a.out / "results.jsonl").read_bytes()
    c = preuve("run", "--replay-of", a.out, "-o", tmp_path / "scope" / "c", "-q")
    assert c.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), c.stderr
    rc = json.loads((tmp_path / "scope" / "c" / "run.json").read_text())
    assert rc["sampling"]["groups"] == s["groups"] and rc["profile"]["sha256"] == run["profile"]["sha256"]
    assert rc["chain"]["prev_run_id"] == run["run_id"]  # same scope: chained after a


def test_sample_fraction_and_bad_sizes(lab, tmp_path):
    ok = scan(tmp_path / "f", "--select", "TLS-*", "--sample", "50%", "--seed", "x")
    s = json.loads((ok.out / "run.json").read_text())["sampling"]
    assert s["mode"] == "fraction"
    assert len(s["groups"]["tls_endpoint"]["selected"]) == -(-s["groups"]["tls_endpoint"]["population"] // 2)
    bad = preuve(
        "run",
        "-i",
        LAB_INVENTORY,
        "-p",
        REPO / "profiles" / "secnumcloud-3.2.yaml",
        "-o",
        tmp_path / "bad",
        "-q",
        "--sample",
        "1.5",
    )
    assert bad.returncode == Exit.USAGE and "sample size" in bad.stderr
