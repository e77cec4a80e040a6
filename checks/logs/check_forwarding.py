"""Log forwarding (12.7.c): configured over TCP+TLS with peer verification and a disk queue, and proven live:
an established connection to the collector, which is another machine, and whose certificate verifies from
the source with the CA and peer name the source is configured with."""

from preuve.judge import check
from preuve.observe.logs import syslog_ng as sng


def tls_forwarders(rsyslog: dict) -> list[dict]:
    return [f for f in rsyslog["forwarders"] if f["protocol"] == "tcp" and f["tls"]]


def describe(f: dict) -> str:
    how = f"{f['protocol']}" + (f" tls {f['auth_mode']}" if f["tls"] else " plaintext")
    return f"{f['target']}:{f['port']} {how}"


@check(
    "LOG-FORWARDING-CONFIG",
    requirements={
        "12.7.c#1": "forwarding is TCP + TLS with the collector's certificate verified (x509/name)",
        "12.7.a#1": "TLS protects events in transit and a disk queue keeps them through an outage",
    },
    target="baseline_host",
    severity="high",
    rule="rsyslog omfwd : TCP + TLS (gtls/ossl), StreamDriverAuthMode x509/name, PermittedPeers, file disque ; "
    "syslog-ng : transport(tls), peer-verify(required-trusted), disk-buffer(reliable(yes)) ; "
    "démons jugés : ceux qui tournent (sinon les configurations présentes)",
)
def check_forwarding_config(rsyslog, syslog_ng, params, judge):
    daemons = sng.judged_daemons(rsyslog, syslog_ng)
    judge.non_empty("logs.forwarding.daemons", [f"{d} ({why})" for d, why in daemons.items()])
    # forwarder description -> (transport ok, disk queue ok, what the queue is)
    verdicts = {describe(f): _rsyslog_verdict(f, params) for f in rsyslog["forwarders"] if "rsyslogd" in daemons}
    verdicts |= {
        sng.describe(f): _syslog_ng_verdict(f, params) for f in syslog_ng["forwarders"] if "syslog-ng" in daemons
    }
    # what preuve could not read cannot pass: a running daemon's missing configuration, an unresolved @include
    verdicts |= {unseen: (False, False, "not observed") for unseen in sng.unseen(syslog_ng) if "syslog-ng" in daemons}
    judge.non_empty("logs.forwarding.actions", list(verdicts))
    judge.each("logs.forwarding.transport", {k: v[0] for k, v in verdicts.items()}, observed=list(verdicts))
    judge.each(
        "logs.forwarding.disk_queue",
        {k: v[1] for k, v in verdicts.items()},
        observed={k: v[2] for k, v in verdicts.items()},
    )


def _rsyslog_verdict(f: dict, params) -> tuple[bool, bool, str]:
    transport = (
        f["protocol"] == "tcp"
        and f["tls"]
        and f["auth_mode"] in params.logs.forwarding_auth_modes
        and bool(f["permitted_peers"])
    )
    queue = f["queue_type"] in ("LinkedList", "FixedArray", "Disk") and bool(f["queue_file"])
    return transport, queue, f"{f['queue_type']} file={f['queue_file']}"


def _syslog_ng_verdict(f: dict, params) -> tuple[bool, bool, str]:
    transport = f["tls"] and f["peer_verify"] in params.logs.syslog_ng_peer_verify
    queue = f["disk_buffer"] and (f["reliable"] or not params.logs.syslog_ng_reliable_buffer)
    seen = (
        f"disk-buffer(reliable({'yes' if f['reliable'] else 'no'}) dir={f['disk_buffer_dir']})"
        if f["disk_buffer"]
        else "no disk-buffer"
    )
    return transport, queue, seen


@check(
    "LOG-FORWARDING-LIVE",
    requirements={
        "12.7.c#1": "the collector's certificate verifies from the source host",
        "12.7.c#2": "this host's daemon holds a lasting connection to a collector that is another machine",
    },
    target="baseline_host",
    severity="high",
    rule="connexion TLS établie par le démon vers un collecteur distinct dont le certificat se vérifie depuis "
    "la source (rsyslog : CA et PermittedPeers ; syslog-ng : ca-file/ca-dir et nom de l'hôte destination)",
)
def check_forwarding_live(rsyslog, syslog_ng, judge):
    daemons = sng.judged_daemons(rsyslog, syslog_ng)
    # (endpoint, who forwards there, target host, the host's own openssl verdict with that sender's CA and name)
    senders = [
        (
            f"{f['target']}:{f['port']}",
            "rsyslogd",
            "rsyslogd",
            f["target"],
            rsyslog["tls_verify"].get(f"{f['target']}:{f['port']}"),
        )
        for f in tls_forwarders(rsyslog)
        if "rsyslogd" in daemons
    ]
    senders += [
        (f"{f['target']}:{f['port']}", f"syslog-ng {f['destination']}", "syslog-ng", f["target"], f["verify"])
        for f in syslog_ng["forwarders"]
        if f["tls"] and "syslog-ng" in daemons
    ]
    judge.non_empty("logs.forwarding.tls_targets", [f"{endpoint} <- {who}" for endpoint, who, *_ in senders])
    local = set(rsyslog["addresses"]) | {"localhost"}
    facts: dict[str, dict] = {}
    for endpoint, who, process, target, v in senders:
        entry = facts.setdefault(
            endpoint, {"another_machine": target not in local and not target.startswith("127."), "forwarded_by": {}}
        )
        entry["forwarded_by"][who] = {
            "established": connection(rsyslog, syslog_ng, endpoint, process),
            "certificate_verified": bool(v and v.get("verified")),
        } | _how_verified(v)
    judge.each(
        "logs.forwarding.live",
        {
            e: x["another_machine"]
            and all(s["established"] is not False and s["certificate_verified"] for s in x["forwarded_by"].values())
            for e, x in facts.items()
        },
        observed=facts,
    )


def _how_verified(v: dict | None) -> dict:
    """What the verification used and said: rsyslog's verified peer name; syslog-ng's CA, the name it checks."""
    if v is None:
        return {"verification": "not observed"}
    if "checked_name" not in v:
        return {"verified_name": v.get("peer_name")}
    return {
        "ca": v["ca_file"] or v["ca_dir"] or "none (syslog-ng trusts no CA)",
        "name_checked": v["checked_name"],
        "openssl": v["detail"],
    }


def connection(rsyslog: dict, syslog_ng: dict, endpoint: str, process: str) -> bool | str:
    """Whether `process` of THIS host holds an established connection to `endpoint`. ss -p names each
    connection's process (pid); a pid counts when the syslog_ng fact saw that daemon in the host's own mount
    namespace, so another host sharing the network namespace is not mistaken for this one. When ss could not
    name processes (not root, no sudo rule), a connection to the endpoint counts, said as such."""
    conns = [c for c in rsyslog["established"] if c["remote"] == endpoint]
    mine = {d["pid"] for d in syslog_ng["daemons"] if d["same_host"] and d["name"] == process}
    if any(o["pid"] in mine and o["name"] == process for c in conns for o in c.get("owners", [])):
        return True
    if any(not c.get("owners") for c in conns):
        return "yes (process not shown: ss -p needs root)"
    return False
