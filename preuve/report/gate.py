"""CI gating: `--fail-on SEVERITY` makes only failures at or above that severity non-compliant (exit 1).

Lesser failures stay `fail` in results.jsonl, JUnit and the summary (nothing is hidden); they only stop gating
the pipeline. Errors still make the run incomplete (exit 2): a target that could not be observed is never
compliance, whatever the threshold.
"""

from __future__ import annotations

from preuve.exitcodes import Exit
from preuve.results.model import Result
from preuve.severity import SEVERITIES


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def gate(code: Exit, results: list[Result], fail_on: str | None) -> Exit:
    """The exit code once the severity threshold is applied (unchanged without a threshold)."""
    if fail_on is None or code != Exit.NON_COMPLIANT:
        return code
    if any(r.status == "fail" and at_or_above(r.severity, fail_on) for r in results):
        return Exit.NON_COMPLIANT
    return Exit.INCOMPLETE if any(r.status == "error" for r in results) else Exit.COMPLIANT
