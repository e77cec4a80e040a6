"""rsyslog's forwarding actions, the connections they hold, and the collector certificate check."""

from __future__ import annotations

import re

from preuve.observe.registry import HostFact
from preuve.observe.shell import SBIN_PATH as _PATH

RSYSLOG = (
    # no rsyslog.conf: rsyslog is not what this host uses (no forwarder then; an unreadable one is an error)
    _PATH + '[ -r /etc/rsyslog.conf ] || [ ! -e /etc/rsyslog.conf ] || { echo "unreadable /etc/rsyslog.conf" >&2; '
    "exit 1; }; c=$([ -e /etc/rsyslog.conf ] && cat /etc/rsyslog.conf; "
    'for f in /etc/rsyslog.d/*.conf; do [ -r "$f" ] && cat "$f"; done); '
    'printf "%s\\n" "$c"; '
    # -p names each connection's process (LOG-FORWARDING-LIVE attributes it to a daemon of this host); other
    # users' processes are shown to root only: sudo -n for exactly this command, else the connections alone.
    # Two samples 0.3 s apart: a forwarding session persists, a daemon whose TLS handshake is refused reconnects
    # on a new port each time (syslog-ng time-reopen; each refused connection lives ~5 ms in the lab) and is not
    # counted as connected. (POSIX sleep takes whole seconds: fall back to 1 s where fractions are refused.)
    'est() { if [ "$(id -u)" -eq 0 ]; then ss -tnpH state established; else sudo -n ss -tnpH state established '
    '2>/dev/null || ss -tnH state established; fi; }; echo "== established"; est; '
    "sleep 0.3 2>/dev/null || sleep 1; "
    'echo "== established-again"; est; echo "== addresses"; '
    "ip -o addr show | awk '{print $4}'; "
    "ca=$(printf '%s' \"$c\" | grep -o 'DefaultNetstreamDriverCAFile=\"[^\"]*\"' | head -n1 | cut -d'\"' -f2); "
    "peer=$(printf '%s' \"$c\" | grep -oE 'PermittedPeers?=\"[^\"]*\"' | head -n1 | cut -d'\"' -f2); "
    "printf '%s' \"$c\" | tr -s ' \\n\\t' '   ' | grep -o 'target=\"[^\"]*\" port=\"[0-9]*\"' | tr -d '\"' | "
    'while read -r t p; do t=${t#target=}; p=${p#port=}; echo "== verify $t:$p"; '
    'timeout 5 openssl s_client -connect "$t:$p" ${ca:+-CAfile "$ca"} ${peer:+-verify_hostname "$peer"} '
    "-verify_return_error -brief </dev/null 2>&1 | grep -E '^(Verification|Verified peername|Peer certificate|"
    "CONNECTION ESTABLISHED)|error' | head -n 5; done; true"
)


_KV = re.compile(r'([A-Za-z][\w.]*)\s*=\s*(?:"([^"]*)"|\[([^\]]*)\])')


_LEGACY_FWD = re.compile(r"^\S+\s+(@@?)(?:\(([^)]*)\))?\[?([^\]\s:;]+)\]?(?::(\d+))?", re.M)


def _blocks(text: str, word: str) -> list[dict[str, str]]:
    """key="value" parameters of every `word(...)` RainerScript statement."""
    out = []
    for m in re.finditer(rf"\b{word}\s*\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        body = text[m.end() : i - 1]
        out.append({k.lower(): (v if v is not None else arr) for k, v, arr in _KV.findall(body)})
    return out


def _connections(ss_output: str) -> list[dict]:
    """`ss -tn[p]H state established` lines -> local, remote and (with -p) the owning processes."""
    conns = []
    for line in ss_output.splitlines():
        f = line.split()
        if len(f) >= 4:
            owners = [{"name": n, "pid": int(pid)} for n, pid in re.findall(r'\("([^"]+)",pid=(\d+)', line)]
            conns.append({"local": f[2], "remote": f[3], "owners": owners})
    return conns


def parse_rsyslog(text: str) -> dict:
    """Forwarding actions (RainerScript omfwd and legacy @/@@ lines) with their transport settings; live facts."""
    config, _, rest = text.partition("\n== established\n")
    established, _, rest = rest.partition("\n== addresses\n")
    first, again, second = established.partition("== established-again")
    addresses, *verifies = rest.split("\n== verify ")
    config = "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith("$") else line for line in config.splitlines()
    )
    glob: dict[str, str] = {}
    for g in _blocks(config, "global"):
        glob.update(g)
    legacy = {m[1].lower(): m[2].strip() for m in re.finditer(r"^\s*\$(\w+)\s+(.*)$", config, re.M)}
    forwarders = []
    for a in _blocks(config, "action"):
        if a.get("type") != "omfwd":
            continue
        tls = a.get("streamdrivermode", "0") == "1"
        forwarders.append(
            {
                "target": a.get("target"),
                "port": int(a.get("port", "514")),
                "protocol": a.get("protocol", "udp"),
                "tls": tls,
                "driver": a.get("streamdriver", glob.get("defaultnetstreamdriver", "ptcp")),
                "auth_mode": a.get("streamdriverauthmode", "anon") if tls else None,
                "permitted_peers": [
                    p.strip().strip('"') for p in a.get("streamdriverpermittedpeers", "").split(",") if p.strip()
                ],
                "queue_type": a.get("queue.type", "Direct"),
                "queue_file": a.get("queue.filename"),
                "syntax": "rainerscript",
            }
        )
    for m in _LEGACY_FWD.finditer(config):
        tcp = m[1] == "@@"
        tls = tcp and legacy.get("actionsendstreamdrivermode") == "1"
        forwarders.append(
            {
                "target": m[3],
                "port": int(m[4] or 514),
                "protocol": "tcp" if tcp else "udp",
                "tls": tls,
                "driver": legacy.get("defaultnetstreamdriver", "ptcp") if tcp else None,
                "auth_mode": legacy.get("actionsendstreamdriverauthmode", "anon") if tls else None,
                "permitted_peers": [legacy["actionsendstreamdriverpermittedpeer"]]
                if "actionsendstreamdriverpermittedpeer" in legacy
                else [],
                "queue_type": legacy.get("actionqueuetype", "Direct"),
                "queue_file": legacy.get("actionqueuefilename"),
                "syntax": "legacy",
            }
        )
    conns = _connections(second if again else first)
    if again:  # only the connections present in both samples: a session, not a refused reconnect loop
        kept = {(c["local"], c["remote"]) for c in _connections(first)}
        conns = [c for c in conns if (c["local"], c["remote"]) in kept]
    verify = {}
    for block in verifies:
        endpoint, _, out = block.partition("\n")
        verify[endpoint.strip()] = {
            "verified": "Verification: OK" in out,
            "peer_name": next(
                (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Verified peername")), None
            ),
            "detail": next((ln.strip() for ln in out.splitlines() if "Verification" in ln or "error" in ln), ""),
        }
    return {
        "forwarders": forwarders,
        "established": conns,
        "addresses": [a.split("/")[0] for a in addresses.split() if a],
        "tls_verify": verify,
    }


HOST_FACTS = (
    HostFact(
        "rsyslog",
        RSYSLOG,
        parse_rsyslog,
        fixture="rsyslog",
        doc="rsyslog forwarding actions, established connections (with processes), collector certificate check",
    ),
)
