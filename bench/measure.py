"""Timing whole processes, and noticing when the lab was restarted under a measurement.

A sample is the wall time of one process, from fork to exit (``time.perf_counter``), and the CPU
time (user + system) that it and the children it waited for used, which other load on the machine
inflates far less than wall time. A sample is retried (bounded) when the lab was rebuilt while it
ran (another process ran ``preuve lab down/up``, which also kills every process inside the lab's
namespaces, peers included) or when the tool's own output says the scan did not complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.inputs import ADMIN_NETNS

NETNS_DIR = Path("/run/netns")


@dataclass
class Sample:
    """One timed process."""

    wall_s: float
    cpu_s: float
    returncode: int | None  # None: killed after the timeout
    ok: bool
    note: str = ""
    attempts: int = 1
    output: str | None = None  # the file (or captured stdout file) the tool wrote

    def as_dict(self) -> dict[str, Any]:
        keys = ("wall_s", "cpu_s", "returncode", "ok", "note", "attempts", "output")
        return {k: getattr(self, k) for k in keys}


@dataclass
class Measurement:
    """All samples of one tool on one endpoint."""

    tool: str
    command: list[str]
    samples: list[Sample] = field(default_factory=list)

    @property
    def good(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def median_s(self) -> float | None:
        return statistics.median(s.wall_s for s in self.good) if self.good else None

    @property
    def median_cpu_s(self) -> float | None:
        return statistics.median(s.cpu_s for s in self.good) if self.good else None

    @property
    def last_output(self) -> str | None:
        """The output of the last complete sample (used for the findings agreement)."""
        return self.good[-1].output if self.good else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "command": self.command,
            "median_s": self.median_s,
            "median_cpu_s": self.median_cpu_s,
            "runs": len(self.good),
            "samples": [s.as_dict() for s in self.samples],
        }


def in_admin_netns(argv: list[str]) -> list[str]:
    """``argv`` run inside the lab's admin namespace: the only way the bench runs a peer tool."""
    return ["ip", "netns", "exec", ADMIN_NETNS, *argv]


def admin_netns_present() -> bool:
    return (NETNS_DIR / ADMIN_NETNS).exists()


def lab_identity(state_dir: Path) -> tuple[str | None, int | None]:
    """(lab.json started_at, inode of the admin namespace): changes whenever the lab is rebuilt."""
    started = None
    with contextlib.suppress(OSError, ValueError, KeyError):
        started = json.loads((state_dir / "lab.json").read_text())["started_at"]
    try:
        inode = (NETNS_DIR / ADMIN_NETNS).stat().st_ino
    except OSError:
        inode = None
    return started, inode


def run_timed(
    argv: list[str], timeout: float, stdout_file: Path | None = None, stderr_file: Path | None = None
) -> tuple[float, float, int | None]:
    """Run ``argv`` (own process group): (wall s, CPU s, return code or None on timeout).

    CPU time is the growth of RUSAGE_CHILDREN across the run: the bench runs one child at a time.
    """
    with contextlib.ExitStack() as files:
        out = files.enter_context(stdout_file.open("wb")) if stdout_file else subprocess.DEVNULL
        err = files.enter_context(stderr_file.open("wb")) if stderr_file else subprocess.DEVNULL
        cpu_before = _children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group we created: the tool and its children
            proc.wait()
            code = None
        wall = time.perf_counter() - started
        return wall, _children_cpu() - cpu_before, code


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stderr_path(output: Path) -> Path:
    """Where a tool's stderr goes: next to its output."""
    return output.with_name(output.name + ".stderr")


def _stderr_tail(output: Path, limit: int = 300) -> str:
    try:
        text = stderr_path(output).read_text(errors="replace").strip()
    except OSError:
        return ""
    return f" [stderr: {text[-limit:]}]" if text else ""


Validator = Callable[[int | None, Path], str]  # "" when the run is complete, else why not


def sample(
    argv: list[str],
    output: Path,
    validate: Validator,
    *,
    timeout: float,
    state_dir: Path,
    ensure_lab: Callable[[], Any],
    capture_stdout: bool = False,
    retries: int = 2,
) -> Sample:
    """One timed sample, retried (up to ``retries`` times) if the lab moved or the scan was incomplete."""
    note = ""
    for attempt in range(1, retries + 2):
        _remove(output)  # testssl refuses to overwrite; preuve wants a fresh run directory
        output.parent.mkdir(parents=True, exist_ok=True)
        ensure_lab()
        before = lab_identity(state_dir)
        wall, cpu, code = run_timed(argv, timeout, output if capture_stdout else None, stderr_path(output))
        moved = lab_identity(state_dir) != before
        problem = "lab restarted during the run" if moved else validate(code, output)
        if not problem:
            return Sample(round(wall, 4), round(cpu, 4), code, True, note, attempt, str(output))
        note = f"attempt {attempt}: {problem}{'' if moved else _stderr_tail(output)}"
        time.sleep(1.0)
    return Sample(round(wall, 4), round(cpu, 4), code, False, note, retries + 1, str(output))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
