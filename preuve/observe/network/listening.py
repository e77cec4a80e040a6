"""Parse `ss -H -ltn` (listening TCP sockets) into [{address, port}] for the NET-HOST-LISTEN check."""

from __future__ import annotations

from preuve.observe.registry import HostFact


def parse_ss(text: str) -> list[dict]:
    """`LISTEN 0 128 198.18.2.10:22 0.0.0.0:*` -> {"address": "198.18.2.10", "port": 22}; IPv6 unbracketed."""
    out = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        local = cols[3]
        addr, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        addr = addr.strip("[]").split("%")[0]
        out.append({"address": addr or "*", "port": int(port)})
    return sorted(out, key=lambda x: (x["port"], x["address"]))


def parse_nft(text: str) -> dict:
    """`nft -j list ruleset` -> the base chains that filter traffic to the host or through it.

    {"chains": [{"family", "table", "chain", "hook", "policy", "rules", "denies"}]}: `denies` counts rules whose
    verdict is drop or reject, so a table that only accepts is told apart from a real filter.
    """
    import json

    if text.startswith("# iptables-save"):
        return parse_iptables(text)
    data = json.loads(text)
    if isinstance(data, dict) and "preuve_absent" in data:  # observed: no firewall tool at all on the host
        return {"chains": [], "absent": data["preuve_absent"]}
    chains: dict[tuple, dict] = {}
    for item in data.get("nftables", []):
        if "chain" in item and item["chain"].get("hook"):
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = {
                "family": c["family"],
                "table": c["table"],
                "chain": c["name"],
                "hook": c["hook"],
                "policy": c.get("policy", "accept"),
                "rules": 0,
                "denies": 0,
            }
        elif "rule" in item:
            r = item["rule"]
            chain = chains.get((r["family"], r["table"], r["chain"]))
            if chain is not None:
                chain["rules"] += 1
                verdicts = {k for e in r.get("expr", []) if isinstance(e, dict) for k in e}
                chain["denies"] += bool(verdicts & {"drop", "reject"})
    return {"chains": sorted(chains.values(), key=lambda c: (c["family"], c["table"], c["chain"]))}


def parse_iptables(text: str) -> dict:
    """`iptables-save -t filter` (a host without nft) -> the same shape as parse_nft: the INPUT chain, its policy
    and how many of its rules DROP or REJECT."""
    chains: dict[str, dict] = {}
    for line in text.splitlines():
        cols = line.split()
        if line.startswith(":") and len(cols) >= 2 and cols[0][1:] in ("INPUT", "FORWARD"):
            chains[cols[0][1:]] = {
                "family": "ip (iptables)",
                "table": "filter",
                "chain": cols[0][1:],
                "hook": cols[0][1:].lower(),
                "policy": cols[1].lower(),
                "rules": 0,
                "denies": 0,
            }
        elif line.startswith("-A ") and len(cols) >= 2 and cols[1] in chains:
            chains[cols[1]]["rules"] += 1
            verdict = cols[cols.index("-j") + 1] if "-j" in cols[:-1] else ""
            chains[cols[1]]["denies"] += verdict in ("DROP", "REJECT")
    return {"chains": sorted(chains.values(), key=lambda c: c["chain"]), "tool": "iptables-save"}


HOST_FACTS = (
    HostFact(
        "listening",
        'PATH="$PATH:/usr/sbin:/sbin"; ss -H -ltn',
        parse_ss,
        fixture="listening",
        doc="listening TCP sockets (`ss -H -ltn`)",
    ),
    # nft first; a host without it may filter with iptables (legacy); neither installed is a finding, not an error
    HostFact(
        "nft_ruleset",
        'PATH="$PATH:/usr/sbin:/sbin"; as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; '
        'else sudo -n "$@"; fi; }; if command -v nft >/dev/null 2>&1; then as_root nft -j list ruleset; '
        'elif command -v iptables-save >/dev/null 2>&1; then echo "# iptables-save"; '
        'as_root iptables-save -t filter; else echo \'{"preuve_absent": "neither nft nor iptables-save '
        "is installed on the host\"}'; fi",
        parse_nft,
        fixture="host_firewall",
        doc="host firewall base chains (`nft -j list ruleset`)",
    ),
)
