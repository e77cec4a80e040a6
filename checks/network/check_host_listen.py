"""Administration services listen only on a chosen address (13.2.a): never on every interface.

It shows the binding, not which network the chosen address belongs to, nor encryption (13.2.c is judged on the
wire by ADMIN-CLEARTEXT-PROTOCOLS, reachability of admin interfaces by ADMIN-NETWORK-SEPARATED and NET-ADMIN-PUBLIC).

A daemon bound to 0.0.0.0 or :: answers on whatever network the host is later plugged into (a public NIC, a
new VLAN); binding it to the management address keeps the exposure decided by the flow matrix alone.
"""

from preuve.judge import check

WILDCARDS = ("*", "0.0.0.0", "::")


def admin_listeners(listening: list[dict], admin_ports: list[int]) -> list[str]:
    return sorted({f"{s['address']}:{s['port']}" for s in listening if s["port"] in admin_ports})


def on_every_interface(listening: list[dict], admin_ports: list[int]) -> list[str]:
    return sorted(
        {f"{s['address']}:{s['port']}" for s in listening if s["port"] in admin_ports and s["address"] in WILDCARDS}
    )


@check(
    "NET-HOST-LISTEN",
    requirements={
        "13.2.a#3": "administration services listen on the management address, apart from production",
    },
    target="baseline_host",
    severity="high",
    rule="services d'administration à l'écoute sur la seule adresse d'administration",
)
def check_admin_listeners(listening, params, judge):
    ports = params.network.admin_ports
    found = admin_listeners(listening, ports)
    wild = [f"{a}:{p}" for a in WILDCARDS for p in ports]
    judge.excludes("network.admin_listeners", found, wild)
