"""Shared helpers of unit and lab tests: run the real `preuve` command line, scan, reduce the lab inventory.

The lab fixtures (`lab`, `lab_up`, `lab_module`, `lab_run`) live in tests/lab/conftest.py: tests/unit never brings
the lab up and never imports `preuve_lab` through its fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB_INVENTORY = REPO / "inventories" / "lab.yaml"
FULL_PROFILE = REPO / "profiles" / "secnumcloud-3.2.yaml"


@dataclass
class Run:
    """A finished `preuve` invocation and its run directory."""

    proc: subprocess.CompletedProcess
    out: Path

    @property
    def code(self) -> int:
        return self.proc.returncode

    @property
    def results(self) -> list[dict]:
        return [json.loads(line) for line in (self.out / "results.jsonl").read_text().splitlines()]

    def result(self, check_id: str, target: str) -> dict:
        return next(r for r in self.results if r["check_id"] == check_id and r["target"]["name"] == target)

    def statuses(self, target: str) -> dict[str, str]:
        return {r["check_id"]: r["status"] for r in self.results if r["target"]["name"] == target}


FORKSERVER = "PREUVE_TEST_FORKSERVER"  # set by tests/unit/conftest.py for unit tests only


def preuve(*args: str | os.PathLike, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `preuve` command line (a separate process, as users do). In tests/unit the process is forked
    from one that already imported preuve (tests/support/cli_forkserver.py: the same entry point, without 0.4 s of
    imports per call); tests/lab start a fresh interpreter each time."""
    full_env = {**os.environ, **(env or {})}
    if full_env.pop(FORKSERVER, None) == "1":
        return _forkserver().run([str(a) for a in args], full_env, REPO, timeout)
    return subprocess.run(
        [sys.executable, "-m", "preuve", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=REPO,
    )


_FORKSERVERS: dict[int, object] = {}


def _forkserver():
    """This process's fork server (one per pytest process: each pytest-xdist worker has its own)."""
    from tests.support.cli_forkserver import ForkServer

    return _FORKSERVERS.setdefault(os.getpid(), ForkServer(REPO))


def scan(
    out: Path,
    *extra: str | os.PathLike,
    inventory: Path = LAB_INVENTORY,
    profile: Path = FULL_PROFILE,
    env: dict | None = None,
) -> Run:
    proc = preuve("run", "-i", inventory, "-p", profile, "-o", out, "-q", *extra, env=env)
    return Run(proc, out)


def lab_inventory(tmp: Path, edit, keep: tuple[str, ...] = ("hosts", "tls_endpoints", "ssh_endpoints")) -> Path:
    """A copy of the lab inventory reduced to its frame (scanner, defaults, sites, zones) and the sections in
    `keep`, then changed by `edit(data)`: tests judge exactly the targets they name."""
    import yaml

    data = yaml.safe_load(LAB_INVENTORY.read_text())
    frame = ("version", "name", "scanner", "defaults", "sites", "zones")
    data = {k: v for k, v in data.items() if k in frame or k in keep}
    edit(data)
    path = tmp / "inventory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
