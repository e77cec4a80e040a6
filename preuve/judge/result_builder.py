"""Turn what happened to one pytest item into a Result: pass, fail, error, not_applicable or waived.

The rules that make preuve honest live here: a check that could not observe is `error`; a check that
stated no expectation is `error`; a crash in a check is `error`; only stated, met expectations `pass`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from preuve.evidence.store import EvidenceRef
from preuve.inputs.targets import Target
from preuve.inputs.waivers import Waiver, find_waiver
from preuve.judge.catalogue import CheckInfo
from preuve.judge.check_api import Judge, NonCompliance, NotApplicable
from preuve.observe.errors import ObservationError
from preuve.results.messages import sentences
from preuve.results.model import Evidence, Result, WaiverRef, finding_id


def build_result(
    info: CheckInfo,
    target: Target,
    judge: Judge,
    refs: list[EvidenceRef],
    collected: list[tuple[str, float]],
    exc: BaseException | None,
    *,
    waivers: list[Waiver],
    judged_at: dt.datetime,
) -> Result:
    """The result of one check on one target; a failure covered by a waiver valid at `judged_at` is `waived`."""
    status: str
    message: dict[str, str]
    if exc is None:
        if judge.expectations:
            status = "pass"
            message = _message(info, judge.expectations)
        else:
            status = "error"
            message = {
                "fr": "le contrôle n'a rien vérifié : aucune preuve, pas de conformité",
                "en": "the check stated no expectation: no evidence, no pass",
            }
    elif isinstance(exc, NonCompliance):
        status = "fail"
        message = _message(info, judge.failed)
    elif isinstance(exc, NotApplicable):
        status = "not_applicable"
        message = {"fr": f"non applicable : {exc}", "en": f"not applicable: {exc}"}
    elif isinstance(exc, ObservationError):
        status = "error"
        message = {"fr": f"observation impossible : {exc}", "en": f"could not observe: {exc}"}
    else:
        status = "error"
        detail = f"{type(exc).__name__}: {exc}"
        message = {
            "fr": f"le contrôle n'a pas pu juger : {detail}",
            "en": f"the check could not judge: {detail}",
        }

    waiver_ref = None
    if status == "fail":
        active, expired = find_waiver(waivers, info.id, target.name, judged_at)
        w = active or expired
        if w is not None:
            waiver_ref = WaiverRef(
                id=w.id,
                approver=w.approver,
                justification=w.justification,
                expires=w.expires.isoformat().replace("+00:00", "Z"),
                expired=active is None,
            )
            if active is not None:
                status = "waived"

    return Result(
        **_identity(info, target, refs, collected),
        status=status,
        expected={e.label: e.expected for e in judge.expectations},
        observed={e.label: e.observed for e in judge.expectations},
        expectations=[e.as_dict() for e in judge.expectations],
        message=message,
        remediation=info.remediation if status in ("fail", "waived") else None,
        waiver=waiver_ref,
    )


def _message(info: CheckInfo, expectations: list[Any]) -> dict[str, str]:
    """The verdict's sentences, one per expectation, in both languages."""
    pairs = [sentences(e, info.label(e.label, "fr"), info.label(e.label, "en")) for e in expectations]
    return {"fr": "; ".join(fr for fr, _ in pairs), "en": "; ".join(en for _, en in pairs)}


def error_result(
    info: CheckInfo, target: Target, refs: list[EvidenceRef], collected: list[tuple[str, float]], fr: str, en: str
) -> Result:
    """An `error` record built without the check's own data (which may be what crashed)."""
    return Result(
        **_identity(info, target, refs, collected),
        status="error",
        expected={},
        observed={},
        expectations=[],
        message={"fr": fr, "en": en},
        remediation=None,
    )


def _identity(
    info: CheckInfo, target: Target, refs: list[EvidenceRef], collected: list[tuple[str, float]]
) -> dict[str, Any]:
    """What every result of this check on this target carries, whatever the verdict: who, what, on which evidence,
    observed when (``collected``: the (started_at, duration_ms) of each observation read)."""
    latest = max(collected, default=(None, None))
    return {
        "finding_id": finding_id(info.id, target.name),
        "check_id": info.id,
        "title": info.title,
        "requirements": list(info.spec.requirements),
        "rule": info.spec.rule,
        "severity": info.spec.severity,
        "target": target.describe(),
        "evidence": [Evidence(path=r.path, sha256=r.sha256) for r in sorted(set(refs))],
        "collected_at": latest[0],
        "duration_ms": round(sum(d for _, d in collected), 1) if collected else None,
    }
