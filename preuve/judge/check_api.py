"""The vocabulary of a check: its declaration (`@check`) and its verdicts (`judge.*`).

A check is a short pure function of observations. It declares which SecNumCloud requirements it serves and
what kind of target it judges; it states expectations through the `judge` fixture, which records what was
expected, what was observed and what offends. A check that states no expectation cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from preuve.observe.errors import ObservationError
from preuve.results.model import Expectation
from preuve.severity import SEVERITIES

TargetKind = str  # a kind registered in preuve.inputs.targets (host, ssh_endpoint, tls_endpoint, ...)
Severity = Literal["critical", "high", "medium", "low", "info"]


# Every check declared so far, by the file that declares it: the catalogue reads this instead of importing the
# check modules a second time when pytest has already imported them.
DECLARED: dict[str, dict[str, CheckSpec]] = {}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    requirements: tuple[str, ...]  # requirement ids, in the order declared (the first names the JUnit class)
    target: TargetKind
    severity: Severity
    rule: str
    tags: tuple[str, ...] = ()
    module: str = ""
    # (element id such as "9.5.d#1", one line saying what this check shows of it); "" when none was given
    evidences: tuple[tuple[str, str], ...] = ()


_RESOLVED: dict[str, str] = {}  # a check module's file name -> its resolved path (its checks share it)


def _resolved(filename: str) -> str:
    """The resolved path of a declaring file, once per file (resolve() lstat()s every component)."""
    held = _RESOLVED.get(filename)
    if held is None:
        held = _RESOLVED[filename] = str(Path(filename).resolve())
    return held


def _evidences(requirements: Iterable[str] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """`{"9.5.d#1": "root cannot log in directly over SSH"}`; a bare list is accepted but justifies nothing
    (the coverage then counts no element for it, and tests/unit/test_coverage_honest.py fails on it)."""
    if isinstance(requirements, Mapping):
        return tuple((str(k), str(v)) for k, v in requirements.items())
    return tuple((str(r), "") for r in requirements)


def check(
    id: str,
    *,
    requirements: Mapping[str, str] | Iterable[str],
    target: TargetKind,
    severity: Severity,
    rule: str,
    tags: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a check. `requirements` maps each element of a SecNumCloud requirement the check evidences
    (`"9.5.d#1"`, see preuve/data/secnumcloud-3.2.yaml) to one line saying what the check shows of it.
    `rule` names the ANSSI guide rule it implements (e.g. "ANSSI-TLS R3")."""
    evidences = _evidences(requirements)
    reqs = tuple(dict.fromkeys(k.split("#", 1)[0] for k, _ in evidences))
    spec = CheckSpec(id, reqs, target, severity, rule, tuple(tags), evidences=evidences)
    if not spec.requirements and not isinstance(requirements, Mapping):
        # an explicit empty mapping is a signal that evidences no element on its own (tests list each one)
        raise ValueError(f"check {id}: at least one SecNumCloud requirement id is needed")
    if severity not in SEVERITIES:
        raise ValueError(f"check {id}: unknown severity {severity!r}")

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        declared = CheckSpec(**{**spec.__dict__, "module": func.__module__})
        func.__preuve_check__ = declared  # type: ignore[attr-defined]
        DECLARED.setdefault(_resolved(func.__code__.co_filename), {})[id] = declared
        marked: Callable[..., Any] = pytest.mark.usefixtures("target")(pytest.mark.preuve_check(id)(func))
        return marked

    return wrap


class NonCompliance(AssertionError):
    """Raised after a check returns when at least one expectation failed."""


class ObservationUnavailable(ObservationError):
    """What a check needs could not be observed (raised by a fixture, or by a check reading its facts): `error`."""


class NotApplicable(Exception):
    """The check does not apply to this target (said with a reason, reported as not_applicable)."""


def _plain(v: Any) -> Any:
    """Sets become sorted lists so that verdicts serialise deterministically."""
    if isinstance(v, (set, frozenset)):
        return sorted(v, key=str)
    if isinstance(v, tuple):
        return list(v)
    return v


class TrackedParams:
    """The profile's parameters as a check sees them, noting each leaf it reads (path, value) in `reads`, so the
    judge can name the parameter behind a threshold or an allowlist without the check repeating it."""

    __slots__ = ("_obj", "_path", "_reads")

    def __init__(self, obj: Any, reads: list[tuple[str, Any]], path: str = "") -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._obj, name)
        path = f"{self._path}.{name}" if self._path else name
        if hasattr(type(value), "model_fields"):  # a section of the profile (pydantic model)
            return TrackedParams(value, self._reads, path)
        if not callable(value):
            self._reads.append((path, value))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("profile parameters are read-only")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or a in ("", [], {}, ()):
        return False  # a flag, an unset or empty value names no threshold
    return bool(_plain(a) == _plain(b))


@dataclass
class Judge:
    """Collects the expectations of one check on one target."""

    expectations: list[Expectation] = field(default_factory=list)
    reads: list[tuple[str, Any]] = field(default_factory=list)  # parameters the check read (TrackedParams)

    def param_for(self, value: Any) -> str | None:
        """The parameter most recently read whose value is `value` (None when no read parameter has it)."""
        return next((path for path, v in reversed(self.reads) if _same(v, value)), None)

    def _add(
        self,
        label: str,
        op: str,
        expected: Any,
        observed: Any,
        ok: bool,
        offending: Any = None,
        param: str | None = None,
        limit: tuple[str, Any] | None = None,
    ) -> bool:
        if param is None:
            param = self.param_for(limit[1] if limit else expected)
        self.expectations.append(
            Expectation(
                label,
                op,
                _plain(expected),
                _plain(observed),
                ok,
                _plain(offending),
                param,
                [limit[0], _plain(limit[1])] if limit else None,
            )
        )
        return ok

    def subset(self, label: str, observed: Iterable[Any], allowed: Iterable[Any]) -> bool:
        """Everything observed must be allowed (allowlists: versions, suites, algorithms)."""
        obs, allow = list(observed), list(allowed)
        bad = [o for o in obs if o not in allow]
        return self._add(label, "subset", allow, obs, not bad, bad or None)

    def excludes(self, label: str, observed: Iterable[Any], forbidden: Iterable[Any]) -> bool:
        obs, forb = list(observed), list(forbidden)
        bad = [o for o in obs if o in forb]
        return self._add(label, "excludes", forb, obs, not bad, bad or None)

    def equals(self, label: str, observed: Any, expected: Any) -> bool:
        return self._add(label, "equals", expected, observed, observed == expected)

    def one_of(self, label: str, observed: Any, allowed: Iterable[Any]) -> bool:
        allow = list(allowed)
        return self._add(label, "one_of", allow, observed, observed in allow)

    def at_least(self, label: str, observed: float | None, minimum: float) -> bool:
        return self._add(label, "at_least", minimum, observed, observed is not None and observed >= minimum)

    def at_most(self, label: str, observed: float | None, maximum: float) -> bool:
        return self._add(label, "at_most", maximum, observed, observed is not None and observed <= maximum)

    def absent(self, label: str, why: str | None, expected: str) -> bool:
        """An observed absence (the target said the thing is not there): a failure quoting the target, not an error.

        Returns True when `why` is set, so a check stops there: `if judge.absent(...): return`."""
        if why:
            self.equals(label, f"absent: {why}", expected)
            return True
        return False

    def non_empty(self, label: str, observed: Iterable[Any]) -> bool:
        obs = list(observed)
        return self._add(label, "non_empty", "non-empty", obs, bool(obs))

    def each(
        self,
        label: str,
        items: dict[str, bool],
        observed: Any = None,
        *,
        at_least: float | None = None,
        at_most: float | None = None,
        param: str | None = None,
    ) -> bool:
        """Every named item must hold; the ones that do not are the offending ones. When each item is compared
        with one threshold, give it (`at_least=` / `at_most=`): the message then quotes it and its parameter."""
        bad = sorted(k for k, ok in items.items() if not ok)
        limit = (
            ("at_least", at_least) if at_least is not None else ("at_most", at_most) if at_most is not None else None
        )
        return self._add(
            label, "all", "all", observed if observed is not None else items, not bad, bad or None, param, limit
        )

    def not_applicable(self, reason: str) -> None:
        raise NotApplicable(reason)

    @property
    def failed(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.ok]
