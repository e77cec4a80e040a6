"""Parse `ss -H -ltn` (listening TCP sockets) into [{address, port}] for the NET-HOST-LISTEN check."""

from __future__ import annotations


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
