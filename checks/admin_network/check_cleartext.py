"""No administration protocol answers in clear (13.2.c): telnet, FTP, SNMP v1/v2c, IPMI 1.5, VNC without
encryption, admin consoles in plain HTTP, seen from every vantage point.

A protected twin is not a finding: SNMP that only answers the SNMPv3 engine discovery, FTP that demands TLS before
USER, VNC that offers only TLS/VeNCrypt-TLS types, IPMI that offers RMCP+ only, an admin port that refuses plain
HTTP or redirects it to HTTPS. What answered is quoted with the question that made it answer (the community that
read the agent, the reply to USER, the security types).
"""

from preuve.judge import ObservationError, check


def finding(vantage: dict, p: dict) -> str:
    port = f"{p['proto']}/{p['port']}"
    return f"{vantage['vantage']} -> {p['dst_name']} {p['dst']} ({p['dst_zone']}) {port} {p['kind']}: {p['reason']}"


@check(
    "ADMIN-CLEARTEXT-PROTOCOLS",
    requirements={
        "13.2.c#1": "no telnet, FTP login, SNMP community, IPMI 1.5, unencrypted VNC or plain-HTTP console answers",
        "10.2.e#3": "telnet and FTP servers without TLS are not reachable (abandon of telnet and ftp, R2-R4)",
        "9.6.e#1": "administration consoles do not answer plain HTTP (no flow brought back in clear)",
    },
    target="vantage",
    severity="high",
    rule="flux d'administration chiffrés : aucun protocole d'administration en clair",
)
def check_cleartext_admin(admin_protocols, judge):
    seen = admin_protocols
    answered = [p for p in seen["probes"] if p.get("protocol")]
    summary = {
        "probes": len(seen["probes"]),
        "answered": {f"{p['dst']} {p['kind']}/{p['port']}": p["reason"] for p in answered},
    }
    judge.each(
        "admin_network.cleartext",
        {finding(seen, p): not p.get("cleartext") for p in answered},
        observed=summary,
    )
    errors = [p for p in seen["probes"] if p.get("state") == "error"]
    if errors and not judge.failed:
        raise ObservationError(f"{len(errors)} probe(s) failed, e.g. {finding(seen, errors[0])}")
