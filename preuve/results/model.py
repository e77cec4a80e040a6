"""A result: one check judged on one target. results.jsonl holds one per line and is the source of truth;
every report (JUnit, summaries, exports) is generated from these records and nothing else."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["pass", "fail", "error", "not_applicable", "waived", "manual"]
STATUSES: tuple[str, ...] = ("pass", "fail", "error", "not_applicable", "waived", "manual")


@dataclass
class Expectation:
    """One expectation a check stated (the judge records it; a result holds its `as_dict()` and its sentence)."""

    label: str
    operator: str
    expected: Any
    observed: Any
    ok: bool
    offending: Any = None
    # the profile parameter that set `expected` (or the limit), e.g. "logs.retention_days": every message quotes it
    param: str | None = None
    # for `all` over items judged against one threshold: [operator, value], e.g. ["at_least", 183]
    limit: list[Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not (k in ("offending", "param", "limit") and v is None)}


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
