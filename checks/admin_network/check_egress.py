"""Outbound flows leave only through the declared proxies, which filter them (12.14.a).

EGRESS-DIRECT-REFUSED: from each vantage point of a zone that is not public, no outside canary answers a direct
GET, and (the control) the canary allowed through the proxies answers through at least one of them from the same
vantage: a refused direct attempt to a dead canary would otherwise pass. EGRESS-PROXY-FILTERS: through each
proxy, the allowed canary comes back, the refused one does not (a proxy that forwards anything suppresses
nothing), and the proxy sits in a DMZ-kind zone.
"""

from preuve.judge import ObservationError, check


def _where(p: dict) -> str:
    via = f" via {p['proxy_name']} ({p['proxy']})" if p.get("proxy") else " direct"
    return f"{p['canary']} {p['url']}{via}"


@check(
    "EGRESS-DIRECT-REFUSED",
    requirements={
        "12.14.a#1": "from every zone but the public one, a direct connection to an outside canary gets no answer",
        "12.10.c#2": "no direct path from the infrastructure to the outside: inbound content comes through the "
        "DMZ devices only",
    },
    target="egress_vantage",
    severity="high",
    rule="sortants uniquement par les dispositifs de sortie déclarés",
)
def check_direct_egress(egress, judge):
    direct = [p for p in egress["probes"] if not p.get("proxy")]
    control = [p for p in egress["probes"] if p.get("proxy")]
    judge.each(
        "egress.direct",
        {
            f"{egress['vantage']} ({egress['zone']}): {_where(p)}: {p['reason']}": not p.get("marker_seen")
            for p in direct
        },
        observed={_where(p): f"{p['state']} ({p['reason']})" for p in direct},
    )
    if judge.failed:
        return
    alive = [p for p in control if p.get("marker_seen")]
    if not alive:
        seen = "; ".join(f"{_where(p)}: {p['state']} ({p['reason']})" for p in control) or "no proxy declared"
        raise ObservationError(f"no allowed canary answered through a proxy from {egress['vantage']}: {seen}")
    judge.non_empty("egress.control", [_where(p) for p in alive])


@check(
    "EGRESS-PROXY-FILTERS",
    requirements={
        "12.14.a#2": "the egress proxy suppresses: a destination it must refuse does not come back through it",
        "12.14.a#3": "the egress proxy is hosted in a DMZ-kind zone, apart from the rest of the infrastructure",
    },
    target="egress_proxy",
    severity="high",
    rule="dispositif de sortie : inspection et suppression des sortants, en zone cloisonnée",
)
def check_proxy_filters(egress_proxy, judge):
    proxy = egress_proxy["proxy"]
    rows = egress_proxy["probes"]
    if any(p.get("state") == "error" for p in rows):
        bad = next(p for p in rows if p.get("state") == "error")
        raise ObservationError(f"{_where(bad)}: {bad['reason']}")
    allowed = [p for p in rows if p["expect"] == "allowed"]
    if not any(p.get("marker_seen") for p in allowed):
        seen = "; ".join(f"{_where(p)}: {p['state']} ({p['reason']})" for p in allowed)
        raise ObservationError(f"proxy {proxy['name']} returned no allowed canary (dead proxy or canary?): {seen}")
    judge.each(
        "egress.proxy_refuses",
        {f"{_where(p)}: {p['reason']}": not p.get("marker_seen") for p in rows if p["expect"] == "refused"},
    )
    judge.equals("egress.proxy_zone", f"{proxy['zone']} ({proxy['zone_kind']})", f"{proxy['zone']} (dmz)")
