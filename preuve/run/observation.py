"""The observation phase of a run: plan what the selected checks need, then observe it (vantage point, progress
display, engine)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest

from preuve.evidence.record import Observation
from preuve.inputs.targets import Target
from preuve.observe.engine import Request, observe
from preuve.observe.network.netns import vantage
from preuve.observe.profile_params import set_params
from preuve.observe.registry import preload, prepare, registry, warm
from preuve.observe.reveal import register_inventory
from preuve.observe.ssh.sshd_effective import set_inventory
from preuve.run.state import RunState

Key = tuple[str, str]  # (collector, target name): one observation


def reads(item: pytest.Item, fixtures: dict[str, Any] | None = None) -> list[tuple[Key, Target, Any]]:
    """The observations a selected item reads: (key, its target, the fixture's source), one per fixture."""
    callspec = getattr(item, "callspec", None)
    if not isinstance(item, pytest.Function) or callspec is None or "target" not in callspec.params:
        return []  # preuve's items are check functions, each on one target
    fixtures = registry().fixtures if fixtures is None else fixtures
    target = cast(Target | None, callspec.params["target"])
    if target is None:  # a check with no target to judge (dropped at collection)
        return []
    found = []
    for name in item.fixturenames:
        src = fixtures.get(name)
        if src is not None and src.kind == target.kind:
            found.append(((src.collector, target.name), target, src))
    return found


def plan(state: RunState, items: list[pytest.Item]) -> list[Request]:
    """One request per (collector, target name) the selected items need, with the facts they read."""
    facts: dict[Key, set[str]] = {}
    targets: dict[Key, Target] = {}
    fixtures, collectors = registry().fixtures, registry().collectors
    for item in items:
        for key, target, src in reads(item, fixtures):
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


def prepare_observations(state: RunState, requests: list[Request]) -> dict[str, int]:
    """What must happen on the main thread before any observation: the shared settings, the collectors' prepare
    hooks (from the vantage point) and their preloads (imports, before any worker thread imports)."""
    set_params(state.profile.params)  # observation-shaping parameters (restore-drill sample, data check)
    set_inventory(state.inventory)  # where real SSH connections come from (sshd -T -C contexts)
    register_inventory(state.inventory)  # every secret known before the first observation is stored
    planned = dict(Counter(r.collector for r in requests))  # observations planned per collector
    with vantage(state.options.netns):
        prepare(planned)  # what collectors start ahead (from the vantage point), warming up during the preloads
    preload(planned)  # the declared preloads, on the main thread before the workers
    return planned


def observe_all(
    state: RunState,
    requests: list[Request],
    on_done: Callable[[Observation], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Every planned observation, from the vantage point, with the progress display the options ask for."""
    hosts = {t.name: t for t in state.targets["host"]}
    from preuve.report.progress import PlainProgress, resolve_mode

    mode = resolve_mode(getattr(state.options, "progress", None), quiet=state.options.quiet)

    def run(shown: Callable[[Observation], None] | None = None) -> None:
        def done(obs: Observation) -> None:
            if shown is not None:
                shown(obs)
            if on_done is not None:
                on_done(obs)

        observe(
            requests,
            state.store,
            timeout=state.timeout,
            concurrency=state.options.concurrency,
            hosts=hosts,
            on_done=done,
            stop=stop,
        )

    with vantage(state.options.netns):
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

            def shown(obs: Observation) -> None:
                mark = "ok" if obs.ok else f"[red]error[/] {obs.error_kind}"
                progress.update(task, advance=1, description=f"{obs.collector} {obs.target}: {mark}")

            run(shown)


class Sweep:
    """The run's observations on a thread of their own, started once collection is done, so that judging begins
    with the first observation recorded instead of the last: a (check, target) pair is judged as soon as what it
    reads is recorded (preuve.run.direct orders the pairs so; preuve.run.verdict.recorded waits for it whatever
    the order). Nothing is observed earlier than before: the sweep starts where the blocking observation phase
    started, after the collection and the collectors' preparation on the main thread."""

    def __init__(self, state: RunState, requests: list[Request]) -> None:
        self.state, self.requests = state, requests
        self.keys: frozenset[Key] = frozenset((r.collector, r.target.name) for r in requests)
        self.recorded: list[Key] = []  # in the order they were recorded (append-only)
        self._done: set[Key] = set()
        self.over = False  # every observation recorded, or the sweep stopped or failed
        self.error: BaseException | None = None  # what ended the sweep's thread, if not its end
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="preuve-sweep")

    def start(self) -> Sweep:
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            observe_all(self.state, self.requests, self._record, self._stop)
        except BaseException as exc:  # surfaces as an internal error of the run (preuve.run.plugin)
            self.error = exc
        finally:
            self.state.observe_seconds = time.perf_counter() - t0
            self._end()

    def _end(self) -> None:
        with self._cond:
            self.over = True
            self._cond.notify_all()

    def _record(self, obs: Observation) -> None:  # on a worker thread, the observation already in the store
        with self._cond:
            key = (obs.collector, obs.target)
            self._done.add(key)
            self.recorded.append(key)
            self._cond.notify_all()

    def wait(self, key: Key) -> None:
        """Until the observation `key` is recorded, or the sweep is over (then whatever the store holds is it)."""
        if key in self._done or key not in self.keys:
            return
        with self._cond:
            while key not in self._done and not self.over:
                self._cond.wait()

    def wait_beyond(self, count: int) -> int:
        """Until more than `count` observations are recorded, or the sweep is over: how many are recorded."""
        with self._cond:
            while len(self.recorded) <= count and not self.over:
                self._cond.wait()
            return len(self.recorded)

    def stop(self) -> None:
        """Stop observing and wait for the sweep's thread: no evidence is recorded after this returns."""
        self._stop.set()
        self._thread.join()


def start_sweep(state: RunState, requests: list[Request]) -> Sweep:
    """Prepare (main thread), start the sweep, then let the collectors warm up on the main thread (from the
    vantage point, as they prepared) while the sweep waits for its first answers."""
    planned = prepare_observations(state, requests)
    sweep = Sweep(state, requests).start()
    with vantage(state.options.netns):
        warm(planned)
    return sweep
