"""Run the observation plan of a preuve run: the vantage point, the progress display, the engine."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from preuve.evidence.record import Observation
from preuve.judge.session import RunState
from preuve.observe.engine import observe
from preuve.observe.profile_params import set_params


def _vantage(netns: str | None) -> contextlib.AbstractContextManager[Any]:
    if not netns:
        return contextlib.nullcontext()
    from preuve.lab.netns import enter

    return enter(netns)


def run_observations(state: RunState, requests: list[Any]) -> None:
    hosts = {t.name: t for t in state.targets["host"]}
    set_params(state.profile.params)  # observation-shaping parameters (restore-drill sample, data check)
    show = not state.options.quiet and sys.stderr.isatty()
    with _vantage(state.options.netns):
        if not show:
            observe(
                requests,
                state.store,
                timeout=state.timeout,
                concurrency=state.options.concurrency,
                hosts=hosts,
            )
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

            observe(
                requests,
                state.store,
                timeout=state.timeout,
                concurrency=state.options.concurrency,
                hosts=hosts,
                on_done=done,
            )
