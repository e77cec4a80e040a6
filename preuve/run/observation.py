"""The observation phase of a run: plan what the selected checks need, then observe it (vantage point, progress
display, engine)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

import pytest

from preuve.evidence.record import Observation
from preuve.inputs.targets import Target
from preuve.observe.engine import Request, observe
from preuve.observe.profile_params import set_params
from preuve.observe.registry import preload, prepare, registry
from preuve.observe.reveal import register_inventory
from preuve.observe.ssh.sshd_effective import set_inventory
from preuve.run.state import RunState


def plan(state: RunState, items: list[pytest.Item]) -> list[Request]:
    """One request per (collector, target name) the selected items need, with the facts they read."""
    facts: dict[tuple[str, str], set[str]] = {}
    targets: dict[tuple[str, str], Target] = {}
    fixtures, collectors = registry().fixtures, registry().collectors
    for item in items:
        if not isinstance(item, pytest.Function):  # preuve's items are check functions
            continue
        target = cast(Target, item.callspec.params["target"])
        for name in item.fixturenames:
            src = fixtures.get(name)
            if src is None or src.kind != target.kind:
                continue
            key = (src.collector, target.name)
            held = targets.get(key)
            if held is not None and (held.address, held.port) != (target.address, target.port):
                continue  # same name, other endpoint: its checks get `error` (EvidenceStore.find), never its twin's
            targets[key] = target
            facts.setdefault(key, set())
            if src.fact:
                facts[key].add(src.fact)
            item_facts = collectors[src.collector].item_facts  # e.g. check packs' `host`: the checks' own ids
            if item_facts is not None:
                facts[key].update(item_facts(item))
    return [Request(c, targets[(c, n)], tuple(sorted(facts[(c, n)]))) for (c, n) in sorted(targets)]


def _vantage(netns: str | None) -> contextlib.AbstractContextManager[Any]:
    if not netns:
        return contextlib.nullcontext()
    from preuve.observe.network.netns import enter

    return enter(netns)


def run_observations(state: RunState, requests: list[Request]) -> None:
    hosts = {t.name: t for t in state.targets["host"]}
    set_params(state.profile.params)  # observation-shaping parameters (restore-drill sample, data check)
    set_inventory(state.inventory)  # where real SSH connections come from (sshd -T -C contexts)
    register_inventory(state.inventory)  # every secret known before the first observation is stored
    planned: dict[str, int] = {}
    for r in requests:
        planned[r.collector] = planned.get(r.collector, 0) + 1
    with _vantage(state.options.netns):
        prepare(planned)  # what collectors start ahead (from the vantage point), warming up during the preloads
    preload(planned)  # the declared preloads, on the main thread before the workers
    from preuve.report.progress import PlainProgress, resolve_mode

    mode = resolve_mode(getattr(state.options, "progress", None), quiet=state.options.quiet)

    def run(on_done: Callable[[Observation], None] | None = None) -> None:
        observe(
            requests,
            state.store,
            timeout=state.timeout,
            concurrency=state.options.concurrency,
            hosts=hosts,
            on_done=on_done,
        )

    with _vantage(state.options.netns):
        if mode == "plain":
            with PlainProgress(r.target.name for r in requests) as plain:
                run(lambda obs: plain.observed(obs.target, obs.ok))
            return
        if mode == "none":
            run()
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]observe[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            transient=True,
        ) as progress:
            task = progress.add_task("", total=len(requests))

            def done(obs: Observation) -> None:
                mark = "ok" if obs.ok else f"[red]error[/] {obs.error_kind}"
                progress.update(task, advance=1, description=f"{obs.collector} {obs.target}: {mark}")

            run(done)
