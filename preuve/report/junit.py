"""junit.xml generated from results.jsonl, for CI systems (GitLab, GitHub reporters, Jenkins).

Written with ElementTree rather than junit-xml: junit-xml 1.9 is unmaintained and cannot write what we need
(per-case metadata), and the Jenkins junit-10.xsd allows no <properties> inside <testcase>. So:
- classname + name are unique per (requirement, check, target), because GitLab keeps only the first of a pair;
- the French verdict "observé / attendu" is the failure text (GitLab ignores the message attribute);
- per-case metadata and evidence (path + sha256) go to <system-out> as [[PROPERTY|k=v]] / [[ATTACHMENT|path]]
  lines (read by Jenkins' junit-attachments and Testmo); run-level facts are <testsuite><properties>.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from preuve.judge.catalogue import requirement_chapter
from preuve.report.gc_pause import gc_paused
from preuve.report.locate import Locator, Where, run_prefix
from preuve.results.model import Result
from preuve.textsafe import xml_text

CHAPTERS = {
    "5": "Politiques de sécurité et gestion du risque",
    "6": "Organisation de la sécurité",
    "7": "Sécurité des ressources humaines",
    "8": "Gestion des actifs",
    "9": "Contrôle d'accès",
    "10": "Cryptologie",
    "11": "Sécurité physique",
    "12": "Sécurité liée à l'exploitation",
    "13": "Sécurité des communications",
    "14": "Acquisition, développement et maintenance",
    "15": "Relations avec les tiers",
    "16": "Gestion des incidents",
    "17": "Continuité d'activité",
    "18": "Conformité",
    "19": "Exigences supplémentaires",
}


def _first(r: Result) -> str:
    """The requirement that names the case's class: the check's first; a signal check that evidences no requirement
    on its own (`requirements={}`) gets its own class and suite."""
    return r.requirements[0] if r.requirements else NO_REQUIREMENT


NO_REQUIREMENT = "hors-exigence"


def _case(r: Result, prefix: str = "", where: Where | None = None) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"secnumcloud.{_first(r)}",
            "name": f"{r.check_id}[{r.target['name']}]",
            "time": f"{(r.duration_ms or 0) / 1000:.3f}",
        },
    )
    if where:  # the inventory line that declared the target (GitLab, mikepenz/action-junit-report read them)
        case.set("file", where.file)
        case.set("line", str(where.line))
    fr, en = r.message["fr"], r.message["en"]
    if r.status == "fail":
        el = ET.SubElement(case, "failure", {"type": "NonConformite", "message": fr})
        el.text = f"{fr}\n{en}\nRemédiation : {(r.remediation or {}).get('fr', '')}"
    elif r.status == "error":
        el = ET.SubElement(case, "error", {"type": "ObservationImpossible", "message": fr})
        el.text = f"{fr}\n{en}"
    elif r.status in ("not_applicable", "waived", "manual"):
        if r.status == "waived" and r.waiver:  # a non-conformity whose risk is accepted: not met, not a failure
            msg = (
                f"DEROGATION {r.waiver.id} (exp. {r.waiver.expires}, {r.waiver.approver}) : non-conformité "
                f"acceptée : {fr}"
            )
        else:
            msg = f"{'NA' if r.status == 'not_applicable' else 'MANUEL'}: {fr}"
        ET.SubElement(case, "skipped", {"message": msg}).text = msg
    out = [
        f"{r.status.upper()} {r.check_id} sur {r.target['name']} : {fr}",
        f"Exigences SecNumCloud : {', '.join(r.requirements) or 'aucune (signal)'} ; règle : {r.rule} ; "
        f"sévérité : {r.severity}",
    ]
    props = {
        "finding.id": r.finding_id,
        "check.id": r.check_id,
        "req.ids": ",".join(r.requirements),
        "target.name": r.target["name"],
        "target.kind": r.target["kind"],
        "target.address": r.target["address"],
        "severity": r.severity,
        "status": r.status,
        "collected_at": r.collected_at or "",
    }
    if r.waiver:
        props["waiver.id"] = r.waiver.id
    out += [f"[[PROPERTY|{k}={v}]]" for k, v in props.items()]
    # GitLab keeps the first attachment only, resolved against the project directory; Jenkins' junit-attachments
    # resolves against the workspace: both need the run directory in the path (`prefix`)
    for ev in r.evidence:
        out += [f"[[ATTACHMENT|{prefix}{ev.path}]]", f"[[PROPERTY|evidence.sha256={ev.path}:{ev.sha256}]]"]
    ET.SubElement(case, "system-out").text = "\n".join(out)
    return case


def _xml_safe(root: ET.Element) -> None:
    """Every text and attribute made XML 1.0 (target-controlled text: banners, subjects, role names, waivers)."""
    for el in root.iter():
        el.text = xml_text(el.text) if el.text else el.text
        el.tail = xml_text(el.tail) if el.tail else el.tail
        for k, v in el.attrib.items():
            el.attrib[k] = xml_text(v)


def _instant(s: str | None) -> float | None:
    if not s:
        return None
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _span(cases: list[Result], start: float | None, end: float | None) -> float:
    """Wall-clock seconds from the first case's observation to the last one's end, within the run: checks run
    concurrently, so the sum of case times can exceed the run's duration, a suite's span cannot."""
    if start is None or end is None:
        return sum((r.duration_ms or 0) for r in cases) / 1000
    spans = [(b, b + (r.duration_ms or 0) / 1000) for r in cases if (b := _instant(r.collected_at)) is not None]
    if not spans:
        return 0.0
    return max(0.0, min(max(e for _, e in spans), end) - max(min(b for b, _ in spans), start))


def write_junit(
    results: list[Result],
    path: Path,
    run: dict[str, Any],
    *,
    prefix: str | None = None,
    run_dir: Path | None = None,
    inventory_uri: str | None = None,
    strict: bool = False,
) -> None:
    """`prefix` goes before each evidence path of [[ATTACHMENT|…]] (default: the run directory relative to the
    current directory, the CI project root). `strict`: only what Jenkins' junit-10.xsd allows (its xunit plugin
    validates against it), so no `file`/`line` on cases and no `skipped` on the root."""
    with gc_paused():  # see gc_pause.py
        _write_junit(results, path, run, prefix, run_dir, inventory_uri, strict)


def _write_junit(
    results: list[Result],
    path: Path,
    run: dict[str, Any],
    prefix: str | None,
    run_dir: Path | None,
    inventory_uri: str | None,
    strict: bool,
) -> None:
    run_dir = run_dir or path.parent
    prefix = run_prefix(run_dir) if prefix is None else prefix
    where = None if strict else Locator(run_dir, run, inventory_uri)
    start, end = _instant(run.get("started_at")), _instant(run.get("ended_at"))
    by_chapter: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_chapter[requirement_chapter(_first(r))].append(r)
    root = ET.Element("testsuites", {"name": f"preuve {run['profile']['id']} {run['profile']['version']}"})
    if start is not None and end is not None:
        root.set("time", f"{max(0.0, end - start):.3f}")  # the run's own duration, as run.json records it
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    waived = sum(r.status == "waived" for r in results)
    for chapter in sorted(by_chapter, key=lambda c: int(c) if c.isdigit() else 99):
        cases = by_chapter[chapter]
        counts = {
            "tests": len(cases),
            "failures": sum(r.status == "fail" for r in cases),
            "errors": sum(r.status == "error" for r in cases),
            "skipped": sum(r.status in ("not_applicable", "waived", "manual") for r in cases),
        }
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": f"SecNumCloud 3.2 — {chapter}. {CHAPTERS.get(chapter, '')}".strip(),
                **{k: str(v) for k, v in counts.items()},
                "time": f"{_span(cases, start, end):.3f}",
                "timestamp": run["started_at"],
                "hostname": run["scanner"]["hostname"],
                "id": chapter,
                "package": "secnumcloud-3.2",
            },
        )
        props = ET.SubElement(suite, "properties")
        for k, v in (
            ("run.waived", waived),  # failures hidden by waivers: in every suite, where CI shows properties
            ("run.id", run["run_id"]),
            ("tool.version", run["tool"]["version"]),
            ("profile.id", run["profile"]["id"]),
            ("profile.version", run["profile"]["version"]),
            ("profile.sha256", run["profile"]["sha256"]),
            ("inventory.sha256", run["inventory"]["sha256"]),
        ):
            ET.SubElement(props, "property", {"name": k, "value": str(v)})
        for r in cases:
            suite.append(_case(r, prefix, where(r.target["kind"], r.target["name"]) if where else None))
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        if k != "skipped" or not strict:
            root.set(k, str(v))
    _xml_safe(root)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
