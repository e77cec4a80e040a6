"""Sweeps for CI and nightly runs: sharding (`--shard i/n` + `preuve merge`), `--fail-on`, `--only`/`--targets-file`.

"Identical" for a merged run means: the same results.jsonl bytes as a single run of the same evidence (checked on
offline re-judging, where evidence is fixed), and on a live sweep the same results once the per-execution fields
(collected_at, duration_ms and the evidence digests, which hash those timings) are set aside; the same observation
files; a run directory that passes its own manifest.
"""

from __future__ import annotations

import collections
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from preuve.exitcodes import Exit
from preuve.judge.scope import Shard, build_scope, shard_of
from preuve.report.gate import gate
from preuve.results.writer import read_results
from tests.conftest import FULL_PROFILE, LAB_INVENTORY, Run, preuve, scan

pytestmark = pytest.mark.lab
CORE = {"ssh-good", "ssh-weak", "tls-good", "tls-weak"}
SELECT = ("--select", "SSH-*", "--select", "TLS-*")  # this issue's concern; other domains' checks evolve on their own


def core_inventory(tmp: Path) -> Path:
    """The lab's two SSH hosts and two TLS endpoints only: other domains' targets come and go in the shared lab."""
    lab_inv = yaml.safe_load(LAB_INVENTORY.read_text())
    inv = {k: lab_inv[k] for k in ("version", "name", "scanner", "defaults", "sites", "zones")}
    for key in ("hosts", "tls_endpoints"):
        inv[key] = [e for e in lab_inv[key] if e["name"] in CORE]
    path = tmp / "inventory.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def lab_run(lab, tmp_path_factory) -> Run:
    """One full-profile scan of the lab's core targets, shared by this module's tests."""
    tmp = tmp_path_factory.mktemp("sweep")
    run = scan(tmp / "run", *SELECT, inventory=core_inventory(tmp))
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    return run


VOLATILE = ("collected_at", "duration_ms")


def _content(run: Path) -> list[dict]:
    out = []
    for line in (run / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        for k in VOLATILE:
            r.pop(k)
        r["evidence"] = [e["path"] for e in r["evidence"]]
        out.append(r)
    return out


def _files(run: Path) -> set[str]:
    return {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}


# --- units -----------------------------------------------------------------------------------------------------


def test_shard_parse_and_errors():
    assert Shard.parse("2/4") == Shard(2, 4)
    for bad in ("0/4", "5/4", "x/4", "4", "1/0", ""):
        with pytest.raises(ValueError, match="i/n"):
            Shard.parse(bad)


def test_shard_assignment_is_stable_and_balanced():
    names = [f"host-{i:04d}" for i in range(2000)]
    split = collections.Counter(shard_of(n, 4) for n in names)
    assert set(split) == {1, 2, 3, 4}
    assert min(split.values()) > 400, split  # sha256 spreads evenly
    # Adding targets never moves an existing one (assignment depends on the target alone).
    assert [shard_of(n, 4) for n in names[:10]] == [shard_of(n, 4) for n in names[:10]]
    expected = 1 + int.from_bytes(hashlib.sha256(b"host-0001").digest()[:8], "big") % 4
    assert shard_of("host-0001", 4) == expected


def test_scope_only_and_targets_file(tmp_path):
    f = tmp_path / "changed.txt"
    f.write_text("# targets touched by this merge request\nssh-good\n\ntls-*  # every TLS endpoint\n")
    scope = build_scope(None, ["extra"], str(f))
    assert scope.only == ("extra", "ssh-good", "tls-*")
    assert build_scope(None, None, None).describe() is None


def test_gate_keeps_failures_visible_but_gates_by_severity(lab_run):
    results = read_results(lab_run.out / "results.jsonl")
    low_only = [r for r in results if r.status != "fail" or r.severity == "low"]
    assert any(r.status == "fail" for r in low_only)
    assert gate(Exit.NON_COMPLIANT, low_only, None) == Exit.NON_COMPLIANT
    assert gate(Exit.NON_COMPLIANT, low_only, "low") == Exit.NON_COMPLIANT
    assert gate(Exit.NON_COMPLIANT, low_only, "medium") == Exit.COMPLIANT
    assert gate(Exit.NON_COMPLIANT, results, "critical") == Exit.NON_COMPLIANT  # ssh-weak allows root login


# --- sharding and merge ----------------------------------------------------------------------------------------


def test_four_shards_merged_equal_the_single_run(lab_run, tmp_path):
    shards = []
    for i in range(1, 5):
        inv = lab_run.out / "inputs" / "inventory.yaml"
        run = scan(tmp_path / f"shard-{i}", "--shard", f"{i}/4", *SELECT, inventory=inv)
        assert run.code in (0, 1, 2), run.proc.stderr
        assert json.loads((run.out / "run.json").read_text())["scope"]["shard"] == f"{i}/4"
        shards.append(run.out)
    counts = [len(_content(s)) for s in shards]
    assert sum(counts) == len(lab_run.results) and sum(1 for c in counts if c) >= 2, counts
    merged = tmp_path / "merged"
    proc = preuve("merge", *shards, "-o", merged, "-q")
    assert proc.returncode == lab_run.code == Exit.NON_COMPLIANT, proc.stderr
    assert _content(merged) == _content(lab_run.out)
    evidence = lambda run: {f for f in _files(run) if f.startswith(("observations/", "inputs/"))}  # noqa: E731
    assert evidence(merged) == evidence(lab_run.out)
    assert {"junit.xml", "run.json", "MANIFEST.sha256"} <= _files(merged)
    assert preuve("verify", merged).returncode == 0
    run = json.loads((merged / "run.json").read_text())
    single = json.loads((lab_run.out / "run.json").read_text())
    for key in ("stats", "checks_selected", "profile", "waivers", "exit_code", "observations"):
        assert run[key] == single[key], key
    # Same inventory content; the shards read the single run's copy of it, so only its path differs.
    assert {k: v for k, v in run["inventory"].items() if k != "file"} == {
        k: v for k, v in single["inventory"].items() if k != "file"
    }
    assert run["scope"] == {"merged_shards": ["1/4", "2/4", "3/4", "4/4"]}
    junit = (merged / "junit.xml").read_text()
    assert junit.count("<testcase ") == len(lab_run.results)


def test_merged_rejudged_shards_are_byte_identical(lab_run, tmp_path):
    """With the evidence fixed (offline re-judging), the merged results.jsonl is the single run's, byte for byte."""
    whole = tmp_path / "whole"
    assert preuve("judge", lab_run.out, "-o", whole, "-q", *SELECT).returncode == lab_run.code
    shards = []
    for i in range(1, 5):
        out = tmp_path / f"j{i}"
        assert preuve("judge", lab_run.out, "-o", out, "-q", "--shard", f"{i}/4", *SELECT).returncode in (0, 1, 2)
        shards.append(out)
    merged = tmp_path / "merged"
    assert preuve("merge", *shards, "-o", merged, "-q").returncode == lab_run.code
    assert (merged / "results.jsonl").read_bytes() == (whole / "results.jsonl").read_bytes()
    assert (merged / "results.jsonl").read_bytes() == (lab_run.out / "results.jsonl").read_bytes()


def test_merge_refuses_incomplete_duplicate_or_tampered_shards(lab_run, tmp_path):
    shards = []
    for i in (1, 2):
        out = tmp_path / f"j{i}"
        preuve("judge", lab_run.out, "-o", out, "-q", "--shard", f"{i}/2", *SELECT)
        shards.append(out)
    missing = preuve("merge", shards[0], "-o", tmp_path / "m1")
    assert missing.returncode == Exit.USAGE and "missing shard(s) 2/2" in missing.stderr
    twice = preuve("merge", shards[0], shards[0], "-o", tmp_path / "m2")
    assert twice.returncode == Exit.USAGE and "given twice" in twice.stderr
    not_shard = preuve("merge", lab_run.out, shards[1], "-o", tmp_path / "m3")
    assert not_shard.returncode == Exit.USAGE and "not a shard" in not_shard.stderr
    tampered = tmp_path / "tampered"
    shutil.copytree(shards[1], tampered)
    (tampered / "results.jsonl").write_text((tampered / "results.jsonl").read_text().replace('"fail"', '"pass"'))
    bad = preuve("merge", shards[0], tampered, "-o", tmp_path / "m4")
    assert bad.returncode == Exit.USAGE and "manifest" in bad.stderr
    assert not (tmp_path / "m4").exists()


# --- CI gating ---------------------------------------------------------------------------------------------------


def test_fail_on_gates_by_severity(lab_run, tmp_path):
    crit = preuve("judge", lab_run.out, "-o", tmp_path / "crit", "-q", "--fail-on", "critical", *SELECT)
    assert crit.returncode == Exit.NON_COMPLIANT  # ssh-weak: PermitRootLogin yes (critical)
    tls = preuve(
        "judge", lab_run.out, "-o", tmp_path / "tls", "-q", "--only", "tls-*", "--fail-on", "critical", *SELECT
    )
    assert tls.returncode == Exit.COMPLIANT, tls.stderr  # tls-weak fails only high/medium checks
    results = [json.loads(line) for line in (tmp_path / "tls" / "results.jsonl").read_text().splitlines()]
    assert any(r["status"] == "fail" for r in results), "failures stay in the reports"
    run = json.loads((tmp_path / "tls" / "run.json").read_text())
    assert run["exit_code"] == 0 and run["scope"]["fail_on"] == "critical"
    high = preuve("judge", lab_run.out, "-o", tmp_path / "high", "-q", "--only", "tls-*", "--fail-on", "high", *SELECT)
    assert high.returncode == Exit.NON_COMPLIANT


def test_only_changed_targets(lab_run, tmp_path):
    changed = tmp_path / "changed.txt"
    changed.write_text("ssh-good\nno-such-host\n")
    proc = preuve("judge", lab_run.out, "-o", tmp_path / "only", "--targets-file", changed, "--lang", "en", *SELECT)
    assert proc.returncode == Exit.COMPLIANT, proc.stdout + proc.stderr
    assert "no inventory target matches 'no-such-host'" in proc.stderr
    names = {r["target"]["name"] for r in map(json.loads, (tmp_path / "only" / "results.jsonl").open())}
    assert names == {"ssh-good"}
    assert "Results:" in proc.stdout and "pass:" in proc.stdout  # the concise summary a CI log shows
    inv = lab_run.out / "inputs" / "inventory.yaml"
    bad = preuve("run", "-i", inv, "-p", FULL_PROFILE, "-o", tmp_path / "bad", "--shard", "5/4")
    assert bad.returncode == Exit.USAGE and "1 <= i <= n" in bad.stdout + bad.stderr
