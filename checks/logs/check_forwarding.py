"""Log forwarding (12.7.c): configured over TCP+TLS with peer verification and a disk queue, and proven live:
an established connection to the collector, which is another machine, and whose certificate verifies from
the source with the CA and peer name the source is configured with."""

from preuve.judge import check


def tls_forwarders(rsyslog: dict) -> list[dict]:
    return [f for f in rsyslog["forwarders"] if f["protocol"] == "tcp" and f["tls"]]


def describe(f: dict) -> str:
    how = f"{f['protocol']}" + (f" tls {f['auth_mode']}" if f["tls"] else " plaintext")
    return f"{f['target']}:{f['port']} {how}"


@check("LOG-FORWARDING-CONFIG", requirements=["12.7.c", "12.7.a"], target="baseline_host", severity="high",
       rule="rsyslog omfwd : TCP + TLS (gtls/ossl), StreamDriverAuthMode x509/name, PermittedPeers, file disque")
def check_forwarding_config(rsyslog, params, judge):
    forwarders = rsyslog["forwarders"]
    judge.non_empty("logs.forwarding.actions", [describe(f) for f in forwarders])
    judge.each("logs.forwarding.transport", {
        describe(f): f["protocol"] == "tcp" and f["tls"] and f["auth_mode"] in params.logs.forwarding_auth_modes
        and bool(f["permitted_peers"]) for f in forwarders}, observed=[describe(f) for f in forwarders])  # fmt: skip
    judge.each("logs.forwarding.disk_queue",
               {describe(f): f["queue_type"] in ("LinkedList", "FixedArray", "Disk") and bool(f["queue_file"])
                for f in forwarders},
               observed={describe(f): f"{f['queue_type']} file={f['queue_file']}" for f in forwarders})


@check("LOG-FORWARDING-LIVE", requirements=["12.7.c"], target="baseline_host", severity="high",
       rule="connexion TLS établie vers un collecteur distinct dont le certificat se vérifie depuis la source")
def check_forwarding_live(rsyslog, judge):
    tls = tls_forwarders(rsyslog)
    judge.non_empty("logs.forwarding.tls_targets", [describe(f) for f in tls])
    remotes = {c["remote"] for c in rsyslog["established"]}
    local = set(rsyslog["addresses"]) | {"localhost"}
    facts = {}
    for f in tls:
        endpoint = f"{f['target']}:{f['port']}"
        v = rsyslog["tls_verify"].get(endpoint, {})
        facts[endpoint] = {
            "established": endpoint in remotes,
            "another_machine": f["target"] not in local and not f["target"].startswith("127."),
            "certificate_verified": bool(v.get("verified")),
            "verified_name": v.get("peer_name"),
        }
    judge.each("logs.forwarding.live",
               {e: x["established"] and x["another_machine"] and x["certificate_verified"] for e, x in facts.items()},
               observed=facts)
