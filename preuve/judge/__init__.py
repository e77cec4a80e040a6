"""Judge: checks are pytest functions of recorded observations; this package is their vocabulary.

Check authors import everything they need from here, and from here only:

    from preuve.judge import Judge, ObservationUnavailable, check

- `check`: declare a check (id, requirement elements, target kind, severity, rule); check_api.py.
- `Judge`: the `judge` fixture's type; its methods state expectations (equals, subset, at_least, each, absent...).
- `NotApplicable`: raised (or `judge.not_applicable(reason)`) when the check does not apply to this target.
- `ObservationUnavailable` (an `ObservationError`): what was needed could not be observed -> `error`, never `pass`.
- `CheckSpec`, `Expectation`, `TrackedParams`: what a check declared, stated and read (for tests and tools).
"""

from preuve.judge.check_api import (
    CheckSpec,
    Judge,
    NonCompliance,
    NotApplicable,
    ObservationUnavailable,
    TrackedParams,
    check,
)
from preuve.observe.errors import ObservationError
from preuve.results.model import Expectation

__all__ = [
    "CheckSpec",
    "Expectation",
    "Judge",
    "NonCompliance",
    "NotApplicable",
    "ObservationError",
    "ObservationUnavailable",
    "TrackedParams",
    "check",
]
