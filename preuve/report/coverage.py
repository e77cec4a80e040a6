"""Coverage: which SecNumCloud 3.2 requirements are evidenced by machine, in part, or left to the auditor.

The requirement list comes from preuve/data/secnumcloud-3.2.yaml (derived from the referential's text by
tools/snc_referential.py). A requirement that checks touch is split there into verifiable *elements*
(`9.6.f#1` …); each check names the elements it evidences, with one line saying what it shows
(`@check(requirements={"9.6.f#1": "…"})`). The level is computed, never declared:

- `automated`: every element of the requirement is evidenced by a check (on the scope the inventory declares);
- `partial`: some elements are, the others are listed for the auditor;
- `manual`: none is (no check, or only checks that name the requirement without saying which element they show).

For a profile, a check counts when the profile selects it. For a run (`evidenced_checks`), a check counts only
through its results that judged something: pass, fail or waived. `not_applicable` and `error` evidence nothing, and
a selected check with no target has no result at all, so its requirements are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from preuve import yamlio

LEVELS = ("automated", "partial", "manual")
JUDGED = ("pass", "fail", "waived")  # the statuses that stand behind a requirement in a run

# check id -> {element id: justification}; a bare requirement id (or a list) is a mapping without justification
CheckEvidence = Mapping[str, Mapping[str, str] | Iterable[str]]


@dataclass(frozen=True)
class Element:
    id: str
    text: str


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    kind: str
    text: str
    elements: tuple[Element, ...] = ()

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]


@dataclass
class Coverage:
    requirement: Requirement
    level: str
    checks: list[str] = field(default_factory=list)  # every check that names the requirement
    evidenced: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # element -> [(check, justification)]
    unjustified: list[str] = field(default_factory=list)  # checks naming the requirement but no element of it

    @property
    def left(self) -> list[Element]:
        """The elements no check evidences: the auditor's part."""
        return [e for e in self.requirement.elements if e.id not in self.evidenced]


@lru_cache(maxsize=1)
def requirements() -> dict[str, Requirement]:
    """Every requirement id of the referential, in document order, with its elements."""
    text = resources.files("preuve").joinpath("data", "secnumcloud-3.2.yaml").read_text(encoding="utf-8")
    data = yamlio.load(text)
    elements = data.get("elements") or {}
    out = {}
    for r in data["requirements"]:
        els = tuple(Element(e["id"], e["text"]) for e in elements.get(r["id"], []))
        bad = [e.id for e in els if not e.id.startswith(r["id"] + "#")]
        if bad:
            raise ValueError(f"secnumcloud-3.2.yaml: elements {bad} are listed under {r['id']}")
        out[r["id"]] = Requirement(r["id"], r["title"], r["kind"], r["text"], els)
    unknown = sorted(set(elements) - set(out))
    if unknown:
        raise ValueError(f"secnumcloud-3.2.yaml: elements for requirements the referential lacks: {unknown}")
    return out


def element_ids() -> dict[str, Element]:
    return {e.id: e for r in requirements().values() for e in r.elements}


def requirement_text(req_id: str) -> str:
    r = requirements().get(req_id)
    return r.text if r else ""


def chapter_key(req_id: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else ord(p[0]) for p in req_id.split("."))


def _pairs(mapping: Mapping[str, str] | Iterable[str]) -> list[tuple[str, str]]:
    if isinstance(mapping, Mapping):
        return [(str(k), str(v)) for k, v in mapping.items()]
    return [(str(k), "") for k in mapping]


def coverage(check_evidence: CheckEvidence) -> list[Coverage]:
    """The matrix for the given checks, one row per requirement of the referential."""
    known = element_ids()
    rows = {rid: Coverage(req, "manual") for rid, req in requirements().items()}
    for check_id in sorted(check_evidence):
        for key, why in _pairs(check_evidence[check_id]):
            row = rows.get(key.split("#", 1)[0])
            if row is None:
                continue
            if check_id not in row.checks:
                row.checks.append(check_id)
            if key in known and why.strip():
                row.evidenced.setdefault(key, []).append((check_id, why))
    for row in rows.values():
        row.unjustified = [c for c in row.checks if not any(c == k for v in row.evidenced.values() for k, _ in v)]
        n, done = len(row.requirement.elements), len(row.evidenced)
        row.level = "automated" if n and done == n else "partial" if done else "manual"
    return list(rows.values())


def check_evidence(specs: Iterable[Any]) -> dict[str, dict[str, str]]:
    """Check id -> {element or requirement id: justification}, from CheckSpecs."""
    out: dict[str, dict[str, str]] = {}
    for spec in specs:
        pairs = getattr(spec, "evidences", ()) or tuple((r, "") for r in spec.requirements)
        out[spec.id] = dict(pairs)
    return out


def profile_checks(profile: Any) -> dict[str, dict[str, str]]:
    """Check id -> its evidence mapping, for the checks the profile selects."""
    from preuve.judge.catalogue import load_catalogue

    return check_evidence(
        info.spec
        for info in load_catalogue().values()
        if profile.selected(info.id, list(info.spec.tags), list(info.spec.requirements))
    )


def evidenced_checks(
    results: Iterable[Mapping[str, Any]], catalogue: Mapping[str, Any] | None = None
) -> dict[str, dict[str, str]]:
    """Check id -> its evidence mapping, for the checks of a run that judged at least one target
    (a pass, fail or waived result). A check of the catalogue is mapped as declared; a check it no longer has keeps
    the requirement ids its results recorded, which justify no element."""
    judged: dict[str, list[str]] = {}
    for r in results:
        if r.get("status") in JUDGED:
            judged.setdefault(r["check_id"], list(r.get("requirements", [])))
    cat = catalogue or {}
    out: dict[str, dict[str, str]] = {}
    for cid, reqs in judged.items():
        out[cid] = check_evidence([cat[cid].spec])[cid] if cid in cat else {q: "" for q in reqs}
    return out


def totals(rows: list[Coverage]) -> dict[str, int]:
    return {lvl: sum(r.level == lvl for r in rows) for lvl in LEVELS}


def unknown_requirements(check_evidence: CheckEvidence) -> list[str]:
    """Requirement ids used by checks that the referential does not have (a typo in a check)."""
    known = requirements()
    return sorted({k.split("#", 1)[0] for m in check_evidence.values() for k, _ in _pairs(m)} - set(known))


def unknown_elements(check_evidence: CheckEvidence) -> list[str]:
    """Element ids (`x#n`) used by checks that the data file does not define."""
    known = element_ids()
    return sorted({k for m in check_evidence.values() for k, _ in _pairs(m) if "#" in k and k not in known})


def as_json(rows: list[Coverage]) -> dict[str, Any]:
    return {
        "referential": {"name": "SecNumCloud", "version": "3.2"},
        "totals": totals(rows),
        "requirements": [
            {
                "id": c.requirement.id,
                "level": c.level,
                "checks": c.checks,
                "kind": c.requirement.kind,
                "elements": [
                    {
                        "id": e.id,
                        "text": e.text,
                        "evidenced_by": [{"check": ch, "shows": why} for ch, why in c.evidenced.get(e.id, [])],
                    }
                    for e in c.requirement.elements
                ],
                "left_to_auditor": [e.id for e in c.left],
                "unjustified_checks": c.unjustified,
            }
            for c in rows
        ],
    }
