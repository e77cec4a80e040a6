"""Reading results.jsonl back: one record per line whatever a target put in its text, and the end of a run's
shortcut (the current results handed over already parsed) giving the same diff as reading them from disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preuve.evidence.canonical import dumps
from preuve.results.diff import diff_runs
from preuve.results.jsonl import read_jsonl


def _result(check: str, target: str, status: str, observed: Any) -> dict[str, Any]:
    return {
        "check_id": check,
        "target": {"name": target, "kind": "host", "address": "198.18.0.1"},
        "status": status,
        "observed": observed,
        "finding_id": f"PV-{check}-{target}",
        "requirements": ["10.6.a"],
        "severity": "high",
        "message": {"fr": f"{check} {status}", "en": f"{check} {status}"},
    }


def _run(d: Path, run_id: str, results: list[dict[str, Any]]) -> Path:
    d.mkdir()
    profile = {"id": "p", "version": "1", "sha256": "0" * 64, "file": "p.yaml"}
    run = {"run_id": run_id, "ended_at": "2026-12-05T00:00:00Z", "stats": {}, "profile": profile}
    (d / "run.json").write_text(json.dumps(run))
    (d / "results.jsonl").write_bytes(b"".join(dumps(r) + b"\n" for r in results))
    return d


def test_a_line_separator_inside_a_banner_stays_inside_its_record(tmp_path: Path) -> None:
    banner = "SSH-2.0-x\u2028second\x85third\u2029\x1c\x1d\x1e\x0b\x0c"
    path = _run(tmp_path / "r", "r", [_result("A", "h1", "fail", {"banner": banner}), _result("B", "h1", "pass", 1)])
    records = read_jsonl(path / "results.jsonl")
    assert [r["check_id"] for r in records] == ["A", "B"]
    assert records[0]["observed"]["banner"] == banner


def test_the_diff_is_the_same_from_parsed_results_as_from_disk(tmp_path: Path) -> None:
    before = [
        _result("A", "h1", "fail", 1),
        _result("A", "h2", "error", 1),
        _result("B", "h1", "pass", {"v": 1}),
        _result("C", "gone", "pass", 1),
    ]
    after = [
        _result("A", "h1", "pass", 1),
        _result("A", "h2", "fail", 1),
        _result("B", "h1", "fail", {"v": 2}),
        _result("D", "new", "error", 1),
    ]
    a, b = _run(tmp_path / "a", "a", before), _run(tmp_path / "b", "b", after)
    from_disk = diff_runs(a, b)
    assert diff_runs(a, b, current=read_jsonl(b / "results.jsonl")) == from_disk
    assert from_disk["counts"]["fixed"] == 1 and from_disk["counts"]["newly_observed"] == 1
    assert from_disk["targets_added"] == ["new"] and from_disk["targets_removed"] == ["gone"]
