"""The network behaves as the flow matrix says, seen from every vantage point.

Each probe was planned from the matrix (positive: the flow must work; negative: default deny) and classified from
what came back. The destination's own reset on a forbidden port is a finding: the packet crossed every filter and
reached the host (the matrix asks the network to block the flow, not the host to have nothing listening). A reset a
firewall sent in the destination's name (fewer hops than the destination's replies, or a router still between them)
is classified `filtered` by the prober, a block; the probe's reason says which signal decided.
"""

from preuve.judge import ObservationError, check
from preuve.observe.network.segmentation import admin_interfaces


def finding(vantage: dict, p: dict) -> str:
    """One deviation, self-contained: source, destination, port, observed state, matrix line."""
    port = f"{p['proto']}/{p['port']}" if p["port"] is not None else p["proto"]
    rule = f"{p['flow']} ({p['line']})" if p["flow"] else "default deny (no matrix flow)"
    return (
        f"{vantage['vantage']} ({vantage['zone']}) -> {p['dst_name']} {p['dst']} ({p['dst_zone']}) {port}: "
        f"observed {p['state']} ({p['reason']}); expected {p['expect']} by {rule}"
    )


def _judge(segmentation: dict, judge, label: str, probes: list[dict], summary: dict) -> None:
    judge.each(
        label,
        {finding(segmentation, p): p["verdict"] == "ok" for p in probes if p["verdict"] != "error"},
        observed=summary,
    )
    errors = [p for p in probes if p["verdict"] == "error"]
    if errors and not judge.failed:
        raise ObservationError(f"{len(errors)} probe(s) could not be sent, e.g. {finding(segmentation, errors[0])}")


@check(
    "NET-FLOW-ALLOWED",
    requirements={
        "13.1.a#5": "every flow the matrix allows is open from every vantage of its source zone",
    },
    target="vantage",
    severity="medium",
    rule="matrice des flux : chaque flux autorisé fonctionne",
)
def check_allowed_flows(segmentation, judge):
    probes = [p for p in segmentation["probes"] if p["expect"] != "blocked"]
    per_flow: dict = {} if probes else {"-": f"the matrix allows no flow from zone {segmentation['zone']}"}
    for p in probes:
        s = per_flow.setdefault(p["flow"], {"line": p["line"], "probes": 0, "as_expected": 0})
        s["probes"] += 1
        s["as_expected"] += p["verdict"] == "ok"
    _judge(segmentation, judge, "network.allowed_flows", probes, per_flow)


@check(
    "NET-FLOW-DENIED",
    requirements={
        "13.1.a#5": "every flow absent from the matrix is blocked",
        "13.2.e#1": "from every vantage, admin and sentinel ports absent from the matrix are filtered",
        "13.2.a#3": (
            "zones of different nature (production, admin, supervision) reach each other only as the matrix says"
        ),
        "9.7.c#1": "from the production zone's vantage, the admin zone is reachable only as the matrix says",
    },
    target="vantage",
    severity="high",
    rule="matrice des flux : tout le reste est interdit (refus par défaut)",
)
def check_denied_flows(segmentation, judge):
    probes = [p for p in segmentation["probes"] if p["expect"] == "blocked"]
    per_pair: dict = {} if probes else {"-": f"the matrix forbids nothing from zone {segmentation['zone']}"}
    for p in probes:
        pair = f"{segmentation['zone']} -> {p['dst_zone']}"
        s = per_pair.setdefault(pair, {"probes": 0, "blocked": 0})
        s["probes"] += 1
        s["blocked"] += p["verdict"] == "ok"
    _judge(segmentation, judge, "network.denied_flows", probes, per_pair)


def admin_probe(p: dict, inv, admin_ports: list[int]) -> bool:
    """Does this probe aim at an administration interface (inventory or a well-known admin port)?"""
    if p["proto"] != "tcp":
        return False
    if p["port"] in admin_ports:
        return True
    return (p["dst"], p["port"]) in admin_interfaces(inv)


@check(
    "NET-ADMIN-PUBLIC",
    requirements={
        "9.6.d#1": "from the public zone, the inventory's admin interfaces and admin ports are unreachable",
        "13.2.e#1": "admin interfaces are filtered against the public zone",
    },
    target="public_vantage",
    severity="critical",
    rule="interfaces d'administration injoignables depuis les réseaux publics",
)
def check_admin_not_public(public_segmentation, target, params, judge):
    seg = public_segmentation
    _vantage, inv = target.spec
    probes = [p for p in seg["probes"] if admin_probe(p, inv, params.network.admin_ports)]
    if not probes:
        raise ObservationError("no administration port was probed from this public vantage")
    hidden = {finding(seg, p): p["state"] in ("filtered", "silent") for p in probes if p["state"] != "error"}
    judge.each("network.admin_from_public", hidden, observed=f"{len(probes)} admin ports probed")
    if any(p["state"] == "error" for p in probes) and not judge.failed:
        raise ObservationError("some administration ports could not be probed from the public vantage")
