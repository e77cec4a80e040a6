"""A known truth to measure the probe classifier against: ports whose fate is decided by us, not guessed.

On a supervision-zone address (reached from pv-admin through the router, which the matrix lets admin do), a
port range is split into five fates by an nftables *input* table inside pv-sup: dropped (silent), rejected with
ICMP admin-prohibited (filtered), rejected with a TCP reset (closed), accepted with a listener (open), accepted
without one (closed: the kernel resets). Used by tests/lab/test_segmentation_probes.py and bench/segmentation/.
The table and the listening sockets are removed on exit; nothing outside the chosen range is touched.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import netns

TRUTH_NS = "pv-sup"
TRUTH_ADDRESS = "198.18.4.2"
TABLE = "inet preuve-truth"

EXPECTED = {"drop": "silent", "icmp": "filtered", "reset": "closed", "listen": "open", "closed": "closed"}


@dataclass
class GroundTruth:
    address: str
    fate: dict[int, str]  # port -> drop | icmp | reset | listen | closed

    def expected(self, port: int) -> str:
        return EXPECTED[self.fate[port]]


def plan(first: int, count: int, shares: dict[str, float], seed: int = 4) -> dict[int, str]:
    """Shuffle `count` ports from `first` into fates in the given proportions (deterministic)."""
    ports = list(range(first, first + count))
    random.Random(seed).shuffle(ports)
    out, i = {}, 0
    names = list(shares)
    for n, name in enumerate(names):
        k = count - i if n == len(names) - 1 else round(count * shares[name])
        for p in ports[i : i + k]:
            out[p] = name
        i += k
    return dict(sorted(out.items()))


def _ruleset(fate: dict[int, str]) -> str:
    def ports(kind: str) -> str:
        chosen = [str(p) for p, f in fate.items() if f == kind]
        return "{ " + ", ".join(chosen) + " }" if chosen else ""

    rules = []
    for kind, verdict in (
        ("drop", "drop"),
        ("icmp", "reject with icmpx admin-prohibited"),
        ("reset", "reject with tcp reset"),
    ):
        if ports(kind):
            rules.append(f"\t\ttcp dport {ports(kind)} {verdict}")
    body = "\n".join(rules)
    return (
        f"table {TABLE}\ndelete table {TABLE}\ntable {TABLE} {{\n\tchain input {{\n"
        f"\t\ttype filter hook input priority filter; policy accept;\n{body}\n\t}}\n}}\n"
    )


@contextlib.contextmanager
def installed(fate: dict[int, str], state_dir: Path) -> Iterator[GroundTruth]:
    """Load the fates into pv-sup and listen on the `listen` ports for the duration of the block."""
    path = state_dir / "groundtruth.nft"
    path.write_text(_ruleset(fate))
    proc = netns.run_in(TRUTH_NS, ["nft", "-f", str(path)])
    if proc.returncode != 0:
        raise RuntimeError(f"cannot load the ground-truth table: {proc.stderr.strip()}")
    socks: list[socket.socket] = []
    try:
        with netns.enter(TRUTH_NS):
            for port, f in fate.items():
                if f == "listen":
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((TRUTH_ADDRESS, port))
                    s.listen(64)
                    socks.append(s)
        yield GroundTruth(TRUTH_ADDRESS, fate)
    finally:
        for s in socks:
            s.close()
        netns.run_in(TRUTH_NS, ["nft", "delete", "table", *TABLE.split()])
