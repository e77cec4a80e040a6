"""status(): what is actually running, checked from the outside.

Never trusts lab.json alone: each namespace must exist, each daemon's pid
must be alive and each port must answer a TCP connect from pv-admin.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import firewall, netns, network, procs
from .paths import LabPaths
from .topology import NAMESPACES, ROUTER_NS, SERVICES


def _service_status(paths: LabPaths, name: str, admin_ok: bool) -> dict[str, Any]:
    svc = SERVICES[name]
    pid = procs.read_pid(paths.pid_file(name))
    answers = admin_ok and procs.port_answers(svc.address, svc.port)
    return {
        "ns": svc.ns,
        "address": svc.address,
        "port": svc.port,
        "pid": pid,
        "pid_alive": procs.alive(pid),
        "port_answers": answers,
        "private_etc": svc.kind != "sshd" or _sees_lab_users(pid),
    }


def _sees_lab_users(pid: int | None) -> bool:
    """An sshd sees the lab's /etc through bind mounts; a package install that renames the host's /etc/passwd
    detaches them (the kernel drops mounts on a replaced dentry), and lab logins then fail: rebuild."""
    if pid is None:
        return False
    try:
        return "\nauditor:" in "\n" + Path(f"/proc/{pid}/root/etc/passwd").read_text()
    except OSError:
        return False


def status(paths: LabPaths | None = None) -> dict[str, Any]:
    """Per namespace and service health, plus an overall ``healthy`` flag."""
    paths = paths or LabPaths.current()
    namespaces = {ns: {"present": netns.exists(ns)} for ns in NAMESPACES}
    stray = [ns for ns in netns.list_lab() if ns not in namespaces]
    admin_ok = namespaces["pv-admin"]["present"]
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        futures = {n: pool.submit(_service_status, paths, n, admin_ok) for n in SERVICES}
        services = {n: f.result() for n, f in futures.items()}
    router_ok = namespaces[ROUTER_NS]["present"]
    router = {
        "forwarding": router_ok and network.forwarding_enabled(),
        "ruleset_loaded": router_ok and firewall.ruleset_loaded(),
        "addresses": network.addresses_present(),  # a lab built before an address was added is rebuilt
    }
    healthy = (
        paths.lab_json.is_file()
        and all(n["present"] for n in namespaces.values())
        and all(router.values())
        and all(s["pid_alive"] and s["port_answers"] and s["private_etc"] for s in services.values())
    )
    return {
        "healthy": healthy,
        "state_dir": str(paths.root),
        "lab_json": paths.lab_json.is_file(),
        "namespaces": namespaces,
        "stray_namespaces": stray,
        "router": router,
        "services": services,
    }
