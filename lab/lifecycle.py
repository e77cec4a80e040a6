"""up / down / ensure_up: bring the whole lab to a known state.

``up`` never repairs in place: anything unhealthy means a full ``down``
then a clean build, which takes a couple of seconds and leaves no half
states to reason about. ``down`` works from the machine's namespaces, not
from the state dir, so it also cleans after a crash or a deleted state dir.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from . import (
    accounts,
    adminplane,
    backups,
    describe,
    firewall,
    health,
    hosts,
    idp,
    internal_flows,
    kubeapi,
    logstores,
    logsup,
    mfa_factors,
    netns,
    network,
    nginx,
    pki,
    procs,
    s3,
    sshd,
    sshkeys,
    volumes,
    webadmin,
)
from .listeners import ensure as ensure_listeners
from .paths import LOCK_FILE, LabPaths
from .topology import SERVICES

UP_TIMEOUT = 30.0
REQUIRED_TOOLS = ("ip", "nft", "unshare", "mount", "ssh-keygen", "sudo", "/usr/sbin/sshd", "/usr/sbin/nginx")


@contextmanager
def _locked() -> Iterator[None]:
    """Serialize up/down across processes (the pv-* namespaces are machine-wide)."""
    with open(LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _preflight() -> None:
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        raise RuntimeError(
            f"lab needs {', '.join(missing)} (apt-get install iproute2 nftables openssh-server nginx-light sudo)"
        )


def _down_unlocked(paths: LabPaths) -> None:
    for ns in netns.list_lab():
        procs.kill_all(netns.pids(ns))
    # Daemons whose namespace lost its name (half-finished delete) still have pid files.
    if paths.run.is_dir():
        for pid_file in paths.run.glob("*.pid"):
            pid = procs.read_pid(pid_file)
            if pid and procs.alive(pid) and _is_lab_daemon(pid, paths):
                procs.kill_all([pid])
            pid_file.unlink(missing_ok=True)
    for ns in netns.list_lab():
        netns.delete(ns)
    volumes.detach(paths)  # the loop devices of the hosts' data volumes
    paths.lab_json.unlink(missing_ok=True)


def _is_lab_daemon(pid: int, paths: LabPaths) -> bool:
    """Guard against pid reuse: only kill an sshd/nginx run from our state dir."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return ("sshd" in cmd or "nginx" in cmd) and str(paths.root) in cmd


def down() -> None:
    """Kill every process in every pv-* namespace, delete them, drop pid files.

    Idempotent; needs neither lab.json nor the state dir.
    """
    with _locked():
        _down_unlocked(LabPaths.current())


def _prepare(paths: LabPaths) -> tuple[list[accounts.LabUser], dict[str, pki.TlsMaterial]]:
    """Everything on disk: keys, certs, users, configs (cached parts reused)."""
    paths.root.mkdir(parents=True, exist_ok=True)
    for d in (paths.run, paths.logs):
        d.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        tls_future = pool.submit(pki.ensure, paths)
        sshkeys.ensure(paths)
        tls = tls_future.result()
    sshkeys.write_known_hosts(paths)
    users = accounts.lab_users(paths)
    accounts.write_etc(paths, users)
    accounts.write_homes(paths, users)
    sshd.write_configs(paths)
    nginx.write_configs(paths, tls)
    s3.write_config(paths)
    kubeapi.write_configs(paths)
    backups.ensure(paths)
    hosts.write(paths, next(u.uid for u in users if u.name == "auditor"))
    mfa_factors.write(paths)  # over ssh-mfa's /etc: after it
    webadmin.write(paths)
    idp.write(paths)
    logstores.write(paths)
    adminplane.write(paths)
    internal_flows.write(paths)
    return users, tls


def _start_services(paths: LabPaths) -> None:
    starters = {
        "ssh-good": lambda: sshd.start(paths, "good"),
        "ssh-weak": lambda: sshd.start(paths, "weak"),
        "ssh-match": lambda: sshd.start(paths, "match"),
        "tls-good": lambda: nginx.start(paths, "good"),
        "tls-weak": lambda: nginx.start(paths, "weak"),
        "s3": lambda: s3.start(paths),
        "k8s-good": lambda: kubeapi.start(paths, "good"),
        "k8s-weak": lambda: kubeapi.start(paths, "weak"),
        **{name: (lambda name=name: hosts.start(paths, name)) for name in hosts.HOSTS},
        **{name: (lambda name=name: mfa_factors.start(paths, name)) for name in mfa_factors.FACTORS},
        "log-collector": lambda: logsup.start(paths),
        "web-admin": lambda: webadmin.start(paths),
        "idp": lambda: idp.start(paths),
        "log-stores": lambda: logstores.start(paths),
        "adminplane": lambda: adminplane.start(paths),
        "internal-flows": lambda: internal_flows.start(paths),
    }
    with ThreadPoolExecutor(max_workers=len(starters)) as pool:
        for future in [pool.submit(fn) for fn in starters.values()]:
            future.result()


def _wait_services(paths: LabPaths, deadline: float) -> None:
    """Wait until each port answers from pv-admin and each daemon wrote its pid file."""

    def wait(name: str) -> bool:
        svc = SERVICES[name]
        if not procs.wait_port(svc.address, svc.port, deadline):
            return False
        # Both daemons may accept connections a moment before writing the pid file.
        while not procs.alive(procs.read_pid(paths.pid_file(name))):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        results = dict(zip(SERVICES, pool.map(wait, SERVICES), strict=True))
    dead = [n for n, ok in results.items() if not ok]
    if dead:
        logs = {n: _tail(paths, n) for n in dead}
        raise RuntimeError(f"lab services not answering: {dead}; logs: {logs}")


def _tail(paths: LabPaths, name: str) -> str:
    for log in (paths.log(name), paths.log(name + ".error")):
        if log.is_file():
            return log.read_text(errors="replace")[-400:]
    return ""


def up(*, force: bool = False) -> dict[str, Any]:
    """Bring the lab up (idempotent) and return the lab.json content.

    Returns at once if already healthy (unless ``force``); otherwise tears
    down whatever is left and rebuilds, waiting until every service accepts
    a TCP connection from pv-admin.
    """
    paths = LabPaths.current()
    with _locked():
        if not force and health.status(paths)["healthy"]:
            data = describe.read(paths.lab_json)
            if data is not None:
                return data
        t0 = time.monotonic()
        deadline = t0 + UP_TIMEOUT
        started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _preflight()
        _down_unlocked(paths)
        try:
            users, _ = _prepare(paths)
            network.build()
            firewall.load_router_ruleset(paths.router_ruleset, drift=False)  # inventories/lab-flows.yaml
            _start_services(paths)
            _wait_services(paths, deadline)
            ensure_listeners(paths.run)  # after the daemons: a port they hold is theirs
        except BaseException:
            _down_unlocked(paths)
            raise
        data = describe.build(paths, users, started_at, time.monotonic() - t0)
        describe.write(paths.lab_json, data)
        return data


def ensure_up() -> dict[str, Any]:
    """The lab.json content, bringing the lab up first if anything is unhealthy."""
    return up(force=False)
