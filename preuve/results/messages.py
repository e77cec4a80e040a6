"""Verdict sentences, in French (the audit's language) and English: "observé … ; attendu …"."""

from __future__ import annotations

import json
from typing import Any

from preuve.judge.verdicts import Expectation

_EXPECTED = {
    "subset": ("uniquement parmi {e}", "only from {e}"),
    "excludes": ("aucun de {e}", "none of {e}"),
    "equals": ("{e}", "{e}"),
    "one_of": ("l'un de {e}", "one of {e}"),
    "at_least": ("≥ {e}", ">= {e}"),
    "at_most": ("≤ {e}", "<= {e}"),
    "non_empty": ("une valeur non vide", "a non-empty value"),
    "all": ("tous conformes", "all compliant"),
}


def show(v: Any) -> str:
    if isinstance(v, str):
        return v
    text = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


def sentence(e: Expectation, label: str, lang: str) -> str:
    i = 0 if lang == "fr" else 1
    expected = _EXPECTED[e.operator][i].format(e=show(e.expected))
    obs = show(e.observed)
    if lang == "fr":
        off = f" (non conformes : {show(e.offending)})" if e.offending is not None else ""
        return f"{label} : observé {obs}{off} ; attendu : {expected}"
    off = f" (offending: {show(e.offending)})" if e.offending is not None else ""
    return f"{label}: observed {obs}{off}; expected: {expected}"
