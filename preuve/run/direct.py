"""The judging loop, direct: each (check, target) pair judged without pytest's per-item protocol.

pytest's runtest protocol costs ~0.4 ms per item (setup/call/teardown hooks, fixture resolution, three reports)
for checks that are pure functions of recorded facts: 1,200 pairs of a 100-endpoint TLS run spent more time there
than in judging. This loop, registered by the plugin (a `pytest_runtestloop` that runs before pytest's own), gives
a check the values preuve's own fixtures would give it (target, recorded facts, params, now, judge), calls it and
concludes its result with the same code as the protocol path (preuve.run.verdict).

It is taken only when nothing could tell the difference; otherwise pytest's protocol runs, item by item:
- the run: only pytest's built-in per-item hooks (and preuve's) are registered: no terminal reporter, JUnit XML,
  last-failed cache, logging capture, pdb, conftest hooks...; output capture off and plain asserts (as `preuve
  run` starts pytest); no --setup-show/--setup-only/--setup-plan;
- the item: a plain pytest Function of a preuve check in the catalogue, no marker but preuve_check and
  usefixtures, every fixture it uses one of preuve's own (a conftest or a module overriding one sends it to pytest),
  not a coroutine.
What the protocol does that stays: collector setup/teardown (package __init__ setup_module), warnings filters (-W,
filterwarnings ini), --maxfail/-x counting (a failed or errored pair counts as pytest's failed report would),
KeyboardInterrupt and pytest.exit propagating, a check returning a value warned about. What does not: no
TestReport is built (nothing registered would read one), PYTEST_CURRENT_TEST and sys.last_* are not set (a check is
a pure function of its facts: it reads neither). Under pytest-xdist the loop stands aside.
`PREUVE_JUDGE_PROTOCOL=pytest` in the environment sends every item through pytest's protocol (the reference the
tests compare this loop with, tests/unit/test_direct_judging.py).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from preuve.inputs.targets import Target
from preuve.judge.check_api import Judge, NonCompliance, TrackedParams
from preuve.observe.registry import registry
from preuve.run.observation import Key, Sweep, reads
from preuve.run.state import RunState
from preuve.run.verdict import JUDGE, conclude, recorded

# Per-item hooks of pytest's protocol; their implementations must all be known for the direct loop to be taken.
PER_ITEM_HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_logstart",
    "pytest_runtest_logfinish",
    "pytest_runtest_setup",
    "pytest_runtest_call",
    "pytest_runtest_teardown",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_pyfunc_call",
    "pytest_fixture_setup",
    "pytest_fixture_post_finalizer",
    "pytest_exception_interact",
    "pytest_warning_recorded",
    "pytest_assertion_pass",
)
# What those known implementations do for a preuve item, and how this loop does the same:
KNOWN_MODULES = frozenset(
    {
        "_pytest.runner",  # setup/teardown of collectors: SetupState, below
        "_pytest.assertion",  # assert-rewriting comparisons: plain asserts only (required below)
        "_pytest.warnings",  # warning filters: one catch_warnings_for_item around the loop
        "_pytest.skipping",  # skip/xfail marks: none allowed on a direct item; xfail() counted as pytest does
        "_pytest.python",  # calling the function: below, same arguments, same async/return-value handling
        "_pytest.fixtures",  # fixture resolution: preuve's fixtures only, resolved here in pytest's order
        "preuve.run.plugin",  # makereport -> conclude; pyfunc_call -> NonCompliance
    }
)
KNOWN_CLASSES = frozenset({"_pytest.capture.CaptureManager", "_pytest.main.Session"})  # capture off; maxfail
# preuve's fixtures (preuve.run.plugin) by name, with the function that defines each
OWN_FIXTURES = {"_preuve_item": "preuve_item", "params": "params", "now": "now", "judge": "judge"}
ALLOWED_MARKS = frozenset({"preuve_check", "usefixtures"})


def _known(plugin: object) -> bool:
    name = getattr(plugin, "__name__", None) if inspect.ismodule(plugin) else None
    if name is not None:
        return name in KNOWN_MODULES
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}" in KNOWN_CLASSES


def unusual_run(config: pytest.Config) -> str | None:
    """Why pytest's own protocol must run every item of this run (None: the direct loop may be taken)."""
    opt = config.option
    if getattr(opt, "capture", None) != "no":
        return "output capture is on"
    if getattr(opt, "assertmode", None) != "plain":
        return "asserts are rewritten"
    for flag in ("usepdb", "setupshow", "setuponly", "setupplan", "trace"):
        if getattr(opt, flag, False):
            return f"--{flag}"
    pm = config.pluginmanager
    if hasattr(config, "workerinput") or pm.has_plugin("dsession"):
        return "pytest-xdist distributes the items"  # its own loop decides which item runs where
    for hook in PER_ITEM_HOOKS:
        caller = getattr(pm.hook, hook, None)
        if caller is None:
            continue
        for impl in caller.get_hookimpls():
            if not _known(impl.plugin):
                return f"{pm.get_name(impl.plugin)} implements {hook}"
    return None


class _Plan:
    """How to give one check function its arguments: what pytest would resolve, in its order."""

    __slots__ = ("argnames", "info", "sources")

    def __init__(self, info: Any, argnames: tuple[str, ...], sources: tuple[str, ...]) -> None:
        self.info, self.argnames, self.sources = info, argnames, sources


def _plan(item: pytest.Function) -> _Plan | None:
    """The plan of an item whose every fixture is preuve's own, None otherwise."""
    fi = getattr(item, "_fixtureinfo", None)
    if fi is None:
        return None
    defs = fi.name2fixturedefs
    sources = registry().fixtures
    order: list[str] = []
    for name in item.fixturenames:
        if name == "request":  # pytest's own, asked for by preuve's _preuve_item; a check taking it goes to pytest
            if name in fi.argnames:
                return None
            continue
        found = defs.get(name)
        if not found:
            return None
        func = found[-1].func
        module, fname = getattr(func, "__module__", None), getattr(func, "__name__", None)
        if name == "target":
            if (module, fname) not in (
                ("_pytest.python", "get_direct_param_fixture_func"),
                ("_pytest.fixtures", "get_direct_param_fixture_func"),
                ("preuve.run.plugin", "target"),
            ):
                return None
        elif name in OWN_FIXTURES:
            if module != "preuve.run.plugin" or fname != OWN_FIXTURES[name]:
                return None
        elif name in sources and name != "host":
            if module != "preuve.run.plugin" or fname != f"preuve_source_{name}":
                return None
            order.append(name)
        else:
            return None
    return _Plan(fi, tuple(fi.argnames), tuple(order))


def _direct(item: pytest.Item, state: RunState, plans: dict[Any, Any]) -> Any:
    """(plan, check spec) when this item can be judged directly, None when pytest's protocol must run it."""
    if type(item) is not pytest.Function or not hasattr(item, "callspec"):
        return None
    func = getattr(item, "function", None)
    spec = getattr(func, "__preuve_check__", None)
    if spec is None or spec.id not in state.catalogue or "target" not in item.callspec.params:
        return None
    if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
        return None
    if any(m.name not in ALLOWED_MARKS for m in item.own_markers) or not _plain_parents(item.parent, plans):
        return None
    fi = getattr(item, "_fixtureinfo", None)
    key = id(fi)
    if key not in plans:
        plans[key] = _plan(item)
    plan = plans[key]
    if plan is None or plan.info is not fi:
        return None
    return plan, spec


def _plain_parents(parent: Any, plans: dict[Any, Any]) -> bool:
    """No marker but preuve's on the item's module, packages and session (item.iter_markers() walks them all for
    every item; they are the same for the items of a module)."""
    key = ("parents", id(parent))
    if key not in plans:
        plans[key] = (parent, all(m.name in ALLOWED_MARKS for m in parent.iter_markers()))
    held, plain = plans[key]
    return held is parent and bool(plain)


@contextlib.contextmanager
def _warnings_as_pytest(config: pytest.Config) -> Iterator[None]:
    """The filters pytest's warnings plugin applies around each item (-W, filterwarnings ini), once for the loop."""
    if not config.pluginmanager.has_plugin("warnings"):
        yield
        return
    from _pytest.warnings import catch_warnings_for_item

    with catch_warnings_for_item(config=config, ihook=config.hook, when="runtest", item=None):
        yield


def _failed(exc: BaseException | None, config: pytest.Config) -> bool:
    """Would pytest's report of this outcome be `failed` (what --maxfail counts)?"""
    if exc is None or isinstance(exc, pytest.skip.Exception):
        return False
    if isinstance(exc, BaseExceptionGroup) and exc.split(pytest.skip.Exception)[1] is None:
        return False
    return not (isinstance(exc, pytest.xfail.Exception) and not config.option.runxfail)


def run_loop(session: pytest.Session, state: RunState) -> bool:
    """pytest's runtestloop, with preuve's items judged directly (the rest through pytest's protocol)."""
    config = session.config
    if session.testsfailed and not config.option.continue_on_collection_errors:
        raise session.Interrupted(
            f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection"
        )
    if config.option.collectonly:
        return True
    plans: dict[Any, Any] = {}  # per fixture info: _Plan or None; per parent: markers plain
    setupstate = session._setupstate
    maxfail = config.getvalue("maxfail")
    # While observations run, pairs are judged as what they read is recorded; with --maxfail/-x, in collection
    # order (which pair fails first then decides where the run stops, as in pytest's own loop).
    order = iter(session.items) if maxfail or state.sweep is None else as_observed(session.items, state.sweep)
    ready = None  # the collector whose chain is set up for the direct items that follow
    with _warnings_as_pytest(config):
        item = next(order, None)
        while item is not None:
            direct = _direct(item, state, plans)
            if direct is None:
                nextitem = next(order, None)
                ready = None
                config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            else:
                exc, ready = _judge(item, state, direct[0], direct[1], setupstate, ready)
                if _failed(exc, config):
                    session.testsfailed += 1
                    if maxfail and session.testsfailed >= maxfail:
                        session.shouldfail = f"stopping after {session.testsfailed} failures"
                stopping = session.shouldfail or session.shouldstop
                nextitem = None if stopping else next(order, None)  # may wait for the next observation
                if nextitem is None or nextitem.parent is not item.parent:
                    ready = None
                    try:
                        setupstate.teardown_exact(nextitem)
                    except (KeyboardInterrupt, pytest.exit.Exception):
                        raise
                    except BaseException as teardown:  # a collector's finalizer: pytest's teardown report
                        if _failed(teardown, config):
                            session.testsfailed += 1
                            if maxfail and session.testsfailed >= maxfail:
                                session.shouldfail = f"stopping after {session.testsfailed} failures"
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
            item = nextitem
    return True


def as_observed(items: list[Any], sweep: Sweep, keys_of: Callable[[Any], Iterable[Key]] | None = None) -> Iterator[Any]:
    """The items, each as soon as every observation it reads is recorded: those recorded together in
    collection order (a check module's pairs stay together), waiting for the sweep when none is ready. Once the
    sweep is over (all recorded, or stopped), the rest in collection order: what they read is all there will be.
    ``keys_of``: the observations an item reads (default: its fixtures', preuve.run.observation.reads)."""
    if keys_of is None:
        fixtures = registry().fixtures

        def keys_of(item: Any) -> Iterable[Key]:
            return (key for key, _, _ in reads(item, fixtures))

    missing: list[int] = []
    waiting: dict[Key, list[int]] = {}
    ready: list[int] = []
    for i, item in enumerate(items):
        keys = {key for key in keys_of(item) if key in sweep.keys}
        missing.append(len(keys))
        for key in keys:
            waiting.setdefault(key, []).append(i)
        if not keys:
            ready.append(i)
    ready.reverse()  # popped from the end: lowest index first
    seen = 0  # observations taken into account, in sweep.recorded
    left = len(items)
    while left:
        if not ready:
            over = sweep.over
            count = sweep.wait_beyond(seen)
            for key in sweep.recorded[seen:count]:
                for i in waiting.pop(key, ()):
                    missing[i] -= 1
                    if not missing[i]:
                        ready.append(i)
            seen = count
            if not ready and over:
                ready = [i for i, m in enumerate(missing) if m > 0]
                for i in ready:
                    missing[i] = 0
            ready.sort(reverse=True)  # popped from the end: lowest index first
            continue
        left -= 1
        yield items[ready.pop()]


def _judge(
    item: pytest.Item, state: RunState, plan: _Plan, spec: Any, setupstate: Any, ready: Any
) -> tuple[BaseException | None, Any]:
    """Set up, call and conclude one item: (what it raised, the collector now set up)."""
    exc: BaseException | None = None
    target: Target = item.callspec.params["target"]  # type: ignore[attr-defined]
    values: dict[str, Any] = {"target": target}
    try:
        if ready is not item.parent:
            ready = None
            setupstate.setup(item.parent)
            ready = item.parent
        judge = Judge()
        item.stash[JUDGE] = judge
        for name in plan.sources:
            values[name] = recorded(state, item, target, name)
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise
    except BaseException as raised:
        exc = raised
    else:
        values["judge"] = judge
        values["now"] = state.judged_at
        if "params" in plan.argnames:
            values["params"] = TrackedParams(state.profile.params, judge.reads)
        try:
            returned = item.obj(**{a: values[a] for a in plan.argnames})  # type: ignore[attr-defined]
            if returned is not None:
                _returned(item, returned)
            if judge.failed:
                raise NonCompliance("; ".join(f"{e.label}: {e.observed!r}" for e in judge.failed))
        except (KeyboardInterrupt, pytest.exit.Exception):
            raise
        except BaseException as raised:
            exc = raised
    conclude(state, item, spec, exc)
    item._request = False  # type: ignore[attr-defined]  # as pytest's protocol leaves an item
    item.funcargs = None  # type: ignore[attr-defined]
    return exc, ready


def _returned(item: pytest.Item, returned: object) -> None:
    """What pytest does with a check function that returns something: fail a coroutine, warn otherwise."""
    if hasattr(returned, "__await__") or hasattr(returned, "__aiter__"):
        from _pytest.python import async_fail

        async_fail(item.nodeid)
    warnings.warn(
        pytest.PytestReturnNotNoneWarning(
            f"Test functions should return None, but {item.nodeid} returned {type(returned)!r}.\n"
            "Did you mean to use `assert` instead of `return`?\n"
            "See https://docs.pytest.org/en/stable/how-to/assert.html#return-not-none for more information."
        ),
        stacklevel=1,
    )


def _pytest_internals_known(session: pytest.Session) -> bool:
    """The pytest internals the loop relies on are there (a later pytest may rename them)."""
    try:
        from _pytest.python import async_fail  # noqa: F401
        from _pytest.warnings import catch_warnings_for_item  # noqa: F401
    except ImportError:
        return False
    setupstate = getattr(session, "_setupstate", None)
    return all(hasattr(setupstate, a) for a in ("setup", "teardown_exact", "stack"))


class DirectLoop:
    """The plugin object holding the loop (the preuve plugin registers it when preuve is active)."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    # Registered after pytest's main plugin, so called before its loop (no tryfirst: a tryfirst observer of the
    # loop, such as a timing plugin, still sees it start).
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if os.environ.get("PREUVE_JUDGE_PROTOCOL") == "pytest" or unusual_run(session.config) is not None:
            return None  # pytest's own loop, item by item through its protocol
        if not _pytest_internals_known(session):
            return None  # another pytest than the ones this loop was written against (8.3 to 9.2)
        return run_loop(session, self.state)
