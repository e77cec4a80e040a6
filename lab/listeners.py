"""Tiny stand-in services so that every port of the lab's flow matrix has something answering.

One process per zone namespace (so `preuve lab down`, which kills every process of every pv-* namespace,
also stops them): TCP ports accept and close at once; UDP ports echo the datagram back, so that a UDP probe
that gets through is *open* rather than ambiguous silence. A port already taken by a real lab daemon is
left to it (EADDRINUSE is skipped): open is open.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from . import netns, procs

# namespace -> (tcp ports, udp ports); they implement the services named in inventories/lab-flows.yaml
# (syslog 6514 and NTP 123 in the supervision zone are the lab's real rsyslog and chrony on 198.18.4.3).
LISTENERS: Mapping[str, tuple[tuple[int, ...], tuple[int, ...]]] = MappingProxyType(
    {
        "pv-prod": ((8080, 5432, 9100), ()),
        "pv-dmz": ((80, 9100), ()),
    }
)


def pid_file(run_dir: Path, ns: str) -> Path:
    return run_dir / f"listen-{ns}.pid"


def bind_all(tcp: list[int], udp: list[int], address: str = "0.0.0.0") -> list[socket.socket]:
    """Bound sockets for the ports that are free (a busy port is served by someone else)."""
    socks = []
    for kind, ports in ((socket.SOCK_STREAM, tcp), (socket.SOCK_DGRAM, udp)):
        for port in ports:
            s = socket.socket(socket.AF_INET, kind)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((address, port))
            except OSError as exc:
                s.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            if kind == socket.SOCK_STREAM:
                s.listen(1024)
            s.setblocking(False)
            socks.append(s)
    return socks


def serve(socks: list[socket.socket], stop_after: float | None = None) -> None:
    """Accept-and-close TCP, echo UDP, until killed (or `stop_after` seconds)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    end = None if stop_after is None else time.monotonic() + stop_after
    while end is None or time.monotonic() < end:
        for key, _ in sel.select(timeout=1.0):
            s: socket.socket = key.fileobj  # type: ignore[assignment]
            with contextlib.suppress(OSError):
                if s.type == socket.SOCK_STREAM:
                    conn, _ = s.accept()
                    conn.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data[:512] or b"\0", peer)


def start(run_dir: Path, ns: str) -> subprocess.Popen:
    """Start the listener of `ns` (detached, inside the namespace); returns once its ports are bound."""
    tcp, udp = LISTENERS[ns]
    pf = pid_file(run_dir, ns)
    pf.unlink(missing_ok=True)
    args = [
        sys.executable,
        "-m",
        "preuve_lab.listeners",
        "--pid-file",
        str(pf),
        "--tcp",
        ",".join(map(str, tcp)),
        "--udp",
        ",".join(map(str, udp)),
    ]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns.check_name(ns), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while not pf.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    if not pf.exists():
        raise RuntimeError(f"listener in {ns} did not start (exit {proc.poll()})")
    return proc


def _netns_inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def running(run_dir: Path, ns: str) -> bool:
    """Alive *and* in the namespace that now bears the name (a rebuilt lab has new namespaces)."""
    pid = procs.read_pid(pid_file(run_dir, ns))
    if not procs.alive(pid):
        return False
    return _netns_inode(f"/proc/{pid}/ns/net") == _netns_inode(str(netns.NETNS_DIR / ns))


def ensure(run_dir: Path) -> None:
    """Start every zone's listener that is not running (idempotent). Caller holds the lab lock (lab up)."""
    for ns in LISTENERS:
        if not running(run_dir, ns):
            pid = procs.read_pid(pid_file(run_dir, ns))
            if procs.alive(pid) and "preuve_lab.listeners" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                procs.kill_all([pid])  # ours, stranded in a namespace that lost its name
            start(run_dir, ns)


def ensure_locked(run_dir: Path) -> None:
    """`ensure` for callers outside `lab up` (tests): serialized with up/down of the whole lab."""
    from .lifecycle import _locked

    with _locked():
        ensure(run_dir)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tcp", default="")
    p.add_argument("--udp", default="")
    p.add_argument("--pid-file", required=True)
    a = p.parse_args(argv)
    socks = bind_all([int(x) for x in a.tcp.split(",") if x], [int(x) for x in a.udp.split(",") if x])
    Path(a.pid_file).write_text(f"{os.getpid()}\n")
    serve(socks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
