"""SARIF 2.1.0 from results.jsonl, for code scanning (GitHub, GitLab) and DefectDojo.

Rules are the checks (title, rationale, remediation as help, the SecNumCloud requirements as tags). Each result is
located at the inventory file and line that declared its target (preuve/report/locate.py), so code review
annotates the change that brought the target in. Statuses map one way:
- fail: kind `fail`, level from the severity (critical/high `error`, medium `warning`, low/info `note`);
- waived: the same non-conformity, with an `accepted` external suppression naming the waiver (a waiver accepts a
  risk: the requirement is still not met, as in OSCAL `not-satisfied`/`waived` and the CSV's `non_compliant`);
- error: kind `open` (could not be observed, neither pass nor fail), level `none`;
- pass / not_applicable: kinds `pass` / `notApplicable`, level `none`; left out unless `all_results` (a code
  scanning alert list is for what needs work, and GitHub caps a run at 25,000 results);
- manual (a requirement a person must assess): kind `review` ("requires review by a human user"), level `none`,
  left out unless `all_results` like a pass.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from preuve import __version__
from preuve.report.locate import Locator
from preuve.textsafe import deep

SARIF_FILE = "preuve.sarif"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
KIND = {
    "fail": "fail",
    "waived": "fail",
    "error": "open",
    "pass": "pass",
    "not_applicable": "notApplicable",
    "manual": "review",
}


def _artifact(file: str) -> dict[str, str]:
    """A relative path is relative to %SRCROOT% (the directory preuve ran in: the CI project root)."""
    return dict(_artifact_of(file))


@lru_cache(maxsize=64)
def _artifact_of(file: str) -> tuple[tuple[str, str], ...]:  # one inventory file: Path.as_uri once, not per result
    if file.startswith("/"):
        return (("uri", Path(file).as_uri()),)
    return (("uri", file), ("uriBaseId", "%SRCROOT%"))


# What json.dumps(ensure_ascii=False) leaves of a character textsafe.xml_text rewrites: C0 controls other than tab,
# newline and CR as \u00XX, \b or \f escapes; DEL, C1, surrogates, U+FFFE/U+FFFF as themselves. A match (or an
# escaped backslash before b/f/u00: a false alarm) sends the document through textsafe.deep first.
_MAY_NEED_XML_TEXT = re.compile(r"[\x7f-\x9f\ud800-\udfff\ufffe\uffff]|\\(?:u00[01]|[bf])")


def dumps_xml_safe(doc: Any, **kwargs: Any) -> str:
    """``json.dumps(textsafe.deep(doc), ensure_ascii=False, **kwargs)``, without copying the whole document when no
    string in it holds a character to make visible (the usual case)."""
    text = json.dumps(doc, ensure_ascii=False, **kwargs)
    if _MAY_NEED_XML_TEXT.search(text) is None:
        return text
    return json.dumps(deep(doc), ensure_ascii=False, **kwargs)


def _rule(cid: str, info: Any, sample: dict[str, Any], lang: str) -> dict[str, Any]:
    title = (info.title if info else sample["title"]).get(lang) or cid
    rationale = (info.rationale.get(lang) if info else "") or title
    remediation = (info.remediation.get(lang) if info else (sample.get("remediation") or {}).get(lang)) or ""
    reqs = list(info.spec.requirements) if info else list(sample["requirements"])
    sev = info.spec.severity if info else sample["severity"]
    rule_text = info.spec.rule if info else sample.get("rule", "")
    help_text = f"{rationale}\n\n{remediation}\n\nSecNumCloud 3.2: {', '.join(reqs) or '-'}; rule: {rule_text}"
    return {
        "id": cid,
        "name": "".join(p.capitalize() for p in cid.lower().split("-")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale},
        "help": {
            "text": help_text,
            "markdown": f"**{title}**\n\n{rationale}\n\n**Remediation.** {remediation}\n\n"
            f"SecNumCloud 3.2: {', '.join(f'`{q}`' for q in reqs) or '-'}. Rule: {rule_text}",
        },
        "defaultConfiguration": {"level": LEVEL.get(sev, "warning")},
        "properties": {
            "tags": ["security", "secnumcloud-3.2", *[f"snc-{q}" for q in reqs]],
            "security-severity": SECURITY_SEVERITY.get(sev, "5.0"),
            "precision": "high",
        },
    }


def _document(
    results: list[dict[str, Any]],
    run: dict[str, Any],
    run_dir: Path,
    lang: str = "fr",
    all_results: bool = False,
    inventory_uri: str | None = None,
) -> dict[str, Any]:
    """The SARIF document, strings as the results hold them (see `sarif`)."""
    try:
        from preuve.judge.catalogue import CatalogueError, load_catalogue

        cat = load_catalogue()
    except (ImportError, CatalogueError):  # a broken check elsewhere: rules from the results themselves
        cat = {}
    where = Locator(run_dir, run, inventory_uri)
    kept = [r for r in results if all_results or r["status"] in ("fail", "waived", "error")]
    rule_ids = sorted({r["check_id"] for r in kept})
    index = {cid: i for i, cid in enumerate(rule_ids)}
    sample = {r["check_id"]: r for r in kept}
    out = []
    for r in kept:
        t = r["target"]
        loc = where(t["kind"], t["name"])
        kind = KIND[r["status"]]
        res: dict[str, Any] = {
            "ruleId": r["check_id"],
            "ruleIndex": index[r["check_id"]],
            "kind": kind,
            "level": LEVEL.get(r["severity"], "warning") if kind == "fail" else "none",
            "message": {"text": f"{r['check_id']} [{t['name']}] {r['status']}: {r['message'][lang]}"},
            "locations": [
                {
                    "physicalLocation": {"artifactLocation": _artifact(loc.file), "region": {"startLine": loc.line}},
                    "logicalLocations": [
                        {"name": t["name"], "kind": "resource", "fullyQualifiedName": f"{t['kind']}/{t['name']}"}
                    ],
                }
            ],
            "partialFingerprints": {"preuveFinding/v1": r["finding_id"]},
            "properties": {
                "status": r["status"],
                "finding_id": r["finding_id"],
                "severity": r["severity"],
                "requirements": r["requirements"],
                "target": t,
                "evidence": r.get("evidence") or [],
            },
        }
        if r["status"] == "waived" and r.get("waiver"):
            w = r["waiver"]
            res["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{w['id']} ({w['approver']}, until {w['expires']}): {w['justification']}",
                }
            ]
        out.append(res)
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "preuve",
                        "version": run["tool"]["version"] or __version__,
                        "semanticVersion": run["tool"]["version"] or __version__,
                        "informationUri": "https://github.com/preuve/preuve",
                        "rules": [_rule(c, cat.get(c), sample[c], lang) for c in rule_ids],
                    }
                },
                "automationDetails": {"id": f"preuve/{run['profile']['id']}/{run['run_id']}"},
                "invocations": [
                    {
                        "executionSuccessful": bool((run.get("judging") or {}).get("complete", True)),
                        "startTimeUtc": run["started_at"],
                        "endTimeUtc": run["ended_at"],
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the directory preuve ran in"}}},
                "columnKind": "unicodeCodePoints",
                "results": out,
            }
        ],
    }
    return doc


def sarif(
    results: list[dict[str, Any]],
    run: dict[str, Any],
    run_dir: Path,
    lang: str = "fr",
    all_results: bool = False,
    inventory_uri: str | None = None,
) -> dict[str, Any]:
    """The SARIF document, every string made XML 1.0 (textsafe.deep: target-controlled text made visible)."""
    cleaned: dict[str, Any] = deep(_document(results, run, run_dir, lang, all_results, inventory_uri))
    return cleaned


def write_sarif(
    path: Path,
    run_dir: Path,
    lang: str = "fr",
    all_results: bool = False,
    inventory_uri: str | None = None,
    results: list[dict[str, Any]] | None = None,
) -> None:
    """``results``: results.jsonl already parsed by the caller (the end of a run parses it once for every report)."""
    if results is None:
        from preuve.results.jsonl import read_jsonl

        results = read_jsonl(run_dir / "results.jsonl")
    run = json.loads((run_dir / "run.json").read_text())
    doc = _document(results, run, run_dir, lang, all_results, inventory_uri)
    # compact, one dumps: json's C encoder (indent or dump() would use the pure-Python one, 5x slower at 40k results)
    path.write_text(dumps_xml_safe(doc, separators=(",", ":")) + "\n", encoding="utf-8")
