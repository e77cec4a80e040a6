"""A run made of results for every check of the catalogue, each status in turn, without the lab: the writers of
preuve/report are pure functions of results.jsonl and run.json, so their consumers' rules can be tested fast."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

STATUSES = ("fail", "pass", "waived", "error", "not_applicable")


def results(statuses: tuple[str, ...] = STATUSES) -> list[dict[str, Any]]:
    from preuve.judge.catalogue import load_catalogue

    out = []
    for n, (cid, info) in enumerate(sorted(load_catalogue().items())):
        for k, target in enumerate(("alpha", "beta")):
            status = statuses[(n + k) % len(statuses)]
            fid = "PV-" + hashlib.sha256(f"{cid}|{target}".encode()).hexdigest()[:12].upper()
            path = f"observations/x/{target}.json"
            out.append(
                {
                    "check_id": cid,
                    "collected_at": "2026-12-04T10:00:01.000Z",
                    "duration_ms": 1500.0,
                    "evidence": [{"path": path, "sha256": hashlib.sha256(path.encode()).hexdigest()}],
                    "expected": {"x": 1},
                    "observed": {"x": 0},
                    "expectations": [],
                    "finding_id": fid,
                    "message": {
                        "fr": f"x : observé 0 ; attendu : 1 ({cid})",
                        "en": f"x: observed 0; expected: 1 ({cid})",
                    },
                    "remediation": {"fr": "corriger", "en": "fix"},
                    "requirements": list(info.spec.requirements),
                    "rule": info.spec.rule,
                    "severity": "high",
                    "status": status,
                    "target": {
                        "address": "198.18.2.10",
                        "kind": info.spec.target,
                        "name": target,
                        "port": None,
                        "site": None,
                        "zone": None,
                    },
                    "title": {"fr": info.title.get("fr", cid), "en": info.title.get("en", cid)},
                    "waiver": (
                        {
                            "id": "DER-1",
                            "approver": "RSSI",
                            "expires": "2027-01-01",
                            "justification": "legacy",
                            "expired": False,
                        }
                        if status == "waived"
                        else None
                    ),
                }
            )
    return out


def run(**extra: Any) -> dict[str, Any]:
    return {
        "run_id": "00000000-0000-4000-8000-000000000001",
        "started_at": "2026-12-04T10:00:00Z",
        "ended_at": "2026-12-04T10:00:42Z",
        "schema": "preuve.run/1",
        "tool": {"name": "preuve", "version": "0.1.0", "commit": "0" * 40, "python": "3.11"},
        "profile": {
            "id": "secnumcloud-3.2",
            "version": "0.1.0",
            "sha256": "a" * 64,
            "file": "p.yaml",
            "chain": ["secnumcloud-3.2"],
        },
        "inventory": {"name": "synthetic", "sha256": "b" * 64, "targets": {}},
        "scanner": {"hostname": "ci", "netns": None, "operator": "ci"},
        "stats": {},
        "exit_code": 1,
        **extra,
    }


INVENTORY = """\
# a synthetic inventory: the targets' names are declared on known lines
version: 1
name: synthetic
hosts:
  - name: alpha
    address: 198.18.2.10
  - name: beta
    address: 198.18.2.11
"""
LINES = {"alpha": 5, "beta": 7}


def run_dir(root: Path, inventory_file: str = "inventories/prod.yaml", **run_extra: Any) -> Path:
    """A run directory as preuve writes one (results.jsonl, run.json, inputs/, the observation files the results
    cite), under `root`; the inventory was given as `inventory_file`."""
    d = root / "reports" / "run-1"
    (d / "inputs").mkdir(parents=True)
    (d / "inputs" / "inventory.yaml").write_text(INVENTORY)
    rs = results()
    for r in rs:
        for ev in r["evidence"]:
            (d / ev["path"]).parent.mkdir(parents=True, exist_ok=True)
            (d / ev["path"]).write_text("{}")
    (d / "results.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rs))
    info = run(**run_extra)
    info["inventory"]["file"] = inventory_file
    info["stats"] = {s: sum(r["status"] == s for r in rs) for s in (*STATUSES, "manual")}
    (d / "run.json").write_text(json.dumps(info))
    return d
