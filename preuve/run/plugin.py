"""The pytest plugin: checks are pytest functions, parametrized over inventory targets, judged on evidence.

Registered as a `pytest11` entry point, inert unless `--preuve-inventory` (or `--preuve-replay`) is given, so
`pytest checks/ --preuve-inventory inv.yaml --preuve-profile p.yaml` and `preuve run` are the same thing.
Order of events: inputs validated (configure) -> items parametrized and selected by the profile ->
observations planned from the selected items and collected once (collection_finish) -> each check judges
from the store (fixtures) -> results, JUnit, run.json, manifest (sessionfinish).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

from preuve.exitcodes import Exit
from preuve.inputs.errors import InputError
from preuve.inputs.targets import Target
from preuve.judge.check_api import Judge, NonCompliance, TrackedParams
from preuve.judge.result_builder import build_result, error_result
from preuve.observe.registry import registry
from preuve.run.observation import plan, start_sweep
from preuve.run.state import Options, RunState, copy_inputs, open_run
from preuve.run.verdict import DONE, JUDGE, conclude, recorded, stashed
from preuve.severity import SEVERITIES

STATE = pytest.StashKey[RunState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("preuve", "preuve: SecNumCloud evidence")
    g.addoption("--preuve-inventory", help="inventory YAML (activates preuve)")
    g.addoption("--preuve-profile", help="profile YAML")
    g.addoption("--preuve-waivers", help="waivers (dérogations) YAML")
    g.addoption("--preuve-out", help="run directory to write (default: reports/run-<UTC time>)")
    g.addoption("--preuve-replay", help="re-judge the observations recorded in this run directory, offline")
    g.addoption("--preuve-netns", help="run the scan inside this network namespace (the lab)")
    g.addoption("--preuve-concurrency", type=int, default=32, help="observations in flight at once")
    g.addoption("--preuve-timeout", type=float, help="seconds per network operation")
    g.addoption("--preuve-lang", default="fr", choices=["fr", "en"], help="language of the terminal summary")
    g.addoption("--preuve-select", action="append", default=[], help="only these check ids (globs)")
    g.addoption("--preuve-quiet", action="store_true", help="no progress display")
    g.addoption(
        "--preuve-progress",
        choices=["auto", "bar", "plain", "none"],
        help="progress on stderr: bar on a terminal, plain lines in CI logs (auto)",
    )
    g.addoption("--preuve-shard", help="judge only shard i of n (i/n, 1-based; stable hash of the target name)")
    g.addoption("--preuve-only", action="append", default=None, help="only targets with this name (glob)")
    g.addoption("--preuve-targets-file", help="only the targets named in this file (one per line)")
    g.addoption("--preuve-fail-on", choices=list(SEVERITIES), help="exit 1 only for failures at/above this")
    from preuve.run.audit_options import add_audit_options

    add_audit_options(g)  # sampling, previous run, ledger, signing key, live replay


def _options(config: pytest.Config) -> Options | None:
    opt = config.getoption
    replay = opt("--preuve-replay")
    inventory = opt("--preuve-inventory")
    if not inventory and not replay:
        return None
    profile = opt("--preuve-profile")
    if replay:
        src = Path(replay)
        inventory = inventory or src / "inputs" / "inventory.yaml"
        if not profile:
            import json

            try:
                leaf = json.loads((src / "run.json").read_text())["profile"]["file"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                pytest.exit(
                    f"preuve judge: {src}/run.json names no profile ({type(exc).__name__})",
                    returncode=int(Exit.INTEGRITY),
                )
            if not isinstance(leaf, str) or "/" in leaf or "\\" in leaf or leaf.startswith("."):
                pytest.exit(
                    f"preuve judge: {src}/run.json names a profile file outside inputs/profile/",
                    returncode=int(Exit.INTEGRITY),
                )
            profile = src / "inputs" / "profile" / leaf
    if not profile:
        raise pytest.UsageError("--preuve-profile is required")
    out = opt("--preuve-out") or f"reports/run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    waivers = opt("--preuve-waivers")
    if replay and not waivers and (Path(replay) / "inputs" / "waivers.yaml").exists():
        waivers = Path(replay) / "inputs" / "waivers.yaml"
    return Options(
        inventory=Path(inventory),
        profile=Path(profile),
        out=Path(out),
        waivers=Path(waivers) if waivers else None,
        replay=Path(replay) if replay else None,
        netns=opt("--preuve-netns"),
        concurrency=opt("--preuve-concurrency"),
        timeout=opt("--preuve-timeout"),
        lang=opt("--preuve-lang"),
        select=opt("--preuve-select"),
        quiet=opt("--preuve-quiet"),
        progress=opt("--preuve-progress"),
        argv=list(config.invocation_params.args),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "preuve_check(id): a preuve check")
    config.addinivalue_line("markers", "preuve_no_target: placeholder of a check with no target to judge (dropped)")
    replay = config.getoption("--preuve-replay")
    admitted = _admit_recorded(Path(replay)) if replay else None
    options = _options(config)
    if options is None:
        return
    try:
        state = open_run(options)
    except InputError as exc:
        sys.stderr.write("preuve: invalid input, nothing was scanned:\n")
        for p in exc.problems:
            sys.stderr.write(f"  {p}\n")
        pytest.exit("invalid input", returncode=int(Exit.INVALID_INPUT))
    if options.out.exists() and any(options.out.iterdir()):
        pytest.exit(f"preuve: run directory {options.out} exists and is not empty", returncode=int(Exit.USAGE))
    if options.netns and not Path("/run/netns", options.netns).exists():
        pytest.exit(
            f"preuve: network namespace {options.netns} does not exist (for the lab: preuve lab up)",
            returncode=int(Exit.USAGE),
        )
    options.out.mkdir(parents=True, exist_ok=True)
    # Plain `pytest checks/ --preuve-...` may pick another ini file (option values count as paths when pytest
    # looks for its rootdir): make sure check modules and functions are collected whatever the ini says.
    config.addinivalue_line("python_files", "check_*.py")
    config.addinivalue_line("python_functions", "check_*")
    from preuve.run.audit_options import configure_audit

    configure_audit(config, state)
    _configure_scope(config, state)
    state.admitted_evidence = admitted
    config.stash[STATE] = state
    from preuve.run.host_fixture import HostFixture

    # after testinfra's plugin: ours wins
    config.pluginmanager.register(HostFixture(_evidence), "preuve-host-fixture")
    from preuve.run.direct import DirectLoop

    config.pluginmanager.register(DirectLoop(state), "preuve-direct-loop")  # judging without per-item protocol
    config.option.tbstyle = "line"  # verdicts carry their own messages: skip the AST-parsed tracebacks (~30 ms each)
    _terminate_as_interrupt()


def _admit_recorded(src: Path) -> dict[str, str]:
    """Re-judging reads only what the recorded run vouches for: its manifest must hold (every entry, hidden ones
    included, no symbolic link) and each result's evidence must be the file the manifest lists, with the same
    sha256. Anything else refuses the re-judging (exit 5) before a run directory is created."""
    from preuve.evidence.verify import admit_for_judging

    if not Path(src).is_dir():
        pytest.exit(f"preuve judge: {src}: not a run directory", returncode=int(Exit.INVALID_INPUT))
    admitted, problems = admit_for_judging(Path(src))
    if problems:
        sys.stderr.write(f"preuve judge: {src} cannot be re-judged: its evidence is not what it recorded:\n")
        for p in problems:
            sys.stderr.write(f"  {p}\n")
        pytest.exit("evidence refused", returncode=int(Exit.INTEGRITY))
    return admitted


def _configure_scope(config: pytest.Config, state: RunState) -> None:
    """--shard / --only / --targets-file / --fail-on, kept in the run state (run.json records them)."""
    from preuve.judge.scope import build_scope, unmatched_names

    opt = config.getoption
    try:
        scope = build_scope(opt("--preuve-shard"), opt("--preuve-only"), opt("--preuve-targets-file"))
    except (ValueError, OSError) as exc:
        pytest.exit(f"preuve: {exc}", returncode=int(Exit.USAGE))
    for name in unmatched_names(scope, state.targets):
        sys.stderr.write(f"preuve: --only/--targets-file: no inventory target matches {name!r}\n")
    state.scope = scope
    state.fail_on = opt("--preuve-fail-on")
    described = scope.describe() or {}
    if state.fail_on:
        described["fail_on"] = state.fail_on
    state.scope_record = described or None


def _terminate_as_interrupt() -> None:
    """SIGTERM (Kubernetes, systemd, CI cancel) ends the run like Ctrl-C: partial but valid reports."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean finish, not a second interrupt mid-report
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def _state(config: pytest.Config) -> RunState | None:
    return config.stash.get(STATE, None)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> list[pytest.Item] | None:
    """A check the profile (or --select) leaves out becomes no item at all: building, parametrizing and dropping
    items for the ~130 checks a narrow profile skips was ~20 ms of every run's start."""
    spec = getattr(obj, "__preuve_check__", None)
    state = _state(collector.config)
    if spec is None or state is None or _wanted(state, spec):
        return None  # pytest's own collection
    state.deselected_by_profile += 1
    return []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = _state(metafunc.config)
    spec = getattr(metafunc.function, "__preuve_check__", None)
    if state is None or spec is None:
        return
    scope = state.scope
    found = [t for t in state.targets.get(spec.target, []) if scope is None or scope.keeps(t)]
    # a check left out by the profile has no item (pytest_pycollect_makeitem); one with no target in scope gets one
    # placeholder item, dropped in modifyitems
    params = [pytest.param(t, id=t.name) for t in found]
    if not params:
        params = [pytest.param(None, id="no-target", marks=pytest.mark.preuve_no_target)]
    metafunc.parametrize("target", params)  # direct: the value itself, no fixture call per item


def _wanted(state: RunState, spec: Any) -> bool:
    """Does the profile (and --select) keep this check? Asked once per check."""
    wanted = state.wanted.get(spec.id)
    if wanted is None:
        import fnmatch

        wanted = state.profile.selected(spec.id, list(spec.tags), list(spec.requirements))
        if state.options.select:
            wanted = wanted and any(fnmatch.fnmatchcase(spec.id, g) for g in state.options.select)
        state.wanted[spec.id] = wanted
    return wanted


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    from preuve.judge.catalogue import CatalogueError, load_catalogue

    try:
        state.catalogue = load_catalogue()
    except CatalogueError as exc:
        BROKEN_MODULES.append(f"checks catalogue: {exc}")
        items[:] = []
        return
    keep, drop = [], []
    for item in items:
        spec = getattr(getattr(item, "function", None), "__preuve_check__", None)
        if spec is None:
            drop.append(item)
            continue
        wanted = _wanted(state, spec)
        if wanted and spec.id in state.catalogue:
            state.selected_checks.add(spec.id)
        if not wanted or item.get_closest_marker("preuve_no_target"):
            state.deselected_by_profile += 1
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    for item in keep:  # pytest's report of a failure is never read: the verdict carries the message
        item.repr_failure = item._repr_failure_py = _exception_line  # type: ignore[method-assign,assignment]
    items[:] = keep
    state.planned = len(keep)  # every planned (check, target) pair ends with a result (sessionfinish)


def _exception_line(excinfo: pytest.ExceptionInfo[BaseException], style: str | None = None) -> str:
    """A check's failure as pytest's report holds it: one line. pytest's own (even with --tb=line) filters and
    formats the whole traceback, ~1 ms per failed check, for a report nothing reads (no terminal, no junitxml)."""
    return excinfo.exconly()


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None or session.config.option.collectonly:
        return
    copy_inputs(state)
    if state.options.replay is not None:
        state.store.load_recorded(state.options.replay, state.admitted_evidence or {})
        import json

        recorded_run = json.loads((state.options.replay / "run.json").read_text())
        state.replay_of = {"run_id": recorded_run.get("run_id"), "path": str(state.options.replay)}
        state.judged_at = dt.datetime.fromisoformat(recorded_run["started_at"].replace("Z", "+00:00"))
        state.started_at = state.judged_at
        return
    requests = plan(state, session.items)
    state.sweep = start_sweep(state, requests)  # judging starts as the first observations are recorded
    if requests:  # while observations wait on the network, load the report machinery (once they are under way)
        import threading

        from preuve.run.finish import warm_up

        out = state.options.out  # its inputs/ are copied: the reports' inventory line map can be read ahead
        threading.Thread(target=_quietly, args=(warm_up, out), daemon=True, name="preuve-warm-up").start()


def _quietly(fn: Any, *args: Any) -> None:
    import contextlib

    with contextlib.suppress(Exception):  # only a head start: the real call later reports any problem
        fn(*args)


def _evidence(request: pytest.FixtureRequest, fixture: str) -> dict[str, Any]:
    """The observation a fixture stands for; missing or failed evidence raises (-> error, never pass)."""
    state = _state(request.config)
    if state is None:
        pytest.skip("preuve is not active (no --preuve-inventory)")
    return recorded(state, request.node, request.getfixturevalue("target"), fixture)


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Target:
    """The inventory target under judgement (parametrized by the plugin)."""
    judged: Target = request.param
    return judged


class _Item:
    """What the plugin's fixtures need from pytest's request, taken once per (check, target) pair: each fixture
    asking for `request` costs pytest a new fixture definition (~25 us), four or five times per pair."""

    __slots__ = ("node", "state")

    def __init__(self, state: RunState | None, node: pytest.Item) -> None:
        self.state, self.node = state, node


@pytest.fixture(name="_preuve_item")
def preuve_item(request: pytest.FixtureRequest) -> _Item:
    return _Item(_state(request.config), request.node)


def _source_fixture(name: str) -> Any:
    def fixture(_preuve_item: _Item, target: Target) -> Any:
        if _preuve_item.state is None:
            pytest.skip("preuve is not active (no --preuve-inventory)")
        return recorded(_preuve_item.state, _preuve_item.node, target, name)

    fixture.__doc__ = registry().fixtures[name].doc
    fixture.__name__ = f"preuve_source_{name}"
    return pytest.fixture(name=name)(fixture)


# One fixture per declared check fixture (`tls`, `ssh`, `sshd`, ...), generated from the collectors' registry.
for _name in registry().fixtures:
    globals()[f"preuve_source_{_name}"] = _source_fixture(_name)


# `host` (check packs' testinfra fixture) is registered only when preuve runs (preuve.run.host_fixture): a
# global `host` here would shadow pytest-testinfra's own in every other test suite of the environment.
del globals()["preuve_source_host"]


@pytest.fixture
def params(_preuve_item: _Item, judge: Judge) -> Any:
    """The profile's parameters (thresholds, allowlists); what a check reads is noted so that its verdicts name
    the parameter behind each limit."""
    state = _preuve_item.state
    if state is None:
        pytest.skip("preuve is not active")
    return TrackedParams(state.profile.params, judge.reads)


@pytest.fixture
def now(_preuve_item: _Item) -> dt.datetime:
    """The instant verdicts are judged at: the run's start (a replay reuses the original run's instant)."""
    state = _preuve_item.state
    if state is None:
        pytest.skip("preuve is not active")
    return state.judged_at


@pytest.fixture
def judge(_preuve_item: _Item) -> Judge:
    j = Judge()
    _preuve_item.node.stash[JUDGE] = j
    return j


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """After a check returns, its failed expectations become one NonCompliance."""
    result = yield
    j = pyfuncitem.stash.get(JUDGE, None)
    if j is not None and j.failed:
        raise NonCompliance("; ".join(f"{e.label}: {e.observed!r}" for e in j.failed))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    state = _state(item.config)
    spec = getattr(getattr(item, "function", None), "__preuve_check__", None)
    if state is None or spec is None or item.stash.get(DONE, False):
        return report
    if call.when == "setup" and call.excinfo is None:
        return report
    if call.when == "teardown":
        return report
    conclude(state, item, spec, call.excinfo.value if call.excinfo is not None else None)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """Judging finished only if the loop over every planned (check, target) pair returned normally."""
    result = yield
    state = _state(session.config)
    if state is not None:
        state.loop_finished = True
    return result


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        BROKEN_MODULES.append(f"{report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")


def pytest_internalerror(excrepr: object, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    BROKEN_MODULES.append(f"internal error: {excinfo.typename}: {excinfo.value}")


BROKEN_MODULES: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None or session.config.option.collectonly:
        return
    from preuve.run.finish import finish_run

    if state.sweep is not None:  # a loop that stopped early leaves it running: no evidence may follow the reports
        state.sweep.stop()
        if state.sweep.error is not None:
            err = state.sweep.error
            BROKEN_MODULES.append(f"internal error: the observations failed: {type(err).__name__}: {err}")
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    reason = None
    if interrupted:
        reason = "interrupted (SIGINT/SIGTERM)"
    elif BROKEN_MODULES:
        reason = "internal error: " + "; ".join(BROKEN_MODULES)[:500]
    elif not state.loop_finished:
        reason = f"internal error: pytest stopped with exit status {int(exitstatus)}"
    if reason:
        _mark_interrupted(session, state, reason)
    state.judging = {"complete": reason is None, "reason": reason, "planned": state.planned}
    code = finish_run(state, interrupted=reason is not None)
    if BROKEN_MODULES:
        sys.stderr.write("preuve: the run is not valid (a check did not load, or preuve itself failed):\n")
        for b in BROKEN_MODULES:
            sys.stderr.write(f"  {b}\n")
        code = Exit.USAGE
    session.exitstatus = int(code)


def _mark_interrupted(session: pytest.Session, state: RunState, reason: str) -> None:
    """Every selected check not judged when the run stopped becomes `error` (never a silent gap)."""
    from preuve.observe.errors import ObservationError

    if reason.startswith("interrupted"):
        stop = ObservationError("the run was interrupted (SIGINT/SIGTERM) before this check was judged")
    else:
        stop = ObservationError(f"the run did not finish judging ({reason}) before this check was judged")
    for item in session.items:
        spec = getattr(getattr(item, "function", None), "__preuve_check__", None)
        if spec is None or item.stash.get(DONE, False) or not hasattr(item, "callspec"):
            continue
        item.stash[DONE] = True
        target: Target = item.callspec.params["target"]
        if target is None:
            continue
        refs, collected = stashed(item)
        info = state.catalogue[spec.id]
        try:
            state.results.append(
                build_result(
                    info, target, Judge(), refs, collected, stop, waivers=state.waivers, judged_at=state.judged_at
                )
            )
        except Exception:
            state.results.append(error_result(info, target, refs, collected, str(stop), str(stop)))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    state = _state(config)
    if state is None:
        return None
    p = state.profile
    return [
        f"preuve: profile {p.id} {p.version} (sha256 {p.sha256[:12]}), inventory {state.inventory.name}, "
        f"out {state.options.out}"
    ]
