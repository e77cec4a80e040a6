"""Targets of the administration and egress probes (issue 20): vantage points judged on egress, egress proxies
and web endpoints a WAF must protect. Registered on import by preuve.inputs.targets."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from preuve.inputs.inventory import Inventory
from preuve.inputs.targets import Target, _vantages, target_kind


@target_kind("egress_vantage")
def _egress_vantages(inv: Inventory) -> list[Target]:
    """Vantage points of every zone that is not public (a public zone is the outside itself), when the inventory
    declares egress canaries (12.14.a); spec is (vantage, inventory) as for segmentation."""
    if not inv.egress.canaries:
        return []
    public = {z.name for z in inv.zones if z.kind == "public"}
    return [replace(t, kind="egress_vantage") for t in _vantages(inv) if t.zone not in public]


@target_kind("egress_proxy")
def _egress_proxies(inv: Inventory) -> list[Target]:
    """Each declared egress proxy, tried from its vantage point; spec is (proxy, vantage, inventory)."""
    out = []
    vantages = {v.name: v for v in inv.vantage_points}
    for p in inv.egress.proxies:
        u = urlsplit(p.url)
        v = vantages.get(p.vantage)
        zone = v.zone if v else None
        out.append(Target("egress_proxy", p.name, u.hostname or "", u.port, zone, None, tuple(p.tags), (p, v, inv)))
    return out


@target_kind("waf_endpoint")
def _waf_endpoints(inv: Inventory) -> list[Target]:
    """Public endpoints a web application firewall must protect (13.2.d)."""
    out = []
    for w in inv.waf_endpoints:
        u = urlsplit(w.url)
        port = u.port or (443 if u.scheme == "https" else 80)
        out.append(Target("waf_endpoint", w.name, u.hostname or "", port, w.zone, w.site, tuple(w.tags), w))
    return out
