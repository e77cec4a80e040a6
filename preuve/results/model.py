"""A result: one check judged on one target. results.jsonl holds one per line and is the source of truth;
every report (JUnit, summaries, exports) is generated from these records and nothing else."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["pass", "fail", "error", "not_applicable", "waived", "manual"]
STATUSES: tuple[str, ...] = ("pass", "fail", "error", "not_applicable", "waived", "manual")


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    sha256: str


class WaiverRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    approver: str
    justification: str
    expires: str
    expired: bool = False


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding_id: str
    check_id: str
    title: dict[str, str]
    requirements: list[str]
    rule: str
    severity: str
    target: dict[str, Any]
    status: Status
    expected: dict[str, Any]
    observed: dict[str, Any]
    expectations: list[dict[str, Any]]
    message: dict[str, str]
    remediation: dict[str, str] | None = None
    evidence: list[Evidence]
    collected_at: str | None = None
    duration_ms: float | None = None
    waiver: WaiverRef | None = None


def finding_id(check_id: str, target: str) -> str:
    """Stable across runs, so an auditor's diff and the provider's tracker can key on it."""
    return "PV-" + hashlib.sha256(f"{check_id}|{target}".encode()).hexdigest()[:12].upper()
