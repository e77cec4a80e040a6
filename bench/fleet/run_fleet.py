"""Fleet sweep benchmark: preuve vs a plain pytest-testinfra suite on N real sshd hosts of the lab.

    python -m bench.fleet.run_fleet --hosts 50 200 500 [--testinfra-max 200] [--json out.json]

For each N: `preuve lab up --hosts N` (N sshd in pv-prod), then
- preuve: `preuve run` over the fleet inventory with the SSH host checks (`--select 'SSH-*'`: KEXINIT, host keys,
  sshd -T settings; 16 checks per host), scanning from pv-admin;
- testinfra: bench/fleet/testinfra_suite.py (the same properties, one command each, paramiko backend, --hosts list,
  no xdist), run inside pv-admin.
Each is a separate process sampled every 20 ms for peak RSS (VmHWM) and open file descriptors. Printed: wall time,
hosts/minute, peak RSS, peak fds, outcome counts, and the ratio. Lab servers run on the same 2 cores, so their CPU is
included in every number. Not a test: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "secnumcloud-3.2.yaml"
SUITE = Path(__file__).with_name("testinfra_suite.py")


def _sample(pid: int, peak: dict[str, int], stop: threading.Event, phase: Path | None) -> None:
    """Peak RSS (kB, VmHWM) and peak open fds of one process, until it exits; with `phase`, also the peak before
    that file appears (preuve: results.jsonl, written before the derived reports: HTML, OSCAL, CSV, diff)."""
    while not stop.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
            peak["rss_kb"] = max(peak["rss_kb"], hwm)
            if phase is not None and not phase.exists():
                peak["rss_before_kb"] = hwm
            peak["fds"] = max(peak["fds"], len(os.listdir(f"/proc/{pid}/fd")))
        except (OSError, StopIteration, ValueError):
            pass
        stop.wait(0.02)


def measure(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 3600, phase: Path | None = None
) -> dict[str, Any]:
    peak = {"rss_kb": 0, "fds": 0, "rss_before_kb": 0}
    stop = threading.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    sampler = threading.Thread(target=_sample, args=(proc.pid, peak, stop, phase), daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process and the children it waited for
    stop.set()
    sampler.join(1)
    return {
        "wall_s": round(wall, 2),
        "rc": proc.returncode,
        "peak_rss_mb": round(peak["rss_kb"] / 1024, 1),
        "peak_rss_before_reports_mb": round(peak["rss_before_kb"] / 1024, 1) if phase else None,
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "peak_fds": peak["fds"],
        "stdout": out[-2000:],
        "stderr": err[-2000:],
    }


def sweep_preuve(inventory: str, work: Path, n: int) -> dict[str, Any]:
    out = work / f"preuve-{n}"
    argv = [
        sys.executable,
        "-m",
        "preuve",
        "run",
        "-i",
        inventory,
        "-p",
        str(PROFILE),
        "-o",
        str(out),
        "-q",
        "--select",
        "SSH-*",
        "--concurrency",
        "32",
    ]
    m = measure(argv, phase=out / "results.jsonl")
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()] if out.exists() else []
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    m.update(checks=len(results), statuses=statuses, observe_s=run.get("observe_seconds"))
    return m


def _ssh_config(inventory: dict[str, Any], path: Path) -> None:
    ssh = inventory["defaults"]["ssh"]
    blocks = [
        f"Host {h['name']}\n  HostName {h['address']}\n  Port {h['ssh']['port']}\n  User {ssh['user']}\n"
        f"  IdentityFile {ssh['key_file']}\n  StrictHostKeyChecking no\n"
        for h in inventory["hosts"]
    ]
    path.write_text("".join(blocks))


def sweep_testinfra(inventory_path: str, work: Path, n: int) -> dict[str, Any]:
    import yaml

    inventory = yaml.safe_load(Path(inventory_path).read_text())
    config = work / f"ssh_config-{n}"
    _ssh_config(inventory, config)
    hosts = ",".join(f"paramiko://{h['name']}" for h in inventory["hosts"])
    junit = work / f"testinfra-{n}.xml"
    argv = [
        "ip",
        "netns",
        "exec",
        "pv-admin",
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "testinfra.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-o",
        "console_output_style=classic",
        str(SUITE),
        f"--hosts={hosts}",
        f"--ssh-config={config}",
        f"--junitxml={junit}",
        "--rootdir",
        str(SUITE.parent),
    ]
    m = measure(argv, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    tail = [line for line in m["stdout"].splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    m["summary"] = tail[-1] if tail else m["stderr"][-300:]
    return m


def retried(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """A sweep killed by a signal (someone rebuilt the shared lab, which kills every process in its namespaces) is
    measured again, at most twice, after bringing the fleet back."""
    from preuve_lab import fleet

    m: dict[str, Any] = {}
    for attempt in range(1, 4):
        m = fn(*args)
        m["attempts"] = attempt
        if m["rc"] is None or m["rc"] >= 0:
            break
        fleet.up(args[2])
    return m


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, nargs="+", default=[50, 200, 500])
    p.add_argument("--testinfra-max", type=int, default=500, help="skip testinfra above this fleet size")
    p.add_argument("--json", help="write every measurement to this file")
    a = p.parse_args(argv)
    from preuve_lab import fleet

    rows = []
    with tempfile.TemporaryDirectory(prefix="preuve-fleet-bench-") as tmp:
        for n in a.hosts:
            t0 = time.perf_counter()
            info = fleet.up(n)
            up_s = time.perf_counter() - t0
            row: dict[str, Any] = {"hosts": n, "fleet_up_s": round(up_s, 2), "load_before": os.getloadavg()[0]}
            row["preuve"] = retried(sweep_preuve, info["inventory"], Path(tmp), n)
            if n <= a.testinfra_max:
                row["testinfra"] = retried(sweep_testinfra, info["inventory"], Path(tmp), n)
            rows.append(row)
            _print_row(row)
    _print_table(rows)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _rate(n: int, m: dict[str, Any]) -> float:
    return n / m["wall_s"] * 60


def _print_row(row: dict[str, Any]) -> None:
    n, pv = row["hosts"], row["preuve"]
    print(
        f"N={n}: fleet up {row['fleet_up_s']} s; preuve {pv['wall_s']} s (observe {pv['observe_s']} s), "
        f"{_rate(n, pv):.0f} hosts/min, peak RSS {pv['peak_rss_mb']} MB "
        f"({pv['peak_rss_before_reports_mb']} MB before the derived reports), peak fds {pv['peak_fds']}, "
        f"CPU {pv['cpu_s']} s, rc {pv['rc']}, {pv['checks']} results {pv['statuses']}",
        flush=True,
    )
    if "testinfra" in row:
        ti = row["testinfra"]
        print(
            f"       testinfra {ti['wall_s']} s, {_rate(n, ti):.0f} hosts/min, peak RSS {ti['peak_rss_mb']} MB, "
            f"peak fds {ti['peak_fds']}, CPU {ti['cpu_s']} s, rc {ti['rc']}: {ti['summary']}",
            flush=True,
        )


def _print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        "| hosts | preuve s | preuve hosts/min | ms/host | peak RSS MB (before reports) | peak fds | testinfra s | "
        "testinfra hosts/min | testinfra RSS MB | testinfra fds | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        n, pv, ti = row["hosts"], row["preuve"], row.get("testinfra")
        cells = [
            n,
            pv["wall_s"],
            f"{_rate(n, pv):.0f}",
            f"{pv['wall_s'] / n * 1000:.0f}",
            f"{pv['peak_rss_mb']} ({pv['peak_rss_before_reports_mb']})",
            pv["peak_fds"],
        ]
        if ti:
            cells += [
                ti["wall_s"],
                f"{_rate(n, ti):.0f}",
                ti["peak_rss_mb"],
                ti["peak_fds"],
                f"{ti['wall_s'] / pv['wall_s']:.1f}x",
            ]
        else:
            cells += ["-"] * 5
        print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    sys.exit(main())
