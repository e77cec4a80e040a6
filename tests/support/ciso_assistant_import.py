"""What CISO Assistant's data wizard does with a compliance-assessment CSV, step by step (not vendored: AGPL-3.0).

Reference: intuitem/ciso-assistant-community@f990d7b1b9a9f56e391acbc247c9076262a11412, backend/data_wizard/views.py
(line numbers below), backend/core/models.py l. 8756-8767 (choices). The database is replaced by the library's
node list (tests/fixtures/ciso-assistant/secnumcloud-3.2-nodes.csv): `create_requirement_assessments` creates one
requirement assessment per node of the framework, assessable or not (core/models.py l. 7521), so a lookup that
finds a node finds its assessment.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

NODES = Path(__file__).parent.parent / "fixtures" / "ciso-assistant" / "secnumcloud-3.2-nodes.csv"
RESULTS = {"not_assessed", "partially_compliant", "non_compliant", "compliant", "not_applicable"}  # models l. 8762
STATUSES = {"to_do", "in_progress", "in_review", "done"}  # models l. 8756


@dataclass
class Node:
    urn: str
    assessable: bool
    ref_id: str
    parent_urn: str
    assessment: dict[str, Any] = field(default_factory=dict)  # what the import wrote on its RequirementAssessment


def library() -> list[Node]:
    with NODES.open(newline="") as fh:
        return [Node(r["urn"], r["assessable"] == "true", r["ref_id"], r["parent_urn"]) for r in csv.DictReader(fh)]


def load_records(data: bytes) -> list[dict[str, Any]]:
    """views.py l. 4033 (default branch, CSV), l. 3845-3854 (normalize_df_columns), l. 4056."""
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig").fillna("")
    normalized = [str(c).strip().lower() for c in df.columns]
    if len(set(normalized)) != len(normalized):
        raise ValueError("DuplicateColumns")
    df.columns = normalized
    return df.to_dict(orient="records")


def reconcile(records: list[dict[str, Any]], nodes: list[Node]) -> dict[str, Any]:
    """views.py l. 4714-4888, `_reconcile_compliance_requirements`, without answers and scores (we send none)."""
    results: dict[str, Any] = {"successful": 0, "failed": 0, "errors": [], "skipped": 0}
    for record in records:
        ref_id = record.get("ref_id")
        urn = record.get("urn")
        if not record.get("assessable"):  # l. 4722: "Skipping unassessable item." (silently)
            results["skipped"] += 1
            continue
        if not (ref_id or urn):
            results["failed"] += 1
            results["errors"].append({"record": record, "error": "Neither ref_id nor urn provided for requirement"})
            continue
        node = None
        if ref_id:  # l. 4737: ref_id wins, a stale ref_id falls back to urn
            node = next((n for n in nodes if n.ref_id == ref_id), None)
        if node is None and urn:
            node = next((n for n in nodes if n.urn == urn), None)
        if node is None:
            results["failed"] += 1
            results["errors"].append({"record": record, "error": f"No matching requirement {ref_id!r} {urn!r}"})
            continue
        data = {}  # l. 4757-4766: only populated cells are written
        if record.get("compliance_result") not in (None, ""):
            data["result"] = record["compliance_result"]
        if record.get("requirement_progress") not in (None, ""):
            data["status"] = record["requirement_progress"]
        if record.get("observations") not in (None, ""):
            data["observation"] = record["observations"]
        # RequirementAssessmentWriteSerializer (l. 4844): a choice outside the model's is a validation error
        if data.get("result", "not_assessed") not in RESULTS or data.get("status", "to_do") not in STATUSES:
            results["failed"] += 1
            results["errors"].append({"record": record, "errors": data})
            continue
        node.assessment.update(data)
        results["successful"] += 1
    return results
