"""Segmentation probes: plan them from the flow matrix, send them from one vantage point, classify the replies.

Plan (pure, recorded in the observation's query before any result): *positive* probes for every matrix flow
whose source zone is the vantage's zone, to every destination host of the flow; *negative* probes, for every
destination host of another zone, on every matrix port and sentinel port the matrix does not open for that pair
(every TCP port in full-range mode), plus an ICMP echo. Each probe carries what the matrix expects:
  open       a narrow allowed flow: the service must answer;
  reachable  a wide allowed range (e.g. 1-65535), sampled: the path must be open (open, or a reset from the host);
  blocked    not in the matrix: filtered (ICMP prohibited, or a reset / port-unreachable a middlebox sent in the
             destination's name: synscan tells it by TTL) or silent. The destination's own reset means the packet
             reached the host: the network did not block it.
Execution: from a lab namespace with raw SYN/ICMP (root) or connect() (no root); from an SSH vantage with the
stdlib prober (probe_remote.py) shipped over the connection. A vantage that cannot be reached raises
ObservationError, so its checks are `error`, never `pass`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.flows import Flow, FlowMatrix
    from preuve.inputs.targets import Target


EXPECT_OK = {"open": {"open"}, "reachable": {"open", "closed"}, "blocked": {"filtered", "silent"}}


@dataclass(frozen=True)
class Probe:
    id: int
    dst: str
    dst_name: str
    dst_zone: str
    proto: str
    port: int | None
    expect: str
    flow: str | None  # the matrix flow that allows it (None: default deny)
    line: str | None  # matrix file:line of that flow


def zone_of(address: str, inv: Any) -> str | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for z in inv.zones:
        if any(ip in ipaddress.ip_network(c) for c in z.cidrs):
            return z.name
    return None


def destinations(inv: Any, matrix: FlowMatrix) -> dict[str, tuple[str, str]]:
    """address -> (name, zone) of everything worth probing: inventory hosts and endpoints, matrix probe_hosts."""
    out: dict[str, tuple[str, str]] = {}
    for section in ("hosts", "tls_endpoints", "ssh_endpoints"):
        for item in getattr(inv, section, []):
            zone = item.zone or zone_of(item.address, inv)
            if zone is not None:
                out.setdefault(item.address, (item.name, zone))
    for (addr, _port), name in admin_interfaces(inv).items():
        zone = zone_of(addr, inv)
        if zone is not None:
            out.setdefault(addr, (name, zone))
    for b in getattr(getattr(inv, "management", None), "bmcs", []) or []:  # BMCs: also probed on 623/udp
        zone = b.zone or zone_of(b.address, inv)
        if zone is not None:
            out.setdefault(b.address, (b.name, zone))
    for zone, addresses in matrix.spec.probe_hosts.items():
        for a in addresses:
            out.setdefault(a, (a, zone))
    for f in matrix.flows:
        for h in f.dst_hosts:
            host = next((x for x in inv.hosts if h in (x.name, x.address)), None)
            addr = host.address if host else h
            zone = zone_of(addr, inv)
            if zone is not None:
                out.setdefault(addr, (host.name if host else addr, zone))
    return out


def admin_interfaces(inv: Any) -> dict[tuple[str, int], str]:
    """(address, port) -> name of every administration interface the inventory declares: admin TLS endpoints,
    web admin consoles, Kubernetes API servers, BMC web consoles (9.6.d: none may answer from a public zone)."""
    from urllib.parse import urlsplit

    out: dict[tuple[str, int], str] = {}
    for e in getattr(inv, "tls_endpoints", []):
        if e.admin:
            out[(e.address, e.port)] = e.name
    baseline = getattr(inv, "baseline", None)
    for w in getattr(baseline, "web_admins", []) or []:
        u = urlsplit(w.url)
        if u.hostname:
            out[(u.hostname, u.port or 443)] = w.name
    for c in getattr(getattr(inv, "kubernetes", None), "clusters", []) or []:
        u = urlsplit(getattr(c, "server", None) or "")
        if u.hostname:
            out[(u.hostname, u.port or 443)] = f"{c.name}-api"
    for b in getattr(getattr(inv, "management", None), "bmcs", []) or []:  # a BMC's web console (9.7.c)
        out[(b.address, b.web_port)] = b.name
    return {k: v for k, v in out.items() if _is_ip(k[0])}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def known_services(inv: Any) -> dict[str, set[int]]:
    """address -> TCP ports the inventory says are served there (SSH of hosts, TLS endpoints)."""
    out: dict[str, set[int]] = {}
    for h in inv.hosts:
        port = h.ssh.port if h.ssh else (inv.defaults.ssh.port if inv.defaults.ssh else 22)
        out.setdefault(h.address, set()).add(port)
    for e in list(getattr(inv, "tls_endpoints", [])) + list(getattr(inv, "ssh_endpoints", [])):
        out.setdefault(e.address, set()).add(e.port)
    for addr, port in admin_interfaces(inv):
        out.setdefault(addr, set()).add(port)
    return out


def _flow_hosts(flow: Flow, dests: dict[str, tuple[str, str]], inv: Any) -> list[str]:
    if flow.dst_hosts:
        wanted = set()
        for h in flow.dst_hosts:
            host = next((x for x in inv.hosts if h in (x.name, x.address)), None)
            wanted.add(host.address if host else h)
        return sorted(wanted)
    return sorted(a for a, (_, z) in dests.items() if z in flow.dst)


def allowed_by(
    flows: list[tuple[Flow, set[str]]], src_zone: str, dst: str, proto: str, port: int | None
) -> Flow | None:
    """The first flow (with its destination addresses) that allows this probe (None: default deny)."""
    for f, hosts in flows:
        if src_zone not in f.src or f.proto != proto or dst not in hosts:
            continue
        if proto == "icmp" or any(lo <= (port or 0) <= hi for lo, hi in f.ports):
            return f
    return None


def plan(inv: Any, matrix: FlowMatrix, zone: str) -> list[Probe]:
    """Every probe a vantage of `zone` sends, positive then negative, in a stable order."""
    dests = destinations(inv, matrix)
    services = known_services(inv)
    cfg = matrix.spec.probing
    rows: dict[tuple[str, str, int | None], tuple[str, Flow | None]] = {}

    for f in matrix.flows:
        if zone not in f.src:
            continue
        for dst in _flow_hosts(f, dests, inv):
            if dests.get(dst, ("", zone_of(dst, inv)))[1] == zone:
                continue  # same zone: the traffic never crosses a filtering point we can attribute
            if f.proto == "icmp":
                rows.setdefault((dst, "icmp", None), ("open", f))
                continue
            ports = sorted(f.port_set()) if sum(hi - lo + 1 for lo, hi in f.ports) <= cfg.wide_range else None
            if ports is not None:
                for p in ports:
                    rows.setdefault((dst, f.proto, p), ("open", f))
            else:
                served = sorted(p for p in services.get(dst, ()) if any(lo <= p <= hi for lo, hi in f.ports))
                if f.proto == "tcp" and served:
                    for p in served:
                        rows.setdefault((dst, "tcp", p), ("open", f))
                else:
                    rows.setdefault((dst, f.proto, f.ports[0][0]), ("reachable", f))

    narrow: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    for f in matrix.flows:
        if f.proto in narrow and sum(hi - lo + 1 for lo, hi in f.ports) <= cfg.wide_range:
            narrow[f.proto] |= f.port_set()
    flows = [(f, set(_flow_hosts(f, dests, inv))) for f in matrix.flows]
    tcp = set(range(1, 65536)) if cfg.full_range else narrow["tcp"] | set(matrix.spec.sentinel_ports.tcp)
    udp = narrow["udp"] | set(matrix.spec.sentinel_ports.udp)
    admin_ports = {}
    for addr, port in admin_interfaces(inv):
        admin_ports.setdefault(addr, set()).add(port)
    for dst, (_, dzone) in sorted(dests.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
        if dzone == zone:
            continue
        host_tcp = sorted(tcp | admin_ports.get(dst, set()))
        for proto, ports in (("tcp", host_tcp), ("udp", sorted(udp)), ("icmp", [None])):
            for p in ports:
                if (dst, proto, p) in rows:
                    continue
                flow = allowed_by(flows, zone, dst, proto, p)
                if flow is None:
                    rows[(dst, proto, p)] = ("blocked", None)
    probes = []
    for i, ((dst, proto, port), (expect, flow)) in enumerate(rows.items()):
        name, dzone = dests.get(dst, (dst, zone_of(dst, inv) or "?"))
        probes.append(
            Probe(
                i,
                dst,
                name,
                dzone,
                proto,
                port,
                expect,
                flow.id if flow else None,
                matrix.where(flow.id) if flow else None,
            )
        )
    return probes


def plan_digest(probes: list[Probe]) -> str:
    return hashlib.sha256(json.dumps([asdict(p) for p in probes], sort_keys=True).encode()).hexdigest()


# --- execution ---------------------------------------------------------------------------------------


def probe_in_netns(ns: str | None, probes: list[Probe], cfg: Any) -> tuple[dict[int, dict], str]:
    """Run the probes from a namespace (None: where this thread is) in this thread: raw SYN/ICMP when root,
    connect() otherwise."""
    from preuve.observe.network import probe_remote, synscan
    from preuve.observe.network.netns import vantage

    with vantage(ns):
        out: dict[int, dict] = {}
        raw = synscan.can_raw()
        rest = [asdict(p) for p in probes if not raw or p.proto == "udp"]
        with ThreadPoolExecutor(max_workers=1) as pool:  # created here, so its thread is in `ns` too
            args = (rest, cfg.timeout, cfg.retries, cfg.workers, cfg.rate)
            slow = pool.submit(probe_remote.run, *args) if rest else None
            if raw:
                found = synscan.scan(
                    [(p.id, p.dst, p.proto, p.port) for p in probes if p.proto != "udp"],
                    timeout=cfg.timeout,
                    retries=cfg.retries,
                    rate=cfg.rate,
                )
                out.update({k: {"state": o.state, "reason": o.reason, "tries": o.tries} for k, o in found.items()})
            for r in slow.result() if slow else []:
                out[r["id"]] = r
        return out, "raw-syn" if raw else "connect"


def probe_over_ssh(ssh_target: Any, probes: list[Probe], cfg: Any, timeout: float) -> tuple[dict[int, dict], str]:
    """Ship probe_remote.py over one SSH connection, run it with python3 on the vantage host, read JSON back."""
    from preuve.observe.ssh import connection

    source = (Path(__file__).parent / "probe_remote.py").read_bytes()
    request = json.dumps(
        {
            "probes": [asdict(p) for p in probes],
            "timeout": cfg.timeout,
            "retries": cfg.retries,
            "workers": cfg.workers,
            "rate": cfg.rate,
        }
    ).encode()
    loader = (
        "import sys;n=int(sys.stdin.buffer.readline());exec(compile(sys.stdin.buffer.read(n),'probe_remote','exec'))"
    )
    rounds = -(-len(probes) // max(cfg.workers, 1))
    budget = timeout + (cfg.timeout * (cfg.retries + 1) + 0.5) * max(rounds, 1) + len(probes) / cfg.rate + 10
    output = connection.run_python(ssh_target, timeout, loader, source, request, budget)
    try:
        data = json.loads(output)
    except ValueError:
        raise ObservationError(f"vantage {ssh_target.host}: probe output is not JSON: {output[:200]!r}") from None
    return {r["id"]: r for r in data["results"]}, "ssh-connect"


def judge_probe(p: Probe, result: dict) -> str:
    """ok / deviation / error for one probe."""
    if result.get("state") == "error":
        return "error"
    return "ok" if result.get("state") in EXPECT_OK[p.expect] else "deviation"


def collect(
    vantage: Any, inv: Any, matrix: FlowMatrix, ssh_target: Any | None, timeout: float
) -> tuple[dict, dict, dict]:
    """(query, facts, raw) of one vantage point. The query holds the whole plan and its sha256."""
    probes = plan(inv, matrix, vantage.zone)
    query = {
        "vantage": vantage.name,
        "zone": vantage.zone,
        "netns": vantage.netns,
        "ssh": vantage.ssh,
        "matrix": str(matrix.path),
        "matrix_sha256": matrix.sha256,
        "probing": matrix.spec.probing.model_dump(),
        "plan_sha256": plan_digest(probes),
        "plan": [asdict(p) for p in probes],
    }
    t0 = time.perf_counter()
    if vantage.ssh:
        results, mode = probe_over_ssh(ssh_target, probes, matrix.spec.probing, timeout)
    else:
        results, mode = probe_in_netns(vantage.netns, probes, matrix.spec.probing)
    rows, counts = [], {"ok": 0, "deviation": 0, "error": 0}
    for p in probes:
        r = results.get(p.id, {"state": "error", "reason": "no result returned", "tries": 0})
        verdict = judge_probe(p, r)
        counts[verdict] += 1
        rows.append(
            {**asdict(p), "state": r["state"], "reason": r["reason"], "tries": r.get("tries", 0), "verdict": verdict}
        )
    facts = {
        "vantage": vantage.name,
        "zone": vantage.zone,
        "mode": mode,
        "probes": rows,
        "counts": counts,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return query, facts, {"mode": mode, "results": len(results)}


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.inputs.flows import matrix_of
    from preuve.observe.ssh.target import ssh_target

    vantage, inv = target.spec
    matrix = matrix_of(inv)
    if matrix is None:
        raise ObservationError("the inventory names no flow_matrix: nothing to probe against")
    ssh = None
    if vantage.ssh:
        if vantage.ssh not in hosts:
            raise ObservationError(f"vantage host {vantage.ssh} has no SSH access in the inventory")
        ssh = ssh_target(hosts[vantage.ssh], hosts)
    query, found, raw = collect(vantage, inv, matrix, ssh, timeout)
    return query, found, raw, f"preuve {__version__} ({found['mode']})"


COLLECTOR = Collector(
    "segmentation",
    _collect,
    limit=6,
    fixtures=(
        Fixture("segmentation", "vantage", doc="flow-matrix probes sent from one vantage point"),
        Fixture(
            "public_segmentation",
            "public_vantage",
            doc="flow-matrix probes sent from a vantage point of a public zone",
        ),
    ),
)
