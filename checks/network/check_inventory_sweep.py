"""Every address answering in a declared zone subnet is in the inventory (8.1.a: identification by IP address).

The sweep (preuve/observe/network/host_sweep.py) runs from each namespace vantage over its own zone's subnets. A live
address (SYN-ACK, the destination's own reset, echo reply) that no inventory section names is equipment nobody
declared. A zone's router counts as declared only when the zone lists it under `gateways`.
"""

from preuve.judge import check


def _answer(a: dict) -> str:
    where = f"{a['proto']}/{a['port']}" if a["port"] is not None else a["proto"]
    return f"{where} {a['state']} ({a['reason']})"


@check(
    "NET-UNDECLARED-HOSTS",
    requirements={"8.1.a#1": "every address answering in a declared zone subnet is in the inventory (by IP)"},
    target="vantage",
    severity="medium",
    rule="inventaire : toute adresse vivante d'une zone déclarée est déclarée",
)
def check_undeclared_hosts(host_sweep, judge):
    if not host_sweep["swept"]:
        judge.not_applicable(host_sweep["why"])
        return
    judge.each(
        "network.undeclared_hosts",
        {
            f"{host_sweep['vantage']} ({host_sweep['zone']}) -> {addr}: answered "
            f"{'; '.join(_answer(a) for a in sorted(row['answers'], key=lambda a: a['state'] != 'open')[:3])}; "
            + (f"declared at {row['declared_at']}" if row["declared_at"] else "declared nowhere in the inventory"): (
                row["declared_at"] is not None
            )
            for addr, row in host_sweep["live"].items()
        },
        observed={"swept_addresses": host_sweep["addresses"], "live": len(host_sweep["live"])},
    )
