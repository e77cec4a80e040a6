"""The bench: bring the lab up, time preuve and its peers per endpoint, compare findings, report."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import agree, tools
from bench.inputs import Endpoint, endpoints, load_lab_inventory, write_inputs
from bench.measure import Measurement, Sample, admin_netns_present, run_timed, sample
from bench.report import PREUVE, EndpointResult, median_times, render, targets
from bench.tools import Tool

LAB_GRACE_S = 15.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="run_bench.py", description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="timed runs per tool and endpoint (median; default 3)")
    p.add_argument("--testssl-runs", type=int, default=1, help="timed runs of testssl.sh (default 1)")
    p.add_argument("--quick", action="store_true", help="skip testssl.sh")
    p.add_argument(
        "--testssl-dns",
        action="store_true",
        help="let testssl.sh do its DNS lookups (they time out in the lab: see README)",
    )
    p.add_argument("--only", action="append", help="only this endpoint (repeatable): tls-good, ssh-weak...")
    p.add_argument(
        "--json",
        type=Path,
        default=Path(__file__).resolve().parent / "results.json",
        help="machine-readable results (default bench/results.json)",
    )
    p.add_argument("--keep", action="store_true", help="keep the tools' outputs (path in results.json)")
    a = p.parse_args(argv)
    if a.runs < 1 or a.testssl_runs < 1:
        p.error("--runs and --testssl-runs must be >= 1")
    return a


class Bench:
    """One bench session: a work directory, the lab, the lab inventory."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        import preuve_lab as lab

        self.args = args
        self.work = work
        self.lab = lab
        self.inventory = load_lab_inventory()
        self._inputs: dict[str, tuple[Path, Path]] = {}

    def ensure_lab(self) -> None:
        """The lab up; never scan without the admin namespace.

        Another session may be rebuilding the lab (tests do ``lab down``/``up``): give it a few
        seconds to finish before bringing the lab up ourselves.
        """
        deadline = time.monotonic() + LAB_GRACE_S
        while not admin_netns_present() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not admin_netns_present():
            self.lab.ensure_up()
        if not admin_netns_present():
            raise SystemExit("the lab's admin namespace is missing after `preuve lab up`: refusing to scan")

    def tools_for(self, endpoint: Endpoint, run: int) -> list[tuple[Tool, int]]:
        """(tool for run number ``run``, number of timed runs) for one endpoint."""
        d = self.work / endpoint.name
        if endpoint.name not in self._inputs:
            self._inputs[endpoint.name] = write_inputs(self.work / "inputs", self.inventory, endpoint)
        inv, prof = self._inputs[endpoint.name]
        out: list[tuple[Tool, int]] = [(tools.preuve(inv, prof, d / f"preuve-{run}"), self.args.runs)]
        if endpoint.kind == "tls":
            out.append((tools.sslyze(endpoint, d / f"sslyze-{run}.json"), self.args.runs))
            if not self.args.quick:
                tool = tools.testssl(endpoint, d / f"testssl-{run}.json", dns=self.args.testssl_dns)
                out.append((tool, self.args.testssl_runs))
        else:
            for rate_test in (False, True):
                output = d / f"ssh-audit-{int(rate_test)}-{run}.json"
                out.append((tools.ssh_audit(endpoint, output, rate_test=rate_test), self.args.runs))
        return out

    def warm_up(self, endpoint: Endpoint) -> None:
        """One untimed run of preuve and sslyze: page cache and bytecode warm for both, alike."""
        (self.work / endpoint.name).mkdir(parents=True, exist_ok=True)
        for tool, _ in self.tools_for(endpoint, 0)[:2]:
            self.ensure_lab()
            run_timed(tool.argv, tool.timeout, tool.output if tool.capture_stdout else None)

    def measure(self, endpoint: Endpoint) -> EndpointResult:
        """Interleaved rounds (preuve, then each peer) so that load drift hits every tool alike."""
        result = EndpointResult(endpoint)
        rounds = max(self.args.runs, self.args.testssl_runs if endpoint.kind == "tls" else 1)
        for run in range(1, rounds + 1):
            for tool, runs in self.tools_for(endpoint, run):
                if run <= runs:
                    m = result.measurements.setdefault(tool.name, Measurement(tool.name, tool.argv))
                    m.samples.append(self.sample(tool, run))
        preuve_runs = [Path(s.output) for s in result.measurements[PREUVE].good if s.output]
        result.observation_ms = median_times([tools.observation_times(d, endpoint) for d in preuve_runs])
        result.agreement = compare(endpoint, result)
        return result

    def sample(self, tool: Tool, run: int) -> Sample:
        """One timed run of ``tool`` (retried if the lab moved under it), with a progress line."""
        s = sample(
            tool.argv,
            tool.output,
            tool.validate,
            timeout=tool.timeout,
            state_dir=self.lab.state_dir(),
            ensure_lab=self.ensure_lab,
            capture_stdout=tool.capture_stdout,
            retries=tool.retries,
        )
        print(f"  run {run}: {tool.name:<28} {s.wall_s:8.3f} s  {'ok' if s.ok else s.note}", flush=True)
        return s


def compare(endpoint: Endpoint, result: EndpointResult) -> list[agree.Agreement]:
    """Findings agreement from the last complete run of each tool."""
    run_dir = result.measurements[PREUVE].last_output
    if run_dir is None:
        return []
    if endpoint.kind == "tls":
        obs = tools.observation(Path(run_dir), "tls", endpoint.name)
        ours = agree.preuve_tls_view(obs["facts"]) if obs else None
        peers = {"sslyze": agree.sslyze_tls_view, "testssl.sh": agree.testssl_tls_view}
        compare_one = agree.compare_tls
    else:
        obs = tools.observation(Path(run_dir), "ssh_protocol", endpoint.name)
        ours = agree.preuve_ssh_view(obs["facts"]) if obs else None
        peers = {"ssh-audit --skip-rate-test": agree.ssh_audit_view}
        compare_one = agree.compare_ssh
    out: list[agree.Agreement] = []
    for peer, view in peers.items():
        m = result.measurements.get(peer)
        doc = tools.load_json(m.last_output) if m else None
        if ours is not None and doc is not None:
            out += compare_one(ours, view(doc), peer.split()[0])
    return out


def loadavg() -> list[float]:
    """1, 5 and 15 minute load averages (other work on the machine skews wall times)."""
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the bench enters the lab's network namespaces")
    work = Path(tempfile.mkdtemp(prefix="preuve-bench-"))
    meta: dict[str, Any] = {"started_at": _now(), "loadavg_start": loadavg()}
    try:
        bench = Bench(args, work)
        print("lab: bringing it up (preuve_lab.ensure_up)", flush=True)
        meta["lab_started_at"] = bench.lab.ensure_up().get("started_at")
        chosen = endpoints(bench.inventory, args.only)
        if not chosen:
            raise SystemExit("no endpoint selected")
        bench.warm_up(next((e for e in chosen if e.kind == "tls"), chosen[0]))
        results = []
        for endpoint in chosen:
            print(f"measuring {endpoint.label}", flush=True)
            results.append(bench.measure(endpoint))
        meta = run_meta(args, meta, work)
        print()
        print(render(results, meta))
        write_json(args.json, meta, results)
        print(f"\nresults: {args.json}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_meta(args: argparse.Namespace, started: dict[str, Any], work: Path) -> dict[str, Any]:
    """What results.json says about the session: times, settings, machine, versions."""
    return {
        "started_at": started["started_at"],
        "finished_at": _now(),
        "runs": args.runs,
        "testssl_runs": 0 if args.quick else args.testssl_runs,
        "testssl_dns": args.testssl_dns,
        "host": {"cpus": os.cpu_count(), "loadavg_start": started["loadavg_start"], "loadavg_end": loadavg()},
        "versions": tools.versions(),
        "lab_started_at": started.get("lab_started_at"),
        "work_dir": str(work) if args.keep else None,
    }


def write_json(path: Path, meta: dict[str, Any], results: list[EndpointResult]) -> None:
    doc = {
        "meta": meta,
        "endpoints": [r.as_dict() for r in results],
        "targets": [t.as_dict() for t in targets(results)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
