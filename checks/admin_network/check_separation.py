"""Production and customer zones cannot reach the administration equipment (9.7.c): admin interfaces and BMCs.

Judged from every vantage point of a production, DMZ, public or other zone (administration, supervision and backup
zones may reach the administration equipment as the matrix says), on the segmentation probes already
sent (no new packet): every probe aimed at an administration interface, a BMC (web console and IPMI 623/udp) or an
administration port must be filtered or silent, whatever the matrix says. A BMC placed inside the vantage's own
zone is reachable without any filtering point: that is a finding too (segmentation does not probe its own zone).
"""

from preuve.judge import ObservationError, check
from preuve.observe.network.segmentation import admin_interfaces

BLOCKED = ("filtered", "silent")
JUDGED_KINDS = ("production", "dmz", "public", "other")  # admin, supervision and backup zones may administer


def admin_targets(p: dict, inv, admin_ports: list[int]) -> bool:
    """An administration interface, a BMC (any port) or an administration port."""
    bmcs = {b.address for b in inv.management.bmcs}
    if p["dst"] in bmcs:
        return p["proto"] in ("tcp", "udp")
    if p["proto"] == "udp":
        return p["port"] == 623
    return p["proto"] == "tcp" and (p["port"] in admin_ports or (p["dst"], p["port"]) in admin_interfaces(inv))


@check(
    "ADMIN-NETWORK-SEPARATED",
    requirements={
        "9.7.c#1": "from production and customer zones, no probe reaches an admin interface, a BMC or an admin port",
        "9.7.c#2": "BMCs are not deployed inside a production or customer zone",
        "12.12.a#1": "administration interfaces and BMCs are reachable only from the administration network",
        "13.2.e#1": "administration interfaces and BMCs are filtered against every non-administration zone",
    },
    target="vantage",
    severity="critical",
    rule="équipements d'administration cloisonnés de l'infrastructure (zones de production et clients)",
)
def check_admin_network(segmentation, target, params, judge):
    _vantage, inv = target.spec
    kinds = {z.name: z.kind for z in inv.zones}
    kind = kinds.get(segmentation["zone"])
    if kind not in JUDGED_KINDS:
        judge.not_applicable(f"vantage {segmentation['vantage']} is in a zone of kind {kind} (judged: {JUDGED_KINDS})")
    here = [b for b in inv.management.bmcs if b.zone == segmentation["zone"]]
    judge.each(
        "admin_network.bmc_placement",
        {f"BMC {b.name} {b.address} sits in zone {b.zone} ({kinds.get(b.zone)})": False for b in here},
        observed=[f"{b.name} ({b.zone})" for b in inv.management.bmcs],
    )
    probes = [p for p in segmentation["probes"] if admin_targets(p, inv, params.network.admin_ports)]
    if not probes and not here:
        raise ObservationError("no administration interface, BMC or admin port was probed from this vantage")
    port = "{proto}/{port}"
    judge.each(
        "admin_network.admin_reach",
        {
            f"{segmentation['vantage']} -> {p['dst_name']} {p['dst']} ({p['dst_zone']}) "
            f"{port.format(**p)}: {p['state']} ({p['reason']})": p["state"] in BLOCKED
            for p in probes
            if p["state"] != "error"
        },
        observed=f"{len(probes)} probes aimed at administration interfaces, BMCs and admin ports",
    )
    if any(p["state"] == "error" for p in probes) and not judge.failed:
        raise ObservationError("some administration probes could not be sent from this vantage")
