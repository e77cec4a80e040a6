"""Segmentation bench: 10,000 TCP probes from one vantage point (pv-admin), preuve vs nmap, in one run.

Targets: 10,000 ports of 198.18.4.2 whose fate is set by preuve_lab.groundtruth (half dropped, the rest rejected
with ICMP admin-prohibited, rejected with a reset, or accepted with or without a listener). Both tools scan the
same ports with the same retry budget (one re-send of silent probes); their per-port classifications are compared
with each other and with the truth. Needs root and the lab (`preuve lab up`); nmap runs with `ip netns exec`.

    /tmp/pv-venv/bin/python bench/segmentation/run.py [--ports 10000] [--rate 20000] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

FIRST = 30000
SHARES = {"drop": 0.5, "icmp": 0.2, "reset": 0.1, "listen": 0.1, "closed": 0.1}


def ranges(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def nmap_state(state: str, reason: str) -> str:
    if state == "filtered":
        return "silent" if reason == "no-response" else "filtered"
    return {"open": "open", "closed": "closed"}.get(state, f"nmap:{state}/{reason}")


def run_nmap(address: str, first: int, count: int) -> tuple[dict[int, str], float, str]:
    argv = [
        "ip",
        "netns",
        "exec",
        "pv-admin",
        "nmap",
        "-Pn",
        "-n",
        "-sS",
        "--reason",
        "-T4",
        "--max-retries",
        "1",
        f"-p{first}-{first + count - 1}",
        address,
        "-oX",
        "-",
    ]
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=True)
    elapsed = time.monotonic() - t0
    root = ET.fromstring(proc.stdout)
    found: dict[int, str] = {}
    for port in root.iter("port"):
        st = port.find("state")
        found[int(port.get("portid"))] = nmap_state(st.get("state"), st.get("reason"))
    for extra in root.iter("extraports"):
        for why in extra.iter("extrareasons"):
            for p in ranges(why.get("ports", "")):
                found[p] = nmap_state(extra.get("state"), why.get("reason"))
    return found, elapsed, " ".join(argv[4:])


def run_preuve(address: str, ports: list[int], rate: float) -> tuple[dict[int, str], float]:
    from preuve.observe.network import synscan
    from preuve_lab import enter

    t0 = time.monotonic()
    with enter("pv-admin"):
        out = synscan.scan([(p, address, "tcp", p) for p in ports], timeout=1.0, retries=1, rate=rate)
    return {p: o.state for p, o in out.items()}, time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ports", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=20000.0, help="preuve probes per second")
    ap.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    a = ap.parse_args(argv)

    import preuve_lab as lab
    from preuve_lab import groundtruth

    lab.ensure_up()
    fate = groundtruth.plan(FIRST, a.ports, SHARES)
    with groundtruth.installed(fate, lab.LabPaths.current().root) as gt:
        truth = {p: gt.expected(p) for p in fate}
        preuve_default, t_default = run_preuve(gt.address, list(fate), 5000.0)
        preuve_fast, t_fast = run_preuve(gt.address, list(fate), a.rate)
        nmap, t_nmap, cmd = run_nmap(gt.address, FIRST, a.ports)

    def wrong(found: dict[int, str]) -> int:
        return sum(found.get(p) != s for p, s in truth.items())

    result = {
        "probes": a.ports,
        "dropped": sum(f == "drop" for f in fate.values()),
        "truth_counts": {s: sum(v == s for v in truth.values()) for s in sorted(set(truth.values()))},
        "preuve_rate_5000": {"seconds": round(t_default, 2), "misclassified": wrong(preuve_default)},
        f"preuve_rate_{int(a.rate)}": {"seconds": round(t_fast, 2), "misclassified": wrong(preuve_fast)},
        "nmap": {"seconds": round(t_nmap, 2), "misclassified": wrong(nmap), "command": cmd},
        "preuve_vs_nmap_differences": sum(preuve_fast.get(p) != nmap.get(p) for p in truth),
    }
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = t_fast < 15 and t_fast <= t_nmap and result["preuve_vs_nmap_differences"] == 0 and wrong(preuve_fast) == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
