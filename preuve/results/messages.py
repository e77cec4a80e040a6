"""Verdict sentences, in French (the audit's language) and English: "observé … ; attendu …"."""

from __future__ import annotations

import json
from typing import Any

from preuve.results.model import Expectation

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
    try:
        text = json.dumps(v, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):  # keys that cannot be sorted (None among strings) or encoded: still say it
        text = repr(v)
    return text if len(text) <= 300 else text[:297] + "..."


_EACH = {"at_least": ("tous ≥ {e}", "all >= {e}"), "at_most": ("tous ≤ {e}", "all <= {e}")}
_PARAM = (" (paramètre {p})", " (parameter {p})")


def expected_text(e: Expectation, lang: str) -> str:
    """What was expected, with the limit each item is held to and the profile parameter that set it."""
    i = 0 if lang == "fr" else 1
    limit = getattr(e, "limit", None)
    if e.operator == "all" and limit:
        text = _EACH[limit[0]][i].format(e=show(limit[1]))
    else:
        text = _EXPECTED[e.operator][i].format(e=show(e.expected))
    param = getattr(e, "param", None)
    return text + (_PARAM[i].format(p=param) if param else "")


def sentence(e: Expectation, label: str, lang: str) -> str:
    expected = expected_text(e, lang)
    obs = show(e.observed)
    if lang == "fr":
        off = f" (non conformes : {show(e.offending)})" if e.offending is not None else ""
        return f"{label} : observé {obs}{off} ; attendu : {expected}"
    off = f" (offending: {show(e.offending)})" if e.offending is not None else ""
    return f"{label}: observed {obs}{off}; expected: {expected}"
