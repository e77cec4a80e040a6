"""The observation phase of a run: plan what the selected checks need, then observe it (vantage point, progress
display, engine)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from preuve.evidence.record import Observation
from preuve.inputs.targets import Target
from preuve.observe.engine import Request, observe
from preuve.observe.profile_params import set_params
from preuve.observe.reveal import register_inventory
from preuve.observe.sources import SOURCES
from preuve.observe.ssh.sshd_effective import set_inventory
from preuve.run.state import RunState

# Packages the collectors import, loaded here on the main thread before the pool starts. CPython 3.11's import
# deadlock detection can hand a thread a half-initialised module when several threads import intertwined packages
# at once (seen on a cold virtualenv: "module 'requests' has no attribute 'RequestException'" in two collectors).
PRELOAD = {
    "tls": (
        "preuve.observe.tls.prober",
        "preuve.observe.tls.session",
        "nassl.ssl_client",
        "nassl.legacy_ssl_client",
        "cryptography.x509",
        "cryptography.x509.verification",
    ),
    "web_mfa": ("preuve.observe.identity.web_mfa",),
    "oidc": ("preuve.observe.identity.oidc",),
    "log_store": ("preuve.observe.logs.stores", "requests", "yaml", "boto3", "botocore.exceptions"),
    "s3_bucket": ("boto3", "botocore.config", "botocore.exceptions"),
    "s3_endpoint": ("boto3", "botocore.config", "botocore.exceptions"),
    "kubernetes": ("kubernetes.client", "kubernetes.config", "urllib3"),
    "ssh_host": ("paramiko",),
    "ssh_mfa": ("paramiko",),
    "ssh_lockout": ("paramiko",),
    "host_commands": ("paramiko", "testinfra.host", "testinfra.modules", "preuve.observe.host.testinfra_host"),
}


def plan(state: RunState, items: list[pytest.Item]) -> list[Request]:
    """One request per (collector, target name) the selected items need, with the facts they read."""
    facts: dict[tuple[str, str], set[str]] = {}
    targets: dict[tuple[str, str], Target] = {}
    for item in items:
        target: Target = item.callspec.params["target"]  # type: ignore[attr-defined]
        for name in item.fixturenames:
            src = SOURCES.get(name)
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
            if src.collector == "host_commands":  # check packs' `host`: the collector replays these checks' commands
                from preuve.observe.host.testinfra_host import FUNCTIONS

                spec = item.function.__preuve_check__  # type: ignore[attr-defined]
                FUNCTIONS[spec.id] = item.function  # type: ignore[attr-defined]
                facts[key].add(spec.id)
    return [Request(c, targets[(c, n)], tuple(sorted(facts[(c, n)]))) for (c, n) in sorted(targets)]


def preload(collectors: set[str]) -> None:
    import importlib

    for name in sorted({m for c in collectors for m in PRELOAD.get(c, ())}):
        importlib.import_module(name)


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
    preload({r.collector for r in requests})
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
