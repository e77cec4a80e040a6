"""Egress towards the outside (12.14.a): from each vantage point, straight to the declared outside canaries and
through each declared proxy; and from each proxy's own vantage, what the proxy lets out.

The canaries are the inventory's `egress.canaries` (an address outside the service answering a page with a
marker). A direct GET that returns the marker is egress that bypassed the proxies. A direct attempt that is
refused proves nothing on its own (a dead canary is refused too): in the same observation, the allowed canaries
are fetched through the proxies from the same vantage point, the control that the canary answers. A proxy is
judged on what it lets through: a canary marked `allowed` must come back, one marked `refused` must not (a proxy
that forwards everything inspects nothing). Probes are GET requests with the flow matrix's pacing (the same
prober as the clear-text probes, shipped to SSH vantages the same way).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


def _proxy(url: str) -> str:
    u = urlsplit(url)
    return f"{u.hostname}:{u.port}"


def plan_vantage(inv: Any) -> list[dict[str, Any]]:
    """Direct GETs to every canary, then every allowed canary through every proxy (the liveness control)."""
    probes: list[dict[str, Any]] = []
    for c in inv.egress.canaries:
        probes.append({"id": len(probes), "kind": "fetch", "canary": c.name, "url": c.url, "marker": c.marker})
    for p in inv.egress.proxies:
        for c in inv.egress.canaries:
            if c.through_proxy == "allowed":
                probes.append(
                    {"id": len(probes), "kind": "fetch", "canary": c.name, "url": c.url, "marker": c.marker}
                    | {"proxy": _proxy(p.url), "proxy_name": p.name}
                )
    return probes


def plan_proxy(proxy: Any, inv: Any) -> list[dict[str, Any]]:
    """Every canary through this proxy."""
    return [
        {"id": i, "kind": "fetch", "canary": c.name, "url": c.url, "marker": c.marker, "expect": c.through_proxy}
        | {"proxy": _proxy(proxy.url), "proxy_name": proxy.name}
        for i, c in enumerate(inv.egress.canaries)
    ]


def _send(vantage: Any, probes: list[dict], cfg: Any, timeout: float, hosts: dict[str, Target]) -> tuple[list, str]:
    from preuve.observe.network.cleartext import _run_here, _run_over_ssh
    from preuve.observe.ssh.target import ssh_target

    if vantage.ssh:
        if vantage.ssh not in hosts:
            raise ObservationError(f"vantage host {vantage.ssh} has no SSH access in the inventory")
        return _run_over_ssh(ssh_target(hosts[vantage.ssh], hosts), probes, cfg, timeout), "ssh"
    return _run_here(vantage.netns, probes, cfg), "netns" if vantage.netns else "scanner"


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.network.cleartext import matrix_or_empty
    from preuve.observe.network.segmentation import zone_of

    if target.kind == "egress_proxy":
        proxy, vantage, inv = target.spec
        if vantage is None:
            raise ObservationError(f"proxy {proxy.name}: its vantage point {proxy.vantage!r} is not declared")
        probes = plan_proxy(proxy, inv)
    else:
        vantage, inv = target.spec
        proxy = None
        probes = plan_vantage(inv)
    cfg = matrix_or_empty(inv).spec.probing
    query = {"vantage": vantage.name, "zone": vantage.zone, "probing": cfg.model_dump(), "plan": probes}
    t0 = time.perf_counter()
    results, mode = _send(vantage, probes, cfg, timeout, hosts)
    by_id = {r["id"]: r for r in results}
    rows = [p | by_id.get(p["id"], {"state": "error", "reason": "no result returned"}) for p in probes]
    found: dict[str, Any] = {"vantage": vantage.name, "zone": vantage.zone, "mode": mode, "probes": rows}
    if proxy is not None:
        address = urlsplit(proxy.url).hostname or ""
        zone = zone_of(address, inv)
        kind = next((z.kind for z in inv.zones if z.name == zone), None)
        found["proxy"] = {"name": proxy.name, "url": proxy.url, "zone": zone, "zone_kind": kind}
    found["seconds"] = round(time.perf_counter() - t0, 3)
    return query, found, {"mode": mode, "results": len(results)}, f"preuve {__version__} ({mode})"


COLLECTOR = Collector(
    "egress",
    _collect,
    limit=6,
    fixtures=(
        Fixture(
            "egress",
            "egress_vantage",
            doc="GETs to the outside canaries from one vantage point: direct, and through each proxy (control)",
        ),
        Fixture("egress_proxy", "egress_proxy", doc="every outside canary fetched through one egress proxy"),
    ),
)
