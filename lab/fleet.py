"""The fleet: N extra real sshd instances in pv-prod, for sweeps at scale (`preuve lab up --hosts N`).

One sshd per host, all with the hardened configuration and the same host keys (a fleet built from one image),
each on its own address:port. pv-prod's /24 gives 150 extra addresses (198.18.2.100-249); beyond that, hosts
reuse them on ports 2201, 2202... They are started by ONE mount namespace (the lab's /etc bind-mounted once),
so 500 hosts start in seconds. Layered on the lab: `preuve lab down` (or `up --force`) takes the fleet down with
pv-prod; `fleet.up(n)` brings it back. The inventory and known_hosts for the fleet live in the lab's state dir.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from . import netns, procs, sshd
from .lifecycle import _locked, ensure_up
from .paths import LabPaths
from .sshkeys import host_key_files
from .topology import ZONE_IFACE, ZONES

FIRST_ADDRESS = ipaddress.IPv4Address("198.18.2.100")
ADDRESSES = 150  # .100 to .249
MAX_HOSTS = 2000
NS = ZONES["prod"].ns
UP_TIMEOUT = 90.0


def fleet_dir(paths: LabPaths) -> Path:
    return paths.root / "fleet"


def endpoint(i: int) -> tuple[str, int]:
    """Address and port of fleet host i (0-based)."""
    address = str(FIRST_ADDRESS + i % ADDRESSES)
    return address, 22 if i < ADDRESSES else 2200 + i // ADDRESSES


def host_name(i: int) -> str:
    return f"fleet-{i + 1:04d}"


def _config(paths: LabPaths, i: int) -> str:
    address, port = endpoint(i)
    fd = fleet_dir(paths)
    head = [
        f"# preuve lab fleet host {host_name(i)} (generated, do not edit)",
        f"ListenAddress {address}:{port}",
        *(f"HostKey {k}" for k in host_key_files(paths, "good")),
        f"PidFile {fd / 'run' / host_name(i)}.pid",
        "AuthorizedKeysFile .ssh/authorized_keys",
        "MaxStartups 64:30:256",
    ]
    return "\n".join(head) + "\n" + sshd.GOOD_OPTIONS


def config_path(paths: LabPaths, i: int) -> Path:
    return fleet_dir(paths) / "sshd" / f"{host_name(i)}.conf"


def known_hosts(paths: LabPaths) -> Path:
    return fleet_dir(paths) / "known_hosts"


def inventory_path(paths: LabPaths) -> Path:
    return fleet_dir(paths) / "inventory.yaml"


def inventory(paths: LabPaths, n: int) -> dict[str, Any]:
    """A preuve inventory of the n fleet hosts (scanned from pv-admin, like the lab's)."""
    hosts = []
    for i in range(n):
        address, port = endpoint(i)
        hosts.append(
            {
                "name": host_name(i),
                "address": address,
                "zone": "production",
                "site": "paris-1",
                "tags": ["linux", "fleet"],
                "ssh": {"port": port, "sshd_config": str(config_path(paths, i))},
            }
        )
    return {
        "version": 1,
        "name": f"preuve-lab-fleet-{n}",
        "scanner": {"netns": "pv-admin", "zone": "admin"},
        "defaults": {
            "timeout": 5,
            "ssh": {"user": "auditor", "key_file": str(paths.auditor_key), "known_hosts": str(known_hosts(paths))},
        },
        "sites": [{"name": "paris-1", "country": "FR", "provider": "lab"}],
        "zones": [
            {"name": "admin", "kind": "admin", "cidrs": [ZONES["admin"].subnet]},
            {"name": "production", "kind": "production", "cidrs": [ZONES["prod"].subnet]},
        ],
        "hosts": hosts,
    }


def _write_files(paths: LabPaths, n: int) -> None:
    fd = fleet_dir(paths)
    for sub in ("sshd", "run", "logs"):
        (fd / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        config_path(paths, i).write_text(_config(paths, i))
    keys = [k.with_suffix(".pub").read_text().split()[:2] for k in host_key_files(paths, "good")]
    lines = []
    for i in range(n):
        address, port = endpoint(i)
        name = address if port == 22 else f"[{address}]:{port}"
        lines += [f"{name} {kt} {blob}" for kt, blob in keys]
    known_hosts(paths).write_text("\n".join(lines) + "\n")
    inventory_path(paths).write_text(yaml.safe_dump(inventory(paths, n), sort_keys=False))


def _pids(paths: LabPaths, n: int) -> list[int | None]:
    return [procs.read_pid(fleet_dir(paths) / "run" / f"{host_name(i)}.pid") for i in range(n)]


def healthy(paths: LabPaths, n: int) -> bool:
    state = fleet_dir(paths) / "fleet.json"
    if not state.is_file() or json.loads(state.read_text()).get("hosts") != n:
        return False
    return all(procs.alive(p) for p in _pids(paths, n)) and procs.port_answers(*endpoint(n - 1), ns="pv-admin")


def stop(paths: LabPaths) -> None:
    """Kill the fleet's sshd listeners (their pid files name them) and remove their addresses from pv-prod (a
    left-over address still answers pings: an undeclared live host to NET-UNDECLARED-HOSTS); the lab stays up."""
    run = fleet_dir(paths) / "run"
    pids = [procs.read_pid(p) for p in run.glob("*.pid")] if run.is_dir() else []
    procs.kill_all([p for p in pids if p and procs.alive(p)])
    for p in run.glob("*.pid") if run.is_dir() else []:
        p.unlink(missing_ok=True)
    (fleet_dir(paths) / "fleet.json").unlink(missing_ok=True)
    if netns.exists(NS):
        prefix = ZONES["prod"].prefixlen
        held = netns.run_in(NS, ["ip", "-o", "-4", "addr", "show", "dev", ZONE_IFACE]).stdout
        fleet = {str(FIRST_ADDRESS + i) for i in range(ADDRESSES)}
        gone = [a for a in fleet if f" {a}/" in held]
        if gone:
            netns.ip_batch(NS, [f"address del {a}/{prefix} dev {ZONE_IFACE}" for a in sorted(gone)])


# The lab's /etc bind-mounted once, then every sshd of the fleet daemonizes from that mount namespace.
_WRAPPER = (
    'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && '
    'mount --bind "$3" /etc/shadow && mount --bind "$4" /etc/sudoers && shift 4 && '
    f'for c in "$@"; do {sshd.SSHD} -f "$c" -E "${{c%.conf}}.log" & done; wait'
)


def up(n: int) -> dict[str, Any]:
    """Ensure the lab and exactly n fleet hosts are up; idempotent (a healthy fleet of n is left alone)."""
    if not 1 <= n <= MAX_HOSTS:
        raise RuntimeError(f"--hosts must be between 1 and {MAX_HOSTS}")
    ensure_up()
    paths = LabPaths.current()
    t0 = time.monotonic()
    with _locked():
        if not healthy(paths, n):
            stop(paths)
            _start(paths, n)
    return {
        "hosts": n,
        "inventory": str(inventory_path(paths)),
        "known_hosts": str(known_hosts(paths)),
        "seconds": round(time.monotonic() - t0, 2),
    }


def _start(paths: LabPaths, n: int) -> None:
    _write_files(paths, n)
    check = netns.run_in(NS, [sshd.SSHD, "-t", "-f", str(config_path(paths, 0))])
    if check.returncode != 0:
        raise RuntimeError(f"sshd -t rejected the fleet config: {check.stderr.strip()}")
    prefix = ZONES["prod"].prefixlen
    addresses = sorted({endpoint(i)[0] for i in range(n)})
    netns.ip_batch(NS, [f"address replace {a}/{prefix} dev {ZONE_IFACE}" for a in addresses])
    etc = paths.etc
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        _WRAPPER,
        "sh",
        str(etc / "passwd"),
        str(etc / "group"),
        str(etc / "shadow"),
        str(etc / "sudoers"),
        *(str(config_path(paths, i)) for i in range(n)),
    ]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    proc = netns.run_in(NS, argv, env=env, timeout=UP_TIMEOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"fleet failed to start: {proc.stderr.strip()[-400:]}")
    deadline = time.monotonic() + UP_TIMEOUT
    while not all(procs.alive(p) for p in _pids(paths, n)):
        if time.monotonic() > deadline:
            dead = [host_name(i) for i, p in enumerate(_pids(paths, n)) if not procs.alive(p)]
            raise RuntimeError(f"fleet hosts not running: {dead[:10]} ({len(dead)} in all)")
        time.sleep(0.05)
    for i in (0, n - 1):
        if not procs.wait_port(*endpoint(i), deadline):
            raise RuntimeError(f"fleet host {host_name(i)} {endpoint(i)} does not answer")
    (fleet_dir(paths) / "fleet.json").write_text(json.dumps({"hosts": n}) + "\n")
