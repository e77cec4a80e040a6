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


def _expected_texts(e: Expectation) -> tuple[str, str]:
    """What was expected (French, English), with the limit each item is held to and the profile parameter that
    set it."""
    limit = getattr(e, "limit", None)
    if e.operator == "all" and limit:
        shown, forms = show(limit[1]), _EACH[limit[0]]
    else:
        shown, forms = show(e.expected), _EXPECTED[e.operator]
    param = getattr(e, "param", None)
    return (
        forms[0].format(e=shown) + (_PARAM[0].format(p=param) if param else ""),
        forms[1].format(e=shown) + (_PARAM[1].format(p=param) if param else ""),
    )


def sentence(e: Expectation, label: str, lang: str) -> str:
    return sentences(e, label, label)[0 if lang == "fr" else 1]


def sentences(e: Expectation, label_fr: str, label_en: str) -> tuple[str, str]:
    """The expectation's sentence in French and in English; each value is shown (serialised) once for both."""
    expected_fr, expected_en = _expected_texts(e)
    obs = show(e.observed)
    offending = show(e.offending) if e.offending is not None else None
    off_fr = f" (non conformes : {offending})" if offending is not None else ""
    off_en = f" (offending: {offending})" if offending is not None else ""
    return (
        f"{label_fr} : observé {obs}{off_fr} ; attendu : {expected_fr}",
        f"{label_en}: observed {obs}{off_en}; expected: {expected_en}",
    )
