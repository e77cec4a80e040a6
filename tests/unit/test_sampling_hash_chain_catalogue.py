"""The auditor's building blocks without the lab: sampling, the hash chain, the requirement catalogue."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from preuve.evidence import ledger
from preuve.evidence.canonical import dumps
from preuve.inputs.sampling import parse_size, sample
from preuve.inputs.targets import Target
from preuve.report.coverage import coverage, requirements, unknown_requirements


def _targets(n: int) -> dict[str, list[Target]]:
    hosts = [Target("host", f"h{i:02d}", f"10.0.0.{i}", 22, None, None, (), None) for i in range(n)]
    return {"host": hosts, "tls_endpoint": []}


def test_sample_is_a_pure_function_of_seed_and_population():
    a, rec_a = sample(_targets(20), "5", "s1")
    b, rec_b = sample(_targets(20), "5", "s1")
    c, _ = sample(_targets(20), "5", "s2")
    assert [t.name for t in a["host"]] == [t.name for t in b["host"]] and len(a["host"]) == 5
    assert [t.name for t in a["host"]] != [t.name for t in c["host"]]
    assert rec_a == rec_b and rec_a["groups"]["host"]["population"] == 20 and "tls_endpoint" not in rec_a["groups"]
    frac, rec = sample(_targets(7), "0.3", "x")
    assert len(frac["host"]) == 3 and rec["mode"] == "fraction"  # ceil(0.3 x 7)
    assert parse_size("20%") == pytest.approx(0.2)
    for bad in ("0", "-1", "1.5", "abc", "150%"):
        with pytest.raises(ValueError):
            parse_size(bad)


def _run(scope: Path, name: str, led: Path) -> Path:
    d = scope / name
    d.mkdir()
    run = {"run_id": name, "ended_at": "2026-11-23T00:00:00Z", "chain": ledger.chain_link(led, d)}
    (d / "run.json").write_bytes(dumps(run))
    (d / "MANIFEST.sha256").write_text(f"{'0' * 64}  run.json {name}\n")
    ledger.append(led, d, run)
    return d


def test_chain_names_a_deleted_a_reordered_and_a_replaced_run(tmp_path):
    led = tmp_path / "ledger.jsonl"
    runs = [_run(tmp_path, f"r{i}", led) for i in (1, 2, 3)]
    assert ledger.verify_chain(led, runs[-1]) == ([], 3)
    assert ledger.previous_run(led, tmp_path / "r4") is None  # no results.jsonl in these stand-ins
    lines = led.read_bytes().splitlines(keepends=True)
    led.write_bytes(lines[0] + lines[2] + lines[1])  # reordered
    problems, _ = ledger.verify_chain(led)
    assert any("runs were reordered" in p for p in problems)
    led.write_bytes(b"".join(lines))
    (runs[1] / "MANIFEST.sha256").write_text("changed\n")
    assert any("run r2: MANIFEST.sha256 differs from the ledger" in p for p in ledger.verify_chain(led)[0])
    none = tmp_path / "none.jsonl"
    assert ledger.verify_chain(none) == ([f"{none}: the ledger is missing or empty"], None)
    # verifying run N checks the chain up to N only: a later run deleted does not break it
    import shutil

    (runs[1] / "MANIFEST.sha256").write_text(f"{'0' * 64}  run.json r2\n")
    shutil.rmtree(runs[2])
    assert ledger.verify_chain(led, runs[1]) == ([], 2)
    assert any("r3" in p for p in ledger.verify_chain(led)[0])


def test_the_catalogue_has_every_requirement_of_the_referential_once():
    reqs = requirements()
    assert len(reqs) == 278  # tests/unit/test_referential.py derives the list from the referential's text
    assert {r.chapter for r in reqs.values()} == {str(c) for c in range(5, 20)}
    assert reqs["12.6.a"].kind == "requirement" and "journalis" in reqs["12.6.a"].title.lower()
    assert reqs["6.3.a"].kind == "recommendation"
    rows = {
        c.requirement.id: c
        for c in coverage({"X-1": {"12.8.b#1": "timestamps"}, "X-2": {"12.8.a#2": "sync"}, "X-3": ["12.6.a"]})
    }
    assert rows["12.8.b"].level == "automated" and rows["12.8.a"].level == "partial"
    assert rows["12.6.a"].level == "manual" and rows["12.6.a"].unjustified == ["X-3"]  # named, not justified
    assert rows["5.1.a"].level == "manual"
    assert unknown_requirements({"X-1": ["10.2.c", "10.2.z"]}) == ["10.2.z"]
    json.dumps([dataclasses.asdict(r) for r in reqs.values()])  # plain data, exportable
