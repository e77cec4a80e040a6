"""report.html's finding sheets and results table are written by Python (a template loop over hundreds of
findings was most of the report's time): the bytes must stay those of the template loops they replace, kept
here verbatim as the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from preuve.report.coverage import requirements
from preuve.report.html import T, _result_rows, _sheets

# the template loops replaced, verbatim (the whole template they came from: report.html.j2 next to them)
LOOPS = Path(__file__).parents[1] / "fixtures" / "report-loops"
SHEETS = (LOOPS / "sheets.html.j2").read_text(encoding="utf-8")
ROWS = (LOOPS / "rows.html.j2").read_text(encoding="utf-8")

NASTY = "a<b>&c\"d'e é — \\x1b"


def _reference(template: str, **context: Any) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template, globals={"json": _json}).render(**context)


def _problem(status: str, **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "status": status,
        "finding_id": f"PV-{status}",
        "severity": "high",
        "title": {"fr": f"titre {NASTY}", "en": f"title {NASTY}"},
        "requirements": ["10.6.a", "99.9.z"],
        "rule": f"rule {NASTY}",
        "check_id": "TLS-X",
        "target": {"name": f"t{NASTY}", "kind": "tls_endpoint", "address": "198.18.0.1", "port": 443},
        "message": {"fr": f"msg {NASTY}", "en": f"msg {NASTY}"},
        "observed": {"v": [NASTY, 1, None, True], "é": 2.5},
        "expected": {"min": "1.2"},
        "evidence": [{"path": f"observations/tls/{NASTY}.json", "sha256": "0" * 64}],
        "remediation": {"fr": f"fix {NASTY}", "en": f"fix {NASTY}"},
        "waiver": None,
    }
    r.update(extra)
    return r


WAIVER = {"id": "W-1", "justification": NASTY, "approver": f"RSSI {NASTY}", "expires": "2027-01-01"}
PROBLEMS = [
    _problem("fail"),
    _problem(
        "error", evidence=[], remediation=None, target={"name": "h", "kind": "host", "address": "h", "port": None}
    ),
    _problem("waived", waiver={**WAIVER, "expired": False}, requirements=[]),
    _problem(
        "waived", waiver={**WAIVER, "expired": True}, remediation={}, target={**_problem("x")["target"], "port": 0}
    ),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("problems", [PROBLEMS, []], ids=["problems", "none"])
def test_sheets_are_the_template_loop(lang: str, problems: list[dict[str, Any]]) -> None:
    reqs = requirements()
    expected = _reference(SHEETS, problems=problems, t=T[lang], lang=lang, reqs=reqs)
    assert _sheets(problems, lang, reqs) == expected


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_result_rows_are_the_template_loop(lang: str) -> None:
    results = [*PROBLEMS, _problem("pass"), _problem("not_applicable"), _problem("manual")]
    classes = [f"row rs-{i} rc-9 rt-{i}" for i in range(len(results))]
    expected = _reference(ROWS, results=results, t=T[lang], filters={"row_class": classes})
    assert _result_rows(results, lang, classes) == expected


def _json(v: Any) -> str:
    import json

    return json.dumps(v, ensure_ascii=False, sort_keys=True)
