"""``preuve lab up|down|status``: a thin human front-end over the lab API."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from . import down, status, up
from .paths import LabPaths


def _print_status(st: dict[str, Any]) -> None:
    print(f"lab {'healthy' if st['healthy'] else 'NOT healthy'} (state dir {st['state_dir']})")
    missing = [ns for ns, info in st["namespaces"].items() if not info["present"]]
    print(f"  namespaces: {'all present' if not missing else 'missing ' + ', '.join(missing)}")
    if st["stray_namespaces"]:
        print(f"  stray namespaces: {', '.join(st['stray_namespaces'])}")
    router = st["router"]
    print(f"  router: forwarding={router['forwarding']} ruleset={router['ruleset_loaded']}")
    for name, svc in st["services"].items():
        ok = "ok " if svc["pid_alive"] and svc["port_answers"] else "DOWN"
        print(
            f"  {ok} {name:9} {svc['address']}:{svc['port']:<4} ns={svc['ns']:8} "
            f"pid={svc['pid']} alive={svc['pid_alive']} answers={svc['port_answers']}"
        )


def _print_up(data: dict[str, Any], elapsed: float) -> None:
    print(f"lab up in {elapsed:.2f}s (built in {data['up_seconds']}s at {data['started_at']})")
    print(f"  state dir {data['state_dir']}; scanner runs in {data['scanner']['ns']} as {data['scanner']['address']}")
    for name, svc in data["services"].items():
        where = svc.get("config") or svc.get("url", "-")
        print(f"  {name:9} {svc['address']}:{svc['port']:<4} pid={svc['pid']} config={where}")
    print(f"  black hole {data['router']['blackhole']}; client key {data['keys']['auditor']}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns a process exit code (0 ok, 1 unhealthy/failed)."""
    parser = argparse.ArgumentParser(prog="preuve lab", description="local SecNumCloud test lab")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="bring the lab up (idempotent)")
    p_up.add_argument("--force", action="store_true", help="rebuild even if healthy")
    p_up.add_argument("--json", action="store_true", help="print lab.json")
    p_up.add_argument("--drift", action="store_true", help="router rules with the deliberate flow-matrix deviations")
    p_up.add_argument("--hosts", type=int, default=0, help="also N fleet hosts (real sshd) in pv-prod")
    p_inv = sub.add_parser("inventory", help="print the inventory of the fleet (`up --hosts N` first)")
    p_inv.add_argument("--hosts", type=int, required=True)
    sub.add_parser("down", help="tear everything down (idempotent)")
    p_st = sub.add_parser("status", help="show health")
    p_st.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    if args.cmd == "up":
        t0 = time.monotonic()
        try:
            data = up(force=args.force)
            from .firewall import load_flows

            load_flows(drift=args.drift)  # compliant unless --drift (inventories/lab-flows.yaml)
        except RuntimeError as exc:
            print(f"lab up failed: {exc}", file=sys.stderr)
            return 1
        if args.hosts:
            from . import fleet

            try:
                data["fleet"] = fleet.up(args.hosts)
            except RuntimeError as exc:
                print(f"lab fleet failed: {exc}", file=sys.stderr)
                return 1
        if args.json:
            print(json.dumps(data, indent=2))
        else:
            _print_up(data, time.monotonic() - t0)
            if args.hosts:
                print(f"  fleet: {args.hosts} sshd hosts in pv-prod; inventory {data['fleet']['inventory']}")
        return 0
    if args.cmd == "inventory":
        import yaml

        from . import fleet

        print(yaml.safe_dump(fleet.inventory(LabPaths.current(), args.hosts), sort_keys=False), end="")
        return 0
    if args.cmd == "down":
        down()
        print("lab down")
        return 0
    st = status()
    if args.json:
        print(json.dumps(st, indent=2))
    else:
        _print_status(st)
    return 0 if st["healthy"] else 1


if __name__ == "__main__":
    sys.exit(main())
