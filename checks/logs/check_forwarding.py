"""Log forwarding (12.7.c): configured over TCP+TLS with peer verification and a disk queue, and proven live:
an established connection to the collector, which is another machine, and whose certificate verifies from
the source with the CA and peer name the source is configured with."""

from preuve.judge import check
from preuve.observe import syslog_ng as sng


def tls_forwarders(rsyslog: dict) -> list[dict]:
    return [f for f in rsyslog["forwarders"] if f["protocol"] == "tcp" and f["tls"]]


def describe(f: dict) -> str:
    how = f"{f['protocol']}" + (f" tls {f['auth_mode']}" if f["tls"] else " plaintext")
    return f"{f['target']}:{f['port']} {how}"


@check("LOG-FORWARDING-CONFIG", requirements=["12.7.c", "12.7.a"], target="baseline_host", severity="high",
       rule="rsyslog omfwd : TCP + TLS (gtls/ossl), StreamDriverAuthMode x509/name, PermittedPeers, file disque ; "
            "syslog-ng : transport(tls), peer-verify(required-trusted), disk-buffer(reliable(yes)) ; "
            "démons jugés : ceux qui tournent (sinon les configurations présentes)")
def check_forwarding_config(rsyslog, syslog_ng, params, judge):
    daemons = sng.judged_daemons(rsyslog, syslog_ng)
    judge.non_empty("logs.forwarding.daemons", [f"{d} ({why})" for d, why in daemons.items()])
    # forwarder description -> (transport ok, disk queue ok, what the queue is)
    verdicts = {describe(f): _rsyslog_verdict(f, params) for f in rsyslog["forwarders"] if "rsyslogd" in daemons}
    verdicts |= {sng.describe(f): _syslog_ng_verdict(f, params)
                 for f in syslog_ng["forwarders"] if "syslog-ng" in daemons}  # fmt: skip
    # what preuve could not read cannot pass: a running daemon's missing configuration, an unresolved @include
    verdicts |= {unseen: (False, False, "not observed") for unseen in sng.unseen(syslog_ng) if "syslog-ng" in daemons}
    judge.non_empty("logs.forwarding.actions", list(verdicts))
    judge.each("logs.forwarding.transport", {k: v[0] for k, v in verdicts.items()}, observed=list(verdicts))
    judge.each("logs.forwarding.disk_queue", {k: v[1] for k, v in verdicts.items()},
               observed={k: v[2] for k, v in verdicts.items()})


def _rsyslog_verdict(f: dict, params) -> tuple[bool, bool, str]:
    transport = (f["protocol"] == "tcp" and f["tls"] and f["auth_mode"] in params.logs.forwarding_auth_modes
                 and bool(f["permitted_peers"]))  # fmt: skip
    queue = f["queue_type"] in ("LinkedList", "FixedArray", "Disk") and bool(f["queue_file"])
    return transport, queue, f"{f['queue_type']} file={f['queue_file']}"


def _syslog_ng_verdict(f: dict, params) -> tuple[bool, bool, str]:
    transport = f["tls"] and f["peer_verify"] in params.logs.syslog_ng_peer_verify
    queue = f["disk_buffer"] and (f["reliable"] or not params.logs.syslog_ng_reliable_buffer)
    seen = (f"disk-buffer(reliable({'yes' if f['reliable'] else 'no'}) dir={f['disk_buffer_dir']})"
            if f["disk_buffer"] else "no disk-buffer")  # fmt: skip
    return transport, queue, seen


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
