"""Each host filters its own inbound traffic (13.2, defence in depth behind the network filtering)."""

from preuve.judge import check


def filtering_chains(host_firewall: dict) -> list[str]:
    """Input base chains that deny something: a drop policy, or at least one drop/reject rule."""
    return [
        f"{c['family']} {c['table']}/{c['chain']} (policy {c['policy']}, {c['denies']} deny rule(s))"
        for c in host_firewall["chains"]
        if c["hook"] == "input" and (c["policy"] == "drop" or c["denies"] > 0)
    ]


@check(
    "NET-HOST-FIREWALL",
    requirements={
        "13.2.e#1": "each host's firewall accepts administration only from the admin zone",
    },
    target="baseline_host",
    severity="medium",
    rule="pare-feu local présent sur chaque hôte",
)
def check_host_firewall(host_firewall, judge):
    # No nft and no iptables-save on an observed host is a finding (nothing filters), not an unobservable host.
    if host_firewall.get("absent"):
        judge.equals("network.host_firewall_tool", host_firewall["absent"], "nft or iptables-save installed")
    judge.non_empty("network.host_firewall", filtering_chains(host_firewall))
