"""Live-host sweep (8.1.a): which addresses of a vantage's own zone subnets answer, and are they all declared?

From each namespace vantage point, the subnets of its own zone (inside a zone nothing filters, so every live host is
visible; other zones are the segmentation probes' business) are swept with synscan's paced raw SYNs on the matrix's
`probing.sweep_ports` plus one ICMP echo per address, at the matrix's rate, timeout and retries. A SYN-ACK, a reset
the prober attributes to the destination, or an echo reply is a live address. The vantage's own source address is
left out (it is declared as a vantage point). Everything declared is read from the inventory itself: every IPv4
literal of any section (addresses, URLs, zone gateways) and the matrix's probe_hosts. An SSH vantage is not swept.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def declared_addresses(inv: Any, matrix: Any | None) -> dict[str, str]:
    """address -> first inventory path naming it (any section: hosts, endpoints, URLs, BMCs, zone gateways)."""
    out: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str):
            for m in IPV4.findall(node):
                if _is_ip(m):
                    out.setdefault(m, path)

    walk(inv.model_dump(mode="json"), "")
    if matrix is not None:
        for zone, addresses in matrix.spec.probe_hosts.items():
            for a in addresses:
                out.setdefault(a, f"flow_matrix probe_hosts.{zone}")
    return out


def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def sweep_plan(inv: Any, zone: str, ports: list[int], limit: int) -> list[tuple[int, str, str, int | None]]:
    """(key, address, proto, port) of every probe: each host address of the zone's subnets, each port, one echo."""
    cidrs: list[str] = next((z.cidrs for z in inv.zones if z.name == zone), [])
    hosts = [str(a) for c in cidrs for a in ipaddress.ip_network(c).hosts()]
    if len(hosts) > limit:
        raise ObservationError(
            f"zone {zone} holds {len(hosts)} addresses ({', '.join(cidrs)}), more than "
            f"probing.sweep_max_addresses = {limit}: raise it in the flow matrix to sweep them all"
        )
    probes: list[tuple[str, str, int | None]] = [(a, "tcp", p) for a in hosts for p in ports]
    probes += [(a, "icmp", None) for a in hosts]
    return [(key, a, proto, port) for key, (a, proto, port) in enumerate(probes)]


def live(plan: list[tuple[int, str, str, int | None]], found: dict[int, Any]) -> dict[str, list[dict[str, Any]]]:
    """address -> its answers that prove a live host (SYN-ACK, the destination's own reset, echo reply)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, addr, proto, port in plan:
        o = found.get(key)
        if o is None or o.state not in ("open", "closed") or o.reason.startswith("reset of undetermined"):
            continue
        out.setdefault(addr, []).append({"proto": proto, "port": port, "state": o.state, "reason": o.reason})
    return out


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.inputs.flows import Probing, matrix_of
    from preuve.observe.network import netns, synscan

    vantage, inv = target.spec
    matrix = matrix_of(inv)
    cfg = matrix.spec.probing if matrix is not None else Probing()
    base = {"vantage": vantage.name, "zone": vantage.zone, "netns": vantage.netns}
    if vantage.ssh:
        found = {**base, "swept": False, "why": f"SSH vantage (host {vantage.ssh}): swept from namespaces only"}
        return base, found, {}, f"preuve {__version__}"
    plan = sweep_plan(inv, vantage.zone, list(cfg.sweep_ports), cfg.sweep_max_addresses)
    query = {**base, "ports": list(cfg.sweep_ports), "probes": len(plan), "rate": cfg.rate, "timeout": cfg.timeout}
    t0 = time.perf_counter()
    with netns.vantage(vantage.netns):
        if not synscan.can_raw():
            raise ObservationError("the live-host sweep needs raw sockets (root, CAP_NET_RAW)")
        own = synscan.source_for(plan[0][1]) if plan else None
        result = synscan.scan(plan, timeout=cfg.timeout, retries=cfg.retries, rate=cfg.rate)
    answers = live(plan, result)
    answers.pop(own or "", None)
    declared = declared_addresses(inv, matrix)
    found = {
        **base,
        "swept": True,
        "source": own,
        "addresses": len({a for _, a, _, _ in plan}),
        "live": {a: {"declared_at": declared.get(a), "answers": r} for a, r in sorted(answers.items())},
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return query, found, {"probes": len(plan), "answered": len(answers)}, f"preuve {__version__} (raw-syn)"


COLLECTOR = Collector(
    "host_sweep",
    _collect,
    limit=6,
    fixtures=(Fixture("host_sweep", "vantage", doc="live addresses of the vantage's zone subnets (SYN/echo sweep)"),),
)
