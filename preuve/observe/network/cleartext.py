"""Clear-text administration protocols, probed from one vantage point (13.2.c): plan, send, record.

Plan (pure, recorded in the query before any result): every destination segmentation knows (inventory hosts and
endpoints, the matrix's probe_hosts and flow destinations, admin interfaces, BMCs) is asked FTP (21), telnet (23),
SNMP (161/udp), IPMI/RMCP (623/udp) and VNC (5900, 5901); every administration interface is asked a plain-HTTP
GET on its own port and on 80. The questions are in admin_protocols.py (harmless: nothing is typed into a login,
no password is sent). Pacing is the flow matrix's `probing` (timeout, retries, workers, rate): the same budget as
the segmentation probes. From a namespace vantage the probes run in a thread inside it; from an SSH vantage
admin_protocols.py is shipped over the connection and run with the host's python3, as probe_remote.py is.

SNMP communities: `public` and the vendor default `private` always, then the inventory's canary communities (by
reference, sent but never recorded: the evidence names them `canary #n`).
"""

from __future__ import annotations

import ipaddress
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

SERVICES = (("ftp", "tcp", 21), ("telnet", "tcp", 23), ("snmp", "udp", 161), ("ipmi", "udp", 623))
SERVICES += (("vnc", "tcp", 5900), ("vnc", "tcp", 5901))
DEFAULT_COMMUNITIES = ("public", "private")


def communities(inv: Any) -> list[dict[str, str]]:
    """[{label, value}]: the defaults, then each canary community of the inventory (resolved, redacted)."""
    from preuve.observe.reveal import reveal

    out = [{"label": c, "value": c} for c in DEFAULT_COMMUNITIES]
    for n, ref in enumerate(inv.management.snmp_communities, 1):
        out.append({"label": f"canary #{n}", "value": reveal(ref, f"SNMP canary community #{n}")})
    return out


def plan(inv: Any, matrix: Any) -> list[dict[str, Any]]:
    """Every probe, in a stable order: destinations by address, then the admin interfaces' plain-HTTP probes."""
    from preuve.observe.network.segmentation import admin_interfaces, destinations

    dests = destinations(inv, matrix)
    probes: list[dict[str, Any]] = []

    def add(dst: str, name: str, zone: str, kind: str, proto: str, port: int) -> None:
        probes.append(
            {"id": len(probes), "dst": dst, "dst_name": name, "dst_zone": zone, "kind": kind, "proto": proto}
            | {"port": port}
        )

    for dst, (name, zone) in sorted(dests.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
        for kind, proto, port in SERVICES:
            add(dst, name, zone, kind, proto, port)
    seen: set[tuple[str, int]] = set()
    for (addr, port), name in sorted(admin_interfaces(inv).items()):
        zone = dests.get(addr, (name, "?"))[1]
        for p in (port, 80):
            if (addr, p) not in seen:
                seen.add((addr, p))
                add(addr, name, zone, "http", "tcp", p)
    return probes


def _run_here(ns: str | None, probes: list[dict], cfg: Any) -> list[dict]:
    from preuve.observe.network.netns import vantage

    with vantage(ns), ThreadPoolExecutor(max_workers=1) as pool:  # created in `ns`, so its worker is there too
        return pool.submit(sweep_here, probes, cfg).result()


def sweep_here(probes: list[dict], cfg: Any) -> list[dict]:
    """In this thread's namespace. With raw sockets (root), the TCP ports are SYN-scanned first (synscan: paced,
    one timeout for all) and only those that answer SYN-ACK get their protocol's question; UDP probes share one
    socket (admin_protocols.udp_batch). A 10,000-probe sweep so costs about what the segmentation sweep costs."""
    from preuve.observe.network import admin_protocols, synscan

    udp = [p for p in probes if p["kind"] in admin_protocols.UDP_KINDS]
    tcp = [p for p in probes if p["kind"] not in admin_protocols.UDP_KINDS]
    out = admin_protocols.udp_batch(udp, cfg.timeout, cfg.retries, cfg.rate) if udp else []
    if any(p["kind"] != "fetch" for p in tcp) and synscan.can_raw():  # fetch: a URL, maybe through a proxy
        found = synscan.scan(
            [(p["id"], p["dst"], "tcp", p["port"]) for p in tcp if p["kind"] != "fetch"],
            timeout=cfg.timeout,
            retries=cfg.retries,
            rate=cfg.rate,
        )
        out += [
            {"id": k, "state": o.state, "reason": o.reason, "tries": o.tries}
            for k, o in found.items()
            if o.state != "open"
        ]
        tcp = [p for p in tcp if p["kind"] == "fetch" or found[p["id"]].state == "open"]
    return out + (admin_protocols.run(tcp, cfg.timeout, cfg.retries, cfg.workers, cfg.rate) if tcp else [])


def budget(n: int, cfg: Any, timeout: float) -> float:
    """Seconds a remote run may take: the segmentation formula (rounds of workers, retries, the rate)."""
    rounds = -(-n // max(cfg.workers, 1))
    return timeout + (cfg.timeout * (cfg.retries + 1) * 2 + 0.5) * max(rounds, 1) + n / cfg.rate + 10


def _run_over_ssh(ssh: Any, probes: list[dict], cfg: Any, timeout: float) -> list[dict]:
    from preuve.observe.ssh import connection

    source = (Path(__file__).parent / "admin_protocols.py").read_bytes()
    request = json.dumps(
        {"probes": probes, "timeout": cfg.timeout, "retries": cfg.retries, "workers": cfg.workers, "rate": cfg.rate}
    ).encode()
    loader = "import sys;n=int(sys.stdin.buffer.readline());src=sys.stdin.buffer.read(n);"
    loader += "g={'__name__':'admin_protocols'};exec(compile(src,'admin_protocols','exec'),g);g['main']()"
    output = connection.run_python(ssh, timeout, loader, source, request, budget(len(probes), cfg, timeout))
    try:
        return json.loads(output)["results"]
    except (ValueError, KeyError, TypeError):
        raise ObservationError(f"vantage {ssh.host}: probe output is not JSON: {output[:200]!r}") from None


def matrix_or_empty(inv: Any) -> Any:
    """The inventory's flow matrix, or an empty one (no probe_hosts, default probing) when it names none."""
    from preuve.inputs.flows import FlowMatrix, FlowMatrixFile, matrix_of

    return matrix_of(inv) or FlowMatrix(path=Path("-"), sha256="", spec=FlowMatrixFile())


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.ssh.target import ssh_target

    vantage, inv = target.spec
    matrix = matrix_or_empty(inv)
    cfg = matrix.spec.probing
    probes = plan(inv, matrix)
    query = {
        "vantage": vantage.name,
        "zone": vantage.zone,
        "netns": vantage.netns,
        "ssh": vantage.ssh,
        "probing": cfg.model_dump(),
        "communities": [
            *DEFAULT_COMMUNITIES,
            *(f"canary #{n}" for n in range(1, len(inv.management.snmp_communities) + 1)),
        ],
        "ftp_user": inv.management.ftp_probe_user,
        "plan": probes,
    }
    wire = [
        p
        | ({"communities": communities(inv)} if p["kind"] == "snmp" else {})
        | ({"user": inv.management.ftp_probe_user} if p["kind"] == "ftp" else {})
        for p in probes
    ]
    t0 = time.perf_counter()
    if vantage.ssh:
        if vantage.ssh not in hosts:
            raise ObservationError(f"vantage host {vantage.ssh} has no SSH access in the inventory")
        results, mode = _run_over_ssh(ssh_target(hosts[vantage.ssh], hosts), wire, cfg, timeout), "ssh"
    else:
        results, mode = _run_here(vantage.netns, wire, cfg), "netns" if vantage.netns else "scanner"
    by_id = {r["id"]: r for r in results}
    rows = [p | by_id.get(p["id"], {"state": "error", "reason": "no result returned"}) for p in probes]
    answered = [r for r in rows if r.get("protocol")]
    found = {
        "vantage": vantage.name,
        "zone": vantage.zone,
        "mode": mode,
        "probes": rows,
        "answered": len(answered),
        "cleartext": sum(1 for r in rows if r.get("cleartext")),
        "errors": sum(1 for r in rows if r.get("state") == "error"),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return query, found, {"mode": mode, "results": len(results)}, f"preuve {__version__} ({mode})"


COLLECTOR = Collector(
    "cleartext_admin",
    _collect,
    limit=6,
    fixtures=(
        Fixture(
            "admin_protocols",
            "vantage",
            doc="administration protocols asked their first question from one vantage point: FTP, telnet, SNMP "
            "v1/v2c/v3, IPMI/RMCP, VNC security types, plain HTTP on admin interfaces",
        ),
    ),
)
