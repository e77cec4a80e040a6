"""Builds the lab's namespaces, veths, addresses and routes.

Every link is created from inside the router namespace with its peer placed
directly in the zone namespace (``ip -n``), so the host's own namespace never
sees a link, an address or a route. The router has no route out: the zone
default routes end at it.
"""

from __future__ import annotations

from . import netns
from .topology import NAMESPACES, ROUTER_NS, ZONE_IFACE, ZONES, validate


def build() -> None:
    """Create all namespaces and wire them (namespaces must not exist yet)."""
    validate()
    for ns in NAMESPACES:
        netns.add(ns)

    router_cmds = ["link set lo up"]
    for zone in ZONES.values():
        r_if = zone.router_iface
        router_cmds += [
            f"link add {r_if} type veth peer name {ZONE_IFACE} netns {zone.ns}",
            f"addr add {zone.gateway}/{zone.prefixlen} dev {r_if}",
            f"link set {r_if} up",
        ]
    netns.ip_batch(ROUTER_NS, router_cmds)

    for zone in ZONES.values():
        cmds = ["link set lo up"]
        cmds += [f"addr add {a}/{zone.prefixlen} dev {ZONE_IFACE}" for a in zone.addresses]
        cmds += [f"link set {ZONE_IFACE} up", f"route add default via {zone.gateway}"]
        netns.ip_batch(zone.ns, cmds)

    proc = netns.run_in(ROUTER_NS, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    if proc.returncode != 0:
        raise RuntimeError(f"cannot enable forwarding in {ROUTER_NS}: {proc.stderr.strip()}")


def forwarding_enabled() -> bool:
    """Read the router's ip_forward (``/proc/sys/net`` follows the thread's netns)."""
    try:
        with netns.enter(ROUTER_NS), open("/proc/sys/net/ipv4/ip_forward") as fh:
            return fh.read().strip() == "1"
    except FileNotFoundError:
        return False


def addresses_present() -> bool:
    """Every zone address of the topology is up in its namespace (a lab built before one was added is stale)."""
    import subprocess

    for zone in ZONES.values():
        if not netns.exists(zone.ns):
            return False
        proc = subprocess.run(
            ["ip", "-n", zone.ns, "-4", "-o", "addr", "show", "dev", ZONE_IFACE],
            capture_output=True,
            text=True,
            check=False,
        )
        held = {f.split("/")[0] for line in proc.stdout.splitlines() for f in line.split() if "/" in f}
        if not set(zone.addresses) <= held:
            return False
    return True
