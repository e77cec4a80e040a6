"""One (check, target) pair judged: what its fixtures read from the evidence store, and its result.

Shared by pytest's protocol (preuve.run.plugin: fixtures and makereport) and the direct loop (preuve.run.direct), so
both give a check the same values and conclude it with the same code.
"""

from __future__ import annotations

from typing import Any

import pytest

from preuve.evidence.canonical import dumps
from preuve.evidence.store import EvidenceMismatch, EvidenceRef
from preuve.inputs.targets import Target
from preuve.judge.check_api import Judge, NotApplicable, ObservationUnavailable
from preuve.judge.result_builder import build_result, error_result
from preuve.observe.registry import registry
from preuve.run.state import RunState

JUDGE = pytest.StashKey[Judge]()
REFS = pytest.StashKey[list[tuple[EvidenceRef, str | None, float]]]()  # evidence cited, with its time
DONE = pytest.StashKey[bool]()


_PROVIDERS: dict[str, tuple[Any, Any, frozenset[str]]] = {}  # fixture -> (registry, its provider, kinds)


def _provider(fixture: str) -> tuple[Any, frozenset[str]]:
    """The registry's provider of a fixture and the target kinds of its collector, looked up once per fixture
    (Registry.kinds walks every fixture: ~8 us, for each pair judged)."""
    reg = registry()
    held = _PROVIDERS.get(fixture)
    if held is None or held[0] is not reg:
        src = reg.fixtures[fixture]
        held = _PROVIDERS[fixture] = (reg, src, reg.kinds(src.collector))
    return held[1], held[2]


def recorded(state: RunState, node: pytest.Item, target: Target, fixture: str) -> dict[str, Any]:
    """The recorded observation (or fact) a fixture stands for; missing or failed evidence raises (-> error)."""
    src, kinds = _provider(fixture)
    if state.sweep is not None:  # still observing: this one may not be recorded yet
        state.sweep.wait((src.collector, target.name))
    try:
        found = state.store.find(src.collector, target, kinds)
    except EvidenceMismatch as exc:
        if exc.ref is not None:
            node.stash.setdefault(REFS, []).append((exc.ref, None, 0.0))
        raise ObservationUnavailable(str(exc)) from None
    if found is None:
        raise ObservationUnavailable(f"no {src.collector} observation recorded for {target.name}")
    obs, ref = found
    node.stash.setdefault(REFS, []).append((ref, obs.started_at, obs.duration_ms))
    if not obs.ok:
        raise ObservationUnavailable(obs.error or "observation failed")
    if src.fact is None:
        return obs.facts
    fact = obs.facts.get(src.fact)
    if fact is None:
        raise ObservationUnavailable(f"fact {src.fact} was not collected on {target.name}")
    if isinstance(fact, dict) and "error" in fact and len(fact) == 1:
        raise ObservationUnavailable(f"{src.fact} on {target.name}: {fact['error']}")
    found_fact: dict[str, Any] = fact
    return found_fact


def stashed(item: pytest.Item) -> tuple[list[EvidenceRef], list[tuple[str, float]]]:
    """The evidence an item read and when each observation was made (the times known)."""
    stash = item.stash.get(REFS, [])
    return [r for r, _, _ in stash], [(t, d) for _, t, d in stash if t is not None]


def conclude(state: RunState, item: pytest.Item, spec: Any, exc: BaseException | None) -> None:
    """The result of one (check, target) pair from what its setup or call raised (None: the check returned),
    appended to the run with its results.jsonl line; shared by pytest's protocol and the direct loop
    (preuve.run.direct)."""
    item.stash[DONE] = True
    if isinstance(exc, pytest.skip.Exception):
        exc = NotApplicable(str(exc))
    info = state.catalogue[spec.id]
    target: Target = item.callspec.params["target"]  # type: ignore[attr-defined]
    refs, collected = stashed(item)
    try:
        result = build_result(
            info,
            target,
            item.stash.get(JUDGE, Judge()),
            refs,
            collected,
            exc,
            waivers=state.waivers,
            judged_at=state.judged_at,
        )
        line = dumps(result.model_dump(mode="json"))  # results.jsonl must be able to hold it (no None among keys)
    except Exception as crash:  # e.g. a message that cannot be rendered: this pair is an error, the run goes on
        detail = f"{type(crash).__name__}: {crash}"
        result = error_result(
            info,
            target,
            refs,
            collected,
            f"le verdict n'a pas pu être établi : {detail}",
            f"the verdict could not be built: {detail}",
        )
    else:  # written as is into results.jsonl (the result is frozen): each record is serialised once, not twice
        state.result_lines[id(result)] = line
    state.results.append(result)
