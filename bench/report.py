"""Ratios, acceptance targets and the printed tables."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.agree import Agreement
from bench.inputs import Endpoint
from bench.measure import Measurement

PREUVE = "preuve"
SSH_FACTS_TARGET_S = 0.5
TESTSSL_MIN_RATIO = 10.0
_OBSERVATION_LABELS = {
    "tls": "observation, in-process (tls)",
    "ssh_protocol": "observation ssh_protocol (KEXINIT, host keys)",
    "ssh_host": "observation ssh_host (sshd -T, one login)",
    "span": "both observations, concurrent span",
}
_TOOL_LABELS = {
    PREUVE: "preuve run -q ({kind} checks)",
    "sslyze": "sslyze CLI, default scan",
    "testssl.sh": "testssl.sh, default scan",
    "ssh-audit --skip-rate-test": "ssh-audit -j --skip-rate-test",
    "ssh-audit": "ssh-audit -j (with rate test)",
}


@dataclass
class EndpointResult:
    """Everything measured and compared for one endpoint."""

    endpoint: Endpoint
    measurements: dict[str, Measurement] = field(default_factory=dict)
    observation_ms: dict[str, float | None] = field(default_factory=dict)
    agreement: list[Agreement] = field(default_factory=list)

    def median(self, tool: str) -> float | None:
        m = self.measurements.get(tool)
        return m.median_s if m else None

    def ratio(self, tool: str) -> float | None:
        """peer median / preuve median (> 1: preuve is faster)."""
        peer, ours = self.median(tool), self.median(PREUVE)
        return round(peer / ours, 2) if peer and ours else None

    def rest_s(self) -> float | None:
        """preuve's whole process minus its observation time: start-up, imports, judging, reports."""
        whole = self.median(PREUVE)
        network = self.observation_ms.get("span", self.observation_ms.get("tls"))
        return None if whole is None or network is None else round(whole - network / 1000, 4)

    def as_dict(self) -> dict[str, Any]:
        e = self.endpoint
        return {
            "endpoint": {"kind": e.kind, "name": e.name, "address": e.address, "port": e.port, "sni": e.sni},
            "tools": {name: m.as_dict() for name, m in self.measurements.items()},
            "ratios_vs_preuve": {n: self.ratio(n) for n in self.measurements if n != PREUVE},
            "preuve_observation_ms": self.observation_ms,
            "preuve_rest_s": self.rest_s(),
            "agreement": [a.as_dict() for a in self.agreement],
        }


def median_times(per_run: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Median, key by key, of the observation times of several preuve runs."""
    keys = dict.fromkeys(k for run in per_run for k in run)
    out: dict[str, float | None] = {}
    for key in keys:
        values = [run[key] for run in per_run if run.get(key) is not None]
        out[key] = round(statistics.median(values), 1) if values else None  # type: ignore[type-var]
    return out


# --- acceptance targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    endpoint: str
    name: str
    holds: bool | None  # None: not measured
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "target": self.name, "holds": self.holds, "detail": self.detail}


def targets(results: list[EndpointResult]) -> list[Target]:
    """The acceptance targets, judged on the medians."""
    out = []
    for r in results:
        if r.endpoint.kind == "tls":
            out += [_testssl_target(r), _sslyze_target(r)]
        else:
            out.append(_ssh_target(r))
    return out


def _testssl_target(r: EndpointResult) -> Target:
    name = f"preuve TLS check >= {TESTSSL_MIN_RATIO:g}x faster than testssl.sh"
    ratio = r.ratio("testssl.sh")
    if ratio is None:
        return Target(r.endpoint.name, name, None, "testssl.sh not measured")
    detail = f"testssl.sh {r.median('testssl.sh'):.1f} s = {ratio:.0f}x preuve ({r.median(PREUVE):.3f} s)"
    return Target(r.endpoint.name, name, ratio >= TESTSSL_MIN_RATIO, detail)


def _sslyze_target(r: EndpointResult) -> Target:
    name = "preuve TLS check faster than the sslyze CLI default scan"
    ours, peer = r.median(PREUVE), r.median("sslyze")
    if ours is None or peer is None:
        return Target(r.endpoint.name, name, None, "not measured")
    return Target(r.endpoint.name, name, ours < peer, f"preuve {ours:.3f} s, sslyze {peer:.3f} s")


def _ssh_target(r: EndpointResult) -> Target:
    name = f"SSH protocol + sshd -T facts of one host < {SSH_FACTS_TARGET_S:g} s"
    span = r.observation_ms.get("span")
    whole = r.median(PREUVE)
    if span is None:
        return Target(r.endpoint.name, name, None, "no complete preuve run")
    detail = f"observations {span / 1000:.3f} s (concurrent span)"
    if whole is not None:
        detail += f"; whole `preuve run` process {whole:.3f} s ({'<' if whole < SSH_FACTS_TARGET_S else '>='}"
        detail += f" {SSH_FACTS_TARGET_S:g} s)"
    return Target(r.endpoint.name, name, span / 1000 < SSH_FACTS_TARGET_S, detail)


# --- printing -------------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:8.3f} s"


def ratio_words(ratio: float | None) -> str:
    """'38x preuve' / '0.86x preuve (preuve slower)'."""
    if ratio is None:
        return ""
    if ratio >= 10:
        return f"= {ratio:.0f}x preuve"
    suffix = " (preuve slower)" if ratio < 1 else ""
    return f"= {ratio:.2f}x preuve{suffix}"


def endpoint_table(r: EndpointResult) -> list[str]:
    """The timing table of one endpoint."""
    head = f"  {'tool':<46} {'wall':>10} {'cpu':>10}  runs  ratio (wall)"
    lines = [f"{r.endpoint.kind.upper()}  {r.endpoint.label}", head]
    for name, m in r.measurements.items():
        label = _TOOL_LABELS.get(name, name).format(kind=f"{r.endpoint.kind.upper()}-*")
        runs = f"{len(m.good)}/{len(m.samples)}"
        ratio = "1x (reference)" if name == PREUVE else ratio_words(r.ratio(name))
        times = f"{_seconds(m.median_s):>10} {_seconds(m.median_cpu_s):>10}"
        lines.append(f"  {label:<46} {times}  {runs:>4}  {ratio}")
        if name == PREUVE:
            lines += _observation_lines(r.observation_ms, r.rest_s())
        lines += [f"      note: {s.note}" for s in m.samples if s.note]
    return lines


def _observation_lines(observation_ms: dict[str, float | None], rest_s: float | None) -> list[str]:
    """preuve's observation times, then what the rest of its process costs."""
    lines = [
        f"    {_OBSERVATION_LABELS.get(k, k):<44} {_seconds(v / 1000 if v is not None else None):>10}"
        for k, v in observation_ms.items()
    ]
    if rest_s is not None:
        lines.append(f"    {'rest: start-up, imports, judging, reports':<44} {_seconds(rest_s):>10}")
    return lines


def target_lines(found: list[Target]) -> list[str]:
    mark = {True: "HOLDS", False: "FAILS", None: "NOT MEASURED"}
    return ["acceptance targets"] + [f"  [{mark[t.holds]:^12}] {t.endpoint}: {t.name}: {t.detail}" for t in found]


def agreement_lines(results: list[EndpointResult]) -> list[str]:
    lines = ["findings agreement (preuve vs peer, on what both test)"]
    for r in results:
        for a in r.agreement:
            lines.append(f"  {r.endpoint.name:<9} {a.item:<22} vs {a.peer:<10} {a.status}")
            if a.status != "agree":
                lines.append(f"      {a.detail}")
    return lines


def render(results: list[EndpointResult], meta: dict[str, Any]) -> str:
    """The whole human report."""
    head = [
        f"preuve bench  {meta['started_at']}  runs={meta['runs']} (testssl.sh {meta['testssl_runs']})",
        f"host: {meta['host']['cpus']} CPUs, load average {meta['host']['loadavg_start']} at start, "
        f"{meta['host']['loadavg_end']} at end",
        "versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "whole processes, median of the complete runs: wall time, and CPU time (user+sys, with children);",
        "ratio = peer median wall time / preuve median wall time",
    ]
    if max(meta["host"]["loadavg_start"][0], meta["host"]["loadavg_end"][0]) > meta["host"]["cpus"]:
        head.append("WARNING: the machine was busy (load average above its CPU count): times are inflated")
    body = [line for r in results for line in ["", *endpoint_table(r)]]
    return "\n".join([*head, *body, "", *target_lines(targets(results)), "", *agreement_lines(results)])
