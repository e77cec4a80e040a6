"""Every threshold failure of the full lab scan quotes its limit and the profile parameter that set it. The
message rules without the lab: tests/unit/test_failure_messages_quote_limits.py."""

from __future__ import annotations

import re
from pathlib import Path

from preuve.inputs.params import Params
from preuve.results.messages import show

CHECKS = Path(__file__).resolve().parents[2] / "checks"


def _numeric_params() -> dict[str, float]:
    out = {}

    def walk(model, prefix):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if hasattr(value, "model_fields"):
                walk(value, f"{prefix}{name}.")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                out[prefix + name] = value

    walk(Params(), "")
    return out


def _call_text(text: str, start: int) -> str:
    """The argument text of the call whose "(" is at `start` (balanced parentheses)."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    return text[start:]


def _threshold_labels() -> set[str]:
    """Labels of `judge.each` calls whose items compare against a number (a comparison, a numeric parameter, or an
    explicit at_least=/at_most=): their failures are threshold failures."""
    numeric, out = _numeric_params(), set()
    for f in CHECKS.glob("*/check_*.py"):
        text = f.read_text()
        for m in re.finditer(r"judge\.each\(\s*\"([\w.]+)\"", text):
            call = _call_text(text, text.index("(", m.start()))
            reads = {p for p in re.findall(r"params\.(\w+\.\w+)", call) if p in numeric}
            if reads or re.search(r"[<>]=?|at_least=|at_most=", call.replace("->", "")):
                out.add(m.group(1))
    return out


def test_each_threshold_failure_names_its_limit_and_parameter(lab_run):
    thresholds = _threshold_labels()
    assert {"logs.logrotate.retention_days", "logs.journald.measured", "logs.store.retention_days"} <= thresholds
    checked = 0
    for r in lab_run.results:
        if r["status"] != "fail":
            continue
        for e in (x for x in r["expectations"] if not x["ok"]):
            bounded = e["operator"] in ("at_least", "at_most")
            if not (bounded or (e["operator"] == "all" and e["label"] in thresholds)):
                continue
            where = f"{r['check_id']}[{r['target']['name']}] {e['label']}"
            assert e.get("param"), f"{where}: no parameter named ({e})"
            if not bounded:
                assert e.get("limit"), f"{where}: items judged against a threshold but none given ({e})"
            value = e["limit"][1] if e.get("limit") else e["expected"]
            for lang in ("fr", "en"):
                msg = r["message"][lang]
                assert e["param"] in msg and show(value) in msg, f"{where} ({lang}): {msg}"
            checked += 1
    assert checked >= 5, "the lab scan has threshold failures (journald, logrotate, log stores, backups, offset)"
