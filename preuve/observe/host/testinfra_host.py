"""The `host` fixture of out-of-tree checks: testinfra's API (`host.file`, `host.package`, `host.service`,
`host.run`...), observed once and judged from the record.

A testinfra check runs its commands while it judges; preuve observes first and judges from evidence (so a run can
be re-judged offline). Both hold here: testinfra's own modules run on a testinfra backend whose `run` is preuve's.

1. Observe (collector `host_commands`, one per host): one SSH connection (preuve's: strict host-key checking, jump
   hosts, secrets by reference), and every pack check that asks for `host` is run once against a *recording* backend:
   each command testinfra sends is executed over that connection, its exit status, stdout and stderr recorded.
   The verdicts of this pass are thrown away; the observation holds the commands and their answers.
2. Judge: the same check runs against a *replaying* backend that answers from the observation. A command that was
   not recorded (a check whose commands depend on the clock or on randomness) is an `error`, never a guess.

Read-only: testinfra's modules only read (`stat`, `dpkg-query`, `systemctl is-active`...). `host.run` runs what the
check author wrote, as the scanning account: keep pack checks to reading commands, and give that account no more
rights than the sudoers block in the README (a command refused by sudo is an answer like any other: recorded).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

if TYPE_CHECKING:
    pass

Runner = Callable[[str], tuple[int, str, str]]
# check id -> the check function (registered by the plugin when it plans a run)
FUNCTIONS: dict[str, Callable[..., Any]] = {}
MAX_OUTPUT = 1 << 20  # per command: a check reading a huge file gets its first MiB, and knows it


@functools.cache
def backend_class() -> type:
    """PreuveBackend, defined on first use: testinfra is imported only when a check pack asks for `host`."""
    from testinfra.backend.base import BaseBackend, CommandResult

    class PreuveBackend(BaseBackend):
        """A testinfra backend whose commands go through `runner` (live SSH while observing, the record while
        judging)."""

        NAME = "preuve"

        def __init__(self, runner: Runner, hostname: str, **kwargs: Any) -> None:
            super().__init__(hostname, **kwargs)
            self._encoding = "utf-8"  # testinfra would otherwise probe the remote python for it (one more command)
            self.runner = runner

        def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
            cmd = self.get_command(command, *args)
            rc, out, err = self.runner(cmd)
            return self.result(rc, self.encode(cmd), out, err)

    return PreuveBackend


def make_host(runner: Runner, name: str) -> Any:
    """A testinfra Host whose commands go through `runner`."""
    from testinfra.host import Host

    return Host(backend_class()(runner, name))


class Replay:
    """Answers from an observation's record; an unrecorded command raises (-> error)."""

    def __init__(self, facts: dict[str, Any], target: str) -> None:
        self.answers = {c["command"]: c for c in facts.get("commands", [])}
        self.target = target

    def __call__(self, command: str) -> tuple[int, str, str]:
        found = self.answers.get(command)
        if found is None:
            raise ObservationError(
                f"{self.target}: command not recorded while observing (the check asked "
                f"something else when judged): {command!r}"
            )
        return found["rc"], found["stdout"], found["stderr"]


class Recorder:
    """Runs each command once over an authenticated paramiko transport and keeps what it answered."""

    def __init__(self, transport: Any, timeout: float, where: str) -> None:
        self.transport, self.timeout, self.where = transport, timeout, where
        self.commands: list[dict[str, Any]] = []
        self.seen: dict[str, dict[str, Any]] = {}

    def __call__(self, command: str) -> tuple[int, str, str]:
        if command in self.seen:
            c = self.seen[command]
            return c["rc"], c["stdout"], c["stderr"]
        import paramiko

        t0 = time.perf_counter()
        try:
            channel = self.transport.open_session(timeout=self.timeout)
            channel.settimeout(self.timeout)
            channel.exec_command(command)
            channel.shutdown_write()
            out, err = _read(channel.makefile("rb")), _read(channel.makefile_stderr("rb"))
            rc = channel.recv_exit_status()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ObservationError(f"ssh {self.where}: {command!r} failed: {type(exc).__name__}: {exc}") from None
        c = {
            "command": command,
            "rc": rc,
            "stdout": out,
            "stderr": err,
            "duration_ms": round((time.perf_counter() - t0) * 1000, 1),
        }
        self.commands.append(c)
        self.seen[command] = c
        return rc, out, err


def _read(fh: Any) -> str:
    data = fh.read(MAX_OUTPUT + 1)
    text = data[:MAX_OUTPUT].decode("utf-8", errors="replace")
    return text + ("\n[preuve: output cut at 1 MiB]" if len(data) > MAX_OUTPUT else "")


def call_check(func: Callable[..., Any], available: dict[str, Any]) -> None:
    """Run a check function with the fixtures it names (host, judge, target, params, now)."""
    wanted = inspect.signature(func).parameters
    missing = [n for n in wanted if n not in available]
    if missing:
        raise ObservationError(
            f"check {func.__name__} asks for {missing}: a `host` check may use host, judge, target, params and now"
        )
    func(**{n: available[n] for n in wanted})


def collect(target: Any, check_ids: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    """The `host_commands` collector: run the pack checks of this host against a recording backend."""
    from preuve.judge.check_api import Judge
    from preuve.observe.profile_params import current
    from preuve.observe.ssh import connection
    from preuve.observe.ssh.target import ssh_target

    ssh = ssh_target(target, hosts)
    transports: list[Any] = []
    where = f"{ssh.user}@{ssh.host}:{ssh.port}"
    try:
        transport, host_key = connection.connect(ssh, timeout, transports)
        recorder = Recorder(transport, timeout, where)
        crashed: dict[str, str] = {}
        for cid in check_ids:
            func = FUNCTIONS.get(cid)
            if func is None:
                crashed[cid] = "check function not registered"
                continue
            available = {
                "host": make_host(recorder, target.name),
                "judge": Judge(),
                "target": target,
                "params": current(),
                "now": dt.datetime.now(dt.UTC),
            }
            try:
                call_check(func, available)
            except ObservationError:
                raise
            except Exception as exc:  # its verdict is for the judging pass; only the commands matter here
                crashed[cid] = f"{type(exc).__name__}"
    finally:
        for t in reversed(transports):
            t.close()
    query = {
        "host": target.address,
        "port": ssh.port,
        "user": ssh.user,
        "checks": list(check_ids),
        "commands": [c["command"] for c in recorder.commands],
    }
    facts = {"host_key": host_key, "commands": recorder.commands}
    raw = {
        f"{i:03d}": {"command": c["command"], "rc": c["rc"], "stdout": c["stdout"], "stderr": c["stderr"]}
        for i, c in enumerate(recorder.commands)
    }
    from preuve.observe.reveal import tool

    return query, facts, raw, tool("pytest-testinfra")


def _item_facts(item: Any) -> tuple[str, ...]:
    """A pack check asking for `host` is replayed by the collector: register its function, ask for its id."""
    spec = item.function.__preuve_check__
    FUNCTIONS[spec.id] = item.function
    return (spec.id,)


# check packs' `host` fixture: testinfra over one SSH connection; the plan asks for the pack checks' ids as facts
COLLECTOR = Collector(
    "host_commands",
    collect,
    limit=16,
    fixtures=(
        Fixture(
            "host",
            "host",
            doc="out-of-tree checks: testinfra's `host` (file, package, service, run), each command it sent "
            "and the answer, over one SSH connection (preuve.observe.host.testinfra_host)",
        ),
    ),
    preload=("paramiko", "testinfra.host", "testinfra.modules", "preuve.observe.host.testinfra_host"),
    item_facts=_item_facts,
)
