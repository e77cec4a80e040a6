"""Crosswalk to Prowler's SecNumCloud 3.2 compliance ids, so that a provider can merge preuve's host and network
evidence with Prowler's cloud-API evidence requirement by requirement.

Prowler (prowler/compliance/<provider>/secnumcloud_3.2_<provider>.json) gives one requirement per *section*
("9.6", "11.2", "18.2"), the same 92 ids for every provider; preuve judges lettered items ("9.6.f", "11.2.1.a").
A preuve item belongs to the section of its first two numbers: 9.6.f -> 9.6, 11.2.1.a and 11.2.2.j -> 11.2,
18.2.1.b -> 18.2. Status per section, in Prowler's words: FAIL when a result fails (a waived one too, marked
`muted`, Prowler's word for an accepted finding), PASS when every judged result passes, MANUAL when nothing was
judged (errors and not-applicable only). A PASS speaks only for the items listed, never for the whole section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROWLER_FILE = "prowler-secnumcloud-3.2.json"


def prowler_id(req: str) -> str:
    """'11.2.1.a' -> '11.2'."""
    return ".".join(req.split(".")[:2])


def crosswalk(results: list[dict[str, Any]]) -> dict[str, Any]:
    sections: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for r in results:
        for q in r["requirements"]:
            sections.setdefault(prowler_id(q), []).append((q, r))
    rows = []
    for sid in sorted(sections, key=lambda s: tuple(int(x) for x in s.split("."))):
        pairs = sections[sid]
        once = list({r["finding_id"]: r for _, r in pairs}.values())  # a result serving 9.6.d and 9.6.h: once
        st = [r["status"] for r in once]
        failing = [r for r in once if r["status"] in ("fail", "waived")]
        status = "FAIL" if failing else "PASS" if "pass" in st else "MANUAL"
        rows.append(
            {
                "Id": sid,
                "Status": status,
                "Muted": bool(failing) and all(r["status"] == "waived" for r in failing),
                "PreuveRequirements": sorted({q for q, _ in pairs}, key=lambda q: q.split(".")),
                "Counts": {k: st.count(k) for k in ("pass", "fail", "waived", "error", "not_applicable") if k in st},
                "Findings": sorted(
                    {f"{r['finding_id']} {r['status']} {r['check_id']}[{r['target']['name']}]" for r in failing}
                ),
            }
        )
    return {
        "Framework": "SecNumCloud",
        "Version": "3.2",
        "Tool": "preuve",
        "Crosswalk": "preuve item X.Y.z belongs to Prowler requirement X.Y (secnumcloud_3.2_<provider>.json)",
        "Requirements": rows,
    }


def write_prowler(path: Path, results: list[dict[str, Any]]) -> None:
    from preuve.report.sarif import dumps_xml_safe

    path.write_text(dumps_xml_safe(crosswalk(results), indent=1) + "\n", encoding="utf-8")
