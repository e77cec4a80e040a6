"""GRC exports generated from results.jsonl: OSCAL assessment-results (JSON) and the CSV CISO Assistant imports
against its SecNumCloud 3.2 framework. Deterministic: the same run gives the same bytes (UUIDv5 from the run id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from preuve import __version__, yamlio
from preuve.report.coverage import Coverage, requirements
from preuve.textsafe import deep

OSCAL_VERSION = "1.1.3"  # the vendored schema tests/fixtures/oscal-1.1.3_assessment-results_schema.json
OSCAL_FILE = "oscal-assessment-results.json"
CSV_FILE = "ciso-assistant.csv"
NS = "https://github.com/preuve/preuve/ns/oscal"  # our own props live in our namespace, not NIST's
CSV_URN = "urn:intuitem:risk:req_node:secnumcloud-3.2:{}"
CSV_COLUMNS = [
    "urn",
    "ref_id",
    "assessable",
    "name",
    "description",
    "compliance_result",
    "requirement_progress",
    "observations",
]


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def _uuid(run_id: str, *parts: str) -> str:
    """``str(uuid.uuid5(uuid.NAMESPACE_URL, name))`` without the UUID object (1,400 per 100 endpoints)."""
    name = "preuve:" + "|".join([run_id, *parts])
    h = bytearray(hashlib.sha1(_URL_NAMESPACE + name.encode(), usedforsecurity=False).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _prop(name: str, value: Any) -> dict[str, str]:
    text = " ".join(str(value).split()) or "-"
    return {"name": name, "ns": NS, "value": text}


class _Same(dict[str, Any]):
    """A part that many observations repeat (a prop such as the check or the status, the tool as origin, the
    subject, the evidence): one object per document, which _PrettyJson writes once per indentation instead of
    once per observation (most of the document's 1,200 observations at 100 endpoints)."""


class _SameList(list[Any]):
    """A list repeated the same way (see _Same)."""


def _shared_props() -> Callable[[str, Any], dict[str, str]]:
    cache: dict[tuple[str, str], _Same] = {}

    def prop(name: str, value: Any) -> dict[str, str]:
        text = " ".join(str(value).split()) or "-"
        found = cache.get((name, text))
        if found is None:
            found = cache[(name, text)] = _Same(name=name, ns=NS, value=text)
        return found

    return prop


def control_id(req: str) -> str:
    """OSCAL tokens cannot start with a digit: 10.2.c -> snc-10.2.c."""
    return f"snc-{req}"


JUDGED = ("pass", "fail", "waived")


def _finding(
    rid: str,
    req: str,
    pairs: list[tuple[dict[str, Any], str]],
    level: dict[str, str],
    shows: dict[tuple[str, str], list[str]],
    left: dict[str, list[str]],
    lang: str,
) -> dict[str, Any]:
    """One finding per control per run, aggregating every result that bears on it (never a satisfied and a
    not-satisfied finding for the same control). not-satisfied when any result fails or is waived (reason
    `waived` when every failing result is: a waiver accepts the risk, it does not meet the control); satisfied
    otherwise, with reason `partial` when the checks show only some elements of the requirement (listed, with
    those left to the auditor) or some result is an error."""
    rs = [r for r, _ in pairs]
    failing = [r for r in rs if r["status"] in ("fail", "waived")]
    errors = [r for r in rs if r["status"] == "error"]
    lvl = level.get(req, "manual")
    if failing:
        state = "not-satisfied"
        reason = "waived" if all(r["status"] == "waived" for r in failing) else "fail"
    else:
        state = "satisfied"
        reason = "automated" if lvl == "automated" and not errors else "partial"
    shown = sorted({e for r in rs if r["status"] in JUDGED for e in shows.get((r["check_id"], req), [])})
    counts = {k: sum(r["status"] == k for r in rs) for k in ("pass", "fail", "waived", "error", "not_applicable")}
    props = [
        _prop("requirement-coverage", lvl),
        *[_prop(f"results-{k.replace('_', '-')}", v) for k, v in counts.items() if v],
        *[_prop("evidences-element", e) for e in shown],
        *[_prop("left-to-auditor", e) for e in left.get(req, [])],
        *[_prop("finding-id", r["finding_id"]) for r in failing],
    ]
    for r in failing:
        if r.get("waiver"):
            w = r["waiver"]
            props.append(_prop("waiver", f"{w['id']} ({w['approver']}, {w['expires']}) {r['finding_id']}"))
    worst = failing or errors or [r for r in rs if r["status"] in JUDGED]
    desc = "\n".join(
        f"{r['finding_id']} {r['status']} {r['check_id']}[{r['target']['name']}]: {r['message'][lang]}"
        for r in worst[:50]
    )
    if len(worst) > 50:
        desc += f"\n… {len(worst) - 50} more (see the observations)"
    f: dict[str, Any] = {
        "uuid": _uuid(rid, "finding", req),
        "title": f"{req} {requirement_title(req)}".strip(),
        "description": desc,
        "props": props,
        "target": {"type": "objective-id", "target-id": control_id(req), "status": {"state": state, "reason": reason}},
        "related-observations": [{"observation-uuid": o} for _, o in pairs],
    }
    if any(r.get("waiver") for r in failing):
        f["remarks"] = "\n".join(
            f"{r['waiver']['id']}: {r['waiver']['justification']}" for r in failing if r.get("waiver")
        )
    return f


def requirement_title(req: str) -> str:
    q = requirements().get(req)
    return q.title if q else ""


def oscal(
    results: list[dict[str, Any]], run: dict[str, Any], coverage: list[Coverage], lang: str = "fr"
) -> dict[str, Any]:
    rid = run["run_id"]
    tool = _uuid(rid, "tool")
    # (check, requirement) -> the elements of the requirement that check evidences, with the coverage level: a
    # "satisfied" finding is about those elements only, never the whole requirement unless it is automated
    shows: dict[tuple[str, str], list[str]] = {}
    level = {c.requirement.id: c.level for c in coverage}
    for c in coverage:
        for element, by in c.evidenced.items():
            for check_id, _why in by:
                shows.setdefault((check_id, c.requirement.id), []).append(element)
    left = {c.requirement.id: [e.id for e in c.left] for c in coverage}
    by_control: dict[str, list[tuple[dict[str, Any], str]]] = {}
    items: dict[str, str] = {}
    observations, resources = [], []
    evidence_uuid: dict[str, str] = {}
    shared = _shared_props()
    methods, origins = _SameList(["TEST"]), _SameList([{"actors": [{"type": "tool", "actor-uuid": tool}]}])
    finding_types, objective_types = _SameList(["finding"]), _SameList(["control-objective"])
    subjects: dict[str, _SameList] = {}
    relevant: dict[tuple[tuple[str, str], ...], _SameList] = {}
    for r in results:
        t = r["target"]
        if t["name"] not in items:
            items[t["name"]] = _uuid(rid, "target", t["name"])
            subjects[t["name"]] = _SameList([{"subject-uuid": items[t["name"]], "type": "inventory-item"}])
        for ev in r["evidence"]:
            if ev["path"] not in evidence_uuid:
                evidence_uuid[ev["path"]] = _uuid(rid, "evidence", ev["path"])
                resources.append(
                    {
                        "uuid": evidence_uuid[ev["path"]],
                        "title": ev["path"],
                        "rlinks": [
                            {
                                "href": ev["path"],
                                "media-type": "application/json",
                                "hashes": [{"algorithm": "SHA-256", "value": ev["sha256"]}],
                            }
                        ],
                    }
                )
        obs_id = _uuid(rid, "observation", r["finding_id"])
        obs = {
            "uuid": obs_id,
            "title": f"{r['check_id']} [{t['name']}]",
            "description": r["message"][lang],
            "props": [
                _prop("finding-id", r["finding_id"]),
                shared("check-id", r["check_id"]),
                shared("status", r["status"]),
                shared("severity", r["severity"]),
                *[shared("requirement", q) for q in r["requirements"]],
            ],
            "methods": methods,
            "types": finding_types if r["status"] in ("fail", "waived") else objective_types,
            "origins": origins,
            "subjects": subjects[t["name"]],
            "collected": r.get("collected_at") or run["started_at"],
        }
        if r["evidence"]:
            key = tuple((ev["path"], ev["sha256"]) for ev in r["evidence"])
            if key not in relevant:
                relevant[key] = _SameList(
                    {
                        "href": f"#{evidence_uuid[path]}",
                        "description": f"{path} (sha256 {sha})",
                        "props": [shared("sha256", sha)],
                    }
                    for path, sha in key
                )
            obs["relevant-evidence"] = relevant[key]
        observations.append(obs)
        for req in r["requirements"]:
            by_control.setdefault(req, []).append((r, obs_id))
    findings = [
        _finding(rid, req, pairs, level, shows, left, lang)
        for req, pairs in by_control.items()
        if any(r["status"] in JUDGED for r, _ in pairs)
    ]  # an error or a not-applicable alone: no finding
    plan = _uuid(rid, "plan")
    # controls some result judged (pass, fail, waived): an error or a not-applicable reviewed nothing
    reviewed = sorted({q for r in results if r["status"] in ("pass", "fail", "waived") for q in r["requirements"]})
    p = run["profile"]
    result: dict[str, Any] = {
        "uuid": _uuid(rid, "result"),
        "title": f"preuve {run['tool']['version']} — {p['id']} {p['version']}",
        "description": "Automated SecNumCloud 3.2 assessment by preuve; results.jsonl is the source of truth.",
        "start": run["started_at"],
        "end": run["ended_at"],
        "props": [
            _prop("run-id", rid),
            _prop("profile-sha256", p["sha256"]),
            _prop("inventory-sha256", run["inventory"]["sha256"]),
        ],
        "local-definitions": {
            "components": [
                {
                    "uuid": tool,
                    "type": "software",
                    "title": f"preuve {run['tool']['version']}",
                    "description": "The assessment tool (open source).",
                    "status": {"state": "operational"},
                }
            ],
        },
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": control_id(q)} for q in reviewed]}
                if reviewed
                else {"include-all": {}}
            ]
        },
    }
    if items:
        result["local-definitions"]["inventory-items"] = [
            {"uuid": u, "description": name, "props": [_prop("target", name)]} for name, u in items.items()
        ]
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    resources.append(
        {
            "uuid": plan,
            "title": "Assessment plan: continuous assessment, no separate plan document",
            "rlinks": [  # the plan's two inputs, as copied into the run directory (resolvable, hashed)
                {
                    "href": "inputs/inventory.yaml",
                    "media-type": "application/yaml",
                    "hashes": [{"algorithm": "SHA-256", "value": run["inventory"]["sha256"]}],
                },
                *([{"href": f"inputs/profile/{p['file']}", "media-type": "application/yaml"}] if p.get("file") else []),
            ],
            "description": f"The plan is the profile {p['id']} {p['version']} (sha256 {p['sha256']}) and the inventory "
            f"(sha256 {run['inventory']['sha256']}), both copied under inputs/ in the run directory.",
        }
    )
    return {
        "assessment-results": {
            "uuid": _uuid(rid, "assessment-results"),
            "metadata": {
                "title": f"SecNumCloud 3.2 — {run['inventory'].get('name') or ''} — {run['started_at']}".strip(),
                "last-modified": run["ended_at"],
                "version": __version__,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"#{plan}"},
            "results": [result],
            "back-matter": {"resources": resources},
        }
    }


def write_oscal(
    path: Path, results: list[dict[str, Any]], run: dict[str, Any], coverage: list[Coverage], lang: str
) -> None:
    data = oscal(results, run, coverage, lang)
    with path.open("w", encoding="utf-8") as fh:  # streamed: at 500 hosts the document is ~40 MB, its chunks ~250 MB
        _PrettyJson(fh.write).dump(data)
        fh.write("\n")


class _PrettyJson:
    """Writes what ``json.dump(value, fh, indent=2, ensure_ascii=False)`` writes, byte for byte, 3-4x faster: the
    standard library indents in pure Python, chunk by chunk through generators (its C encoder knows no
    indentation), ~0.1 s for the 3.5 MB document of 1,200 results. Streamed too: written every ~64k pieces."""

    FLUSH = 65536

    def __init__(self, write: Callable[[str], object]) -> None:
        from json.encoder import encode_basestring  # the C function when available; ensure_ascii=False's

        self._write, self._string = write, encode_basestring
        self._out: list[str] = []
        self._memo: dict[tuple[int, str], str] = {}
        self._held = 0

    def dump(self, value: Any) -> None:
        self._emit(value, "\n")
        self._write("".join(self._out))
        self._out.clear()

    def _emit(self, o: Any, nl: str) -> None:
        """Containers; the strings in them are written in place (most of the values: no call per string)."""
        out, string = self._out, self._string
        t = type(o)
        if t is _Same or t is _SameList:  # written once per indentation, then reused (alive for the whole dump)
            text = self._memo.get((id(o), nl))
            if text is None:
                start = len(out)
                self._held += 1  # no flush while its text is being recorded
                self._emit(dict(o) if t is _Same else list(o), nl)
                self._held -= 1
                text = self._memo[(id(o), nl)] = "".join(out[start:])
                del out[start:]
            out.append(text)
        elif t is dict and o:
            inner = nl + "  "
            opening = "{" + inner
            for k, v in o.items():
                if type(k) is not str and not isinstance(k, str):
                    raise TypeError(f"OSCAL: a key that is not a string: {k!r}")
                if type(v) is str:
                    out.append(opening + string(k) + ": " + string(v))
                else:
                    out.append(opening + string(k) + ": ")
                    self._emit(v, inner)
                opening = "," + inner
            out.append(nl + "}")
        elif (t is list or t is tuple) and o:
            inner = nl + "  "
            opening = "[" + inner
            for v in o:
                if type(v) is str:
                    out.append(opening + string(v))
                else:
                    out.append(opening)
                    self._emit(v, inner)
                opening = "," + inner
                if len(out) > self.FLUSH and not self._held:
                    self._write("".join(out))
                    out.clear()
            out.append(nl + "]")
        else:
            self._other(o, nl)

    def _other(self, o: Any, nl: str) -> None:
        """Scalars, empty containers, subclasses of str/int/dict/list (as json writes them)."""
        out = self._out
        if isinstance(o, str):
            out.append(self._string(o))
        elif o is None:
            out.append("null")
        elif o is True:
            out.append("true")
        elif o is False:
            out.append("false")
        elif isinstance(o, int):
            out.append(int.__repr__(o))
        elif isinstance(o, float):
            out.append(json.dumps(o))  # NaN, Infinity as json writes them
        elif isinstance(o, dict):
            if o:
                self._emit(dict(o), nl)
            else:
                out.append("{}")
        elif isinstance(o, list | tuple):
            if o:
                self._emit(list(o), nl)
            else:
                out.append("[]")
        else:
            raise TypeError(f"OSCAL: {type(o).__name__} is not JSON")


def _ciso_verdict(rs: list[dict[str, Any]], automated: bool, lang: str) -> tuple[str, str, list[str]]:
    """(compliance_result, requirement_progress, notes) for the results that bear on one assessable node.

    `waived` is a non-conformity whose risk an approver accepted: non_compliant, the waiver named in the notes
    (the same mapping as OSCAL's not-satisfied/waived and SARIF's accepted suppression). Never `compliant` without
    a pass for every part of the node; an error or a not-applicable alone sets no result."""
    statuses = {r["status"] for r in rs}
    failing = [r for r in rs if r["status"] in ("fail", "waived")]
    notes = []
    for r in failing:
        w = r.get("waiver")
        waived = f" [waived {w['id']}, {w['approver']}, until {w['expires']}]" if w else ""
        notes.append(f"{r['finding_id']} {r['check_id']}[{r['target']['name']}]{waived}: {r['message'][lang]}")
    if failing:
        return "non_compliant", "done", notes
    if statuses <= {"error"}:  # not observed: never a pass without evidence, and the auditor's status is kept
        return "", "", [f"{r['check_id']}[{r['target']['name']}] error: {r['message'][lang]}" for r in rs]
    if statuses <= {"not_applicable"}:
        return "not_applicable", "done", notes
    passes = sum(r["status"] == "pass" for r in rs)
    if "error" in statuses or not automated:  # what was tested passes, the rest needs an auditor
        notes += [
            f"{r['check_id']}[{r['target']['name']}] error: {r['message'][lang]}" for r in rs if r["status"] == "error"
        ]
        notes.append(f"preuve: {passes} automated results pass; part of this item is left to the auditor")
        return "", "in_review", notes
    return "compliant", "done", notes


@lru_cache(maxsize=1)
def ciso_library() -> dict[str, Any]:
    """Where CISO Assistant's secnumcloud-3.2 library puts the items its own node does not let one assess."""
    text = resources.files("preuve").joinpath("data", "ciso-assistant-secnumcloud-3.2.yaml").read_text("utf-8")
    library: dict[str, Any] = yamlio.load(text)
    return library


def ciso_rows(results: list[dict[str, Any]], coverage: list[Coverage], lang: str = "fr") -> list[dict[str, str]]:
    """The rows CISO Assistant's data wizard imports into a `secnumcloud-3.2` audit (ComplianceAssessment).

    Its importer (backend/data_wizard/views.py, `_reconcile_compliance_requirements`) reads a comma CSV, skips
    every row whose `assessable` cell is falsy, finds the node by `ref_id` first, then `urn`, and writes only the
    cells that are not empty. So: one row per *assessable* node of each requirement some result bears on; the 10
    items whose library node is a non-assessable parent (9.6.f among them) get one row per assessable child, with
    an empty ref_id (the children have none, and the parent's ref_id would win); a requirement no result bears
    on gets no row, so importing into an existing audit never overwrites what the auditor assessed by hand.
    """
    by_req: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        for q in r["requirements"]:
            by_req.setdefault(q, []).append(r)
    cov = {c.requirement.id: c for c in coverage}
    split = ciso_library()["split"]
    rows = []
    for req in requirements().values():
        rs = by_req.get(req.id, [])
        if not rs:
            continue
        c = cov.get(req.id)
        evidenced = c.evidenced if c else {}
        nodes = split.get(req.id) or [{"urn": CSV_URN.format(req.id.lower()), "ref_id": req.id, "text": ""}]
        for n, node in enumerate(nodes, 1):
            node_rs, els = rs, node.get("elements")
            if els:  # the results of checks that evidence one of this node's elements
                by = {check for e in els for check, _why in evidenced.get(e, [])}
                node_rs = [r for r in rs if r["check_id"] in by or r["status"] == "error"]
                automated = all(e in evidenced for e in els)
            else:
                automated = c is not None and c.level == "automated"
            if not node_rs:
                continue
            result, progress, notes = _ciso_verdict(node_rs, automated, lang)
            if c and c.left and not els:
                notes.append("preuve: left to the auditor: " + "; ".join(f"{e.id} {e.text}" for e in c.left))
            rows.append(
                {
                    "urn": node["urn"],
                    "ref_id": node.get("ref_id", ""),
                    "assessable": "True",
                    "name": req.id if len(nodes) == 1 else f"{req.id} ({n}/{len(nodes)})",
                    "description": node["text"] or req.text,
                    "compliance_result": result,
                    "requirement_progress": progress,
                    "observations": "\n".join(notes),
                }
            )
    return rows


def write_ciso_csv(path: Path, results: list[dict[str, Any]], coverage: list[Coverage], lang: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")  # commas: its importer reads no other
    w.writeheader()
    w.writerows(deep(ciso_rows(results, coverage, lang)))  # control characters from targets made visible
    path.write_text(buf.getvalue(), encoding="utf-8")
