"""Coverage: which SecNumCloud 3.2 requirements a profile verifies automatically, partially, or not at all.

The requirement list comes from preuve/data/secnumcloud-3.2.yaml (extracted from the referential); which checks
serve a requirement comes from the checks' own declarations (`@check(requirements=[...])`), so the matrix cannot
drift from the code. Requirements no check serves are `manual`: the coverage stays honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from preuve import yamlio

LEVELS = ("automated", "partial", "manual", "out_of_scope")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    kind: str
    text: str
    automation: str | None = None  # the catalogue's claim, if any

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]


@dataclass
class Coverage:
    requirement: Requirement
    level: str
    checks: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def requirements() -> dict[str, Requirement]:
    """Every requirement id of the referential, in document order."""
    text = resources.files("preuve").joinpath("data", "secnumcloud-3.2.yaml").read_text(encoding="utf-8")
    data = yamlio.load(text)
    return {r["id"]: Requirement(**r) for r in data["requirements"]}


def requirement_text(req_id: str) -> str:
    r = requirements().get(req_id)
    return r.text if r else ""


def chapter_key(req_id: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else ord(p[0]) for p in req_id.split("."))


def coverage(check_requirements: dict[str, list[str]]) -> list[Coverage]:
    """The matrix for the given checks (check id -> requirement ids), one row per requirement."""
    served: dict[str, list[str]] = {}
    for check_id, reqs in sorted(check_requirements.items()):
        for r in reqs:
            served.setdefault(r, []).append(check_id)
    rows = []
    for req in requirements().values():
        checks = served.get(req.id, [])
        if req.automation == "out_of_scope":
            level = "out_of_scope"
        elif not checks:
            level = "manual"
        else:
            level = req.automation if req.automation in ("automated", "partial") else "partial"
        rows.append(Coverage(req, level, checks))
    return rows


def profile_checks(profile: Any) -> dict[str, list[str]]:
    """Check id -> requirement ids, for the checks the profile selects."""
    from preuve.judge.catalogue import load_catalogue

    return {
        info.id: list(info.spec.requirements)
        for info in load_catalogue().values()
        if profile.selected(info.id, list(info.spec.tags), list(info.spec.requirements))
    }


def totals(rows: list[Coverage]) -> dict[str, int]:
    return {lvl: sum(r.level == lvl for r in rows) for lvl in LEVELS}


def unknown_requirements(check_requirements: dict[str, list[str]]) -> list[str]:
    """Requirement ids used by checks that the referential does not have (a typo in a check)."""
    known = requirements()
    return sorted({r for reqs in check_requirements.values() for r in reqs if r not in known})


def as_json(rows: list[Coverage]) -> dict[str, Any]:
    return {
        "referential": {"name": "SecNumCloud", "version": "3.2"},
        "totals": totals(rows),
        "requirements": [
            {"id": c.requirement.id, "level": c.level, "checks": c.checks, "kind": c.requirement.kind}
            for c in rows
        ],
    }
