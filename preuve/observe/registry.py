"""What each collector declares about itself, and the one registry built from those declarations.

A collector is one module of a family package of `preuve.observe` (tls/, ssh/, storage/, backup/, logs/,
network/, k8s/, identity/, host/) that declares, at module level:

- `COLLECTOR = Collector(...)`: a collector that observes one target of one kind per call (its concurrency limit,
  the modules to preload on the main thread, the check fixtures it feeds);
- and/or `HOST_FACTS = (HostFact(...), ...)`: facts read on a host over the single batched SSH session of the
  `ssh_host` collector (a POSIX sh command, its parser, the fixture checks ask for).

Nothing else lists collectors: the plan, the engine, the preloads, the SSH batch and `preuve checks` all read
this registry. Declaring modules keep heavy imports (nassl, boto3, kubernetes, paramiko) inside functions, so
building the registry costs milliseconds (tests/unit keep that true).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# (query, facts, raw, tool): what the collector asked, what it found, the raw answers, the tool and its version.
Outcome = tuple[dict[str, Any], dict[str, Any], Any, str]
# collect(target, facts wanted, per-operation timeout, every host target by name (jump hosts, vantage hosts))
CollectFn = Callable[[Any, tuple[str, ...], float, dict[str, Any]], Outcome]


@dataclass(frozen=True)
class Fixture:
    """A check fixture this collector feeds: checks name it, the run plans one observation per target."""

    name: str  # the fixture name checks use (`tls`, `sshd`, `luks`, ...)
    kind: str  # the target kind it is collected on (inputs/targets.py)
    fact: str | None = None  # which fact of the observation, when one observation carries several
    doc: str = ""


@dataclass(frozen=True)
class Collector:
    name: str  # the collector's name, recorded in every observation
    collect: CollectFn
    limit: int  # how many observations of this collector may run at once
    fixtures: tuple[Fixture, ...] = ()
    preload: tuple[str, ...] = ()  # modules imported on the main thread before the worker pool starts
    # facts a planned check item adds to its request beyond its fixtures' (check packs' `host`: the check's own id)
    item_facts: Callable[[Any], tuple[str, ...]] | None = None
    # called once per run with the number of planned observations, from the vantage point, before the preloads:
    # what a collector starts ahead (TLS: its reactor and full-handshake helper process) warms up meanwhile
    prepare: Callable[[int], None] | None = None
    # called once per run with the number of planned observations, on the main thread once observing has started
    # (its workers are running): what can load while the first answers are awaited (TLS: nassl and cryptography)
    warm: Callable[[int], None] | None = None


@dataclass(frozen=True)
class HostFact:
    """One read-only fact of a host, batched with the others into one SSH exec of the `ssh_host` collector.

    The command runs in a subshell with stdin from /dev/null; a non-zero exit becomes {"error": ...} naming the
    sudo rule to add (observe/privileged.py), never an exception that hides the host's other facts.
    """

    name: str
    command: str
    parse: Callable[[str], object] = str.strip
    fixture: str | None = None  # the fixture checks use; None for facts only other facts or evidence need
    kind: str = "baseline_host"
    doc: str = ""
    many_processes: bool = False  # one privileged process per connection context: three times the timeout


# --- the registry built from the declarations -----------------------------------------------------------------

_DECLARES = re.compile(r"^(COLLECTOR|HOST_FACTS)\b\s*(:[^=\n]*)?=", re.MULTILINE)
SSH_HOST = "ssh_host"  # the collector that runs every HostFact of a host in one batched SSH exec


class RegistryError(Exception):
    """Two declarations claim the same name, or a declaration is malformed: the registry refuses to guess."""


@dataclass(frozen=True)
class Provider:
    """Who provides a check fixture: the collector, the target kind, the fact (when one of several)."""

    fixture: str
    collector: str
    kind: str
    fact: str | None
    doc: str
    module: str  # the declaring module (for `preuve checks` and error messages)


@dataclass(frozen=True)
class Registry:
    collectors: dict[str, Collector]
    host_facts: dict[str, HostFact]
    fixtures: dict[str, Provider]
    modules: tuple[str, ...]  # the declaring modules, in discovery order

    def limit(self, collector: str) -> int | None:
        c = self.collectors.get(collector)
        return c.limit if c is not None else None

    def preloads(self, collectors: Iterable[str]) -> list[str]:
        """Modules to import on the main thread before the workers start, for these collectors."""
        return sorted({m for c in collectors if c in self.collectors for m in self.collectors[c].preload})

    def kinds(self, collector: str) -> frozenset[str]:
        """The target kinds a collector observes."""
        return frozenset(p.kind for p in self.fixtures.values() if p.collector == collector)


def declaring_modules(package: str = "preuve.observe") -> list[str]:
    """Modules of the family packages of `package` that declare COLLECTOR or HOST_FACTS at module level.

    The source is read, not imported: a module that declares nothing costs a file read, never an import."""
    root = Path(importlib.import_module(package).__file__ or "").parent
    found = []
    for family in sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()):
        for path in sorted(family.glob("*.py")):
            if _declares(path.read_text(encoding="utf-8")):
                name = family.name if path.stem == "__init__" else f"{family.name}.{path.stem}"
                found.append(f"{package}.{name}")
    return found


def _declares(source: str) -> bool:
    """`_DECLARES.search(source)`, looked for only where a line starts with one of the two names: a multi-line
    regex tried at every position of ~70 module sources was 3 ms of each run's start."""
    for name in ("COLLECTOR", "HOST_FACTS"):
        at = source.find(name)
        while at != -1:
            if (at == 0 or source[at - 1] == "\n") and _DECLARES.match(source, at):
                return True
            at = source.find(name, at + 1)
    return False


def build(modules: Iterable[ModuleType]) -> Registry:
    """The registry of these declaring modules; RegistryError on any name declared twice."""
    collectors: dict[str, Collector] = {}
    facts: dict[str, HostFact] = {}
    fixtures: dict[str, Provider] = {}
    where: dict[str, str] = {}
    names: list[str] = []

    def claim(key: str, module: str) -> None:
        if key in where:
            raise RegistryError(f"{key} is declared twice: in {where[key]} and in {module}")
        where[key] = module

    def provide(p: Provider) -> None:
        claim(f"fixture {p.fixture}", p.module)
        fixtures[p.fixture] = p

    for mod in modules:
        names.append(mod.__name__)
        col = getattr(mod, "COLLECTOR", None)
        if col is not None:
            if not isinstance(col, Collector):
                raise RegistryError(f"{mod.__name__}.COLLECTOR is not a Collector")
            claim(f"collector {col.name}", mod.__name__)
            collectors[col.name] = col
            for f in col.fixtures:
                provide(Provider(f.name, col.name, f.kind, f.fact, f.doc, mod.__name__))
        for hf in getattr(mod, "HOST_FACTS", ()):
            if not isinstance(hf, HostFact) or not re.fullmatch(r"\w+", hf.name):
                raise RegistryError(f"{mod.__name__}.HOST_FACTS holds {hf!r}: a HostFact with an identifier name")
            claim(f"host fact {hf.name}", mod.__name__)
            facts[hf.name] = hf
            if hf.fixture is not None:
                provide(Provider(hf.fixture, SSH_HOST, hf.kind, hf.name, hf.doc, mod.__name__))
    if facts and SSH_HOST not in collectors:
        raise RegistryError(f"host facts are declared ({', '.join(sorted(facts))}) but no {SSH_HOST} collector")
    return Registry(collectors, facts, fixtures, tuple(names))


_registry: Registry | None = None
_lock = threading.Lock()


def registry() -> Registry:
    """The registry of preuve's own collectors, built once per process (imports only the declaring modules)."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = build(importlib.import_module(m) for m in declaring_modules())
    return _registry


def fact(name: str) -> HostFact:
    """The host fact `name`; ValueError naming the known ones otherwise."""
    facts = registry().host_facts
    if name not in facts:
        raise ValueError(f"unknown SSH host fact {name!r}; known: {sorted(facts)}")
    return facts[name]


def prepare(planned: dict[str, int]) -> None:
    """Call the ``prepare`` hook of each planned collector with its number of planned observations."""
    _hooks("prepare", planned)


def warm(planned: dict[str, int]) -> None:
    """Call the ``warm`` hook of each planned collector with its number of planned observations."""
    _hooks("warm", planned)


def _hooks(hook: str, planned: dict[str, int]) -> None:
    collectors = registry().collectors
    for name, count in sorted(planned.items()):
        fn = getattr(collectors[name], hook) if name in collectors else None
        if fn is not None:
            fn(count)


def preload(collectors: Iterable[str]) -> None:
    """Import the preloads of these collectors on the calling (main) thread, before any worker starts.

    CPython 3.11's import deadlock detection can hand a thread a half-initialised module when several threads import
    intertwined packages at once (seen on a cold virtualenv: "module 'requests' has no attribute
    'RequestException'" in two collectors)."""
    for name in registry().preloads(collectors):
        importlib.import_module(name)
