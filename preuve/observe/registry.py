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

from collections.abc import Callable
from dataclasses import dataclass
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
