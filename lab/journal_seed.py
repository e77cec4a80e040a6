"""Real systemd journals with entries of chosen age for the lab hosts, so LOG-JOURNALD-RETENTION measures something.

No journald runs in the lab (no systemd as PID 1), so the journal files are written by systemd-journal-remote
(Debian package systemd-journal-remote) from the journal export format, whose __REALTIME_TIMESTAMP it keeps:
the files are byte-for-byte what journald's own writer produces, read back by the host's real journalctl.

- ssh-mfa: persistent journal in /var/log/journal, oldest entry 200 days old, far below SystemMaxUse=20G
  (the measure confirms the configured year).
- ssh-key-only: volatile journal in /run/log/journal (bound per host, like /var/log), oldest entry 20 days old,
  filling RuntimeMaxUse=8M (one 8 MiB journal file): the size cap evicts long before six months.

The scanning account reads the journal as a member of systemd-journal, as on a real Debian host.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

AGES_DAYS = {"ssh-mfa": (200, 120, 30, 1, 0.01), "ssh-key-only": (20, 10, 1, 0.01)}
STORE = {"ssh-mfa": "log/journal", "ssh-key-only": "run-journal"}  # relative to the host directory
REMOTE = ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
GROUP = "systemd-journal"


def _export(name: str, ages: tuple[float, ...]) -> bytes:
    """Journal export format (one entry per age, oldest first) with the realtime stamps we choose."""
    now, boot = time.time(), uuid.uuid4().hex
    out = []
    for i, age in enumerate(ages):
        fields = {
            "__REALTIME_TIMESTAMP": int((now - age * 86400) * 1e6),
            "__MONOTONIC_TIMESTAMP": i + 1,
            "_BOOT_ID": boot,
            "_HOSTNAME": name,
            "PRIORITY": 6,
            "SYSLOG_IDENTIFIER": "preuve-lab",
            "MESSAGE": f"preuve lab entry dated {age:g} days ago",
        }
        out.append("".join(f"{k}={v}\n" for k, v in fields.items()) + "\n")
    return "".join(out).encode()


def _machine_dir(store: Path) -> Path:
    """journalctl reads <store>/<machine-id>/; a host without a machine id reads <store>/ itself."""
    try:
        mid = Path("/etc/machine-id").read_text().strip()
    except OSError:
        mid = ""
    return store / mid if len(mid) == 32 and all(c in "0123456789abcdef" for c in mid) else store


def write(host_dir: Path, name: str) -> Path:
    """(Re)write the host's journal store; return the journal file."""
    remote = next((p for p in REMOTE if os.access(p, os.X_OK)), None)
    if remote is None:
        raise RuntimeError("systemd-journal-remote not found: apt-get install systemd-journal-remote")
    (host_dir / "run-journal").mkdir(parents=True, exist_ok=True)  # bound over /run/log/journal on every host
    store = host_dir / STORE[name]
    if store.exists():
        shutil.rmtree(store)
    target = _machine_dir(store)
    target.mkdir(parents=True)
    out = target / "system.journal"
    proc = subprocess.run(
        [remote, "--split-mode=none", f"--output={out}", "-"],
        input=_export(name, AGES_DAYS[name]),
        capture_output=True,
        timeout=30,
    )
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"systemd-journal-remote failed for {name}: {proc.stderr.decode(errors='replace')[-300:]}")
    gid = _gid()
    owned = os.geteuid() == 0  # the lab (root) gives the store to root:systemd-journal; unit tests keep their own
    for d in [store, *(p for p in store.rglob("*") if p.is_dir())]:
        if owned:
            os.chown(d, 0, gid)
        d.chmod(0o2755)
    if owned:
        os.chown(out, 0, gid)
    out.chmod(0o640)
    return out


def _gid() -> int:
    try:
        return grp.getgrnam(GROUP).gr_gid
    except KeyError:
        return 0


def grant_read(etc: Path, user: str = "auditor") -> None:
    """Make `user` a member of systemd-journal in the host's /etc/group (journal readers, journalctl(1))."""
    group = etc / "group"
    lines = group.read_text().splitlines()
    for i, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == GROUP and len(fields) == 4:
            members = [*(m for m in fields[3].split(",") if m and m != user), user]
            lines[i] = ":".join([*fields[:3], ",".join(members)])
    group.write_text("\n".join(lines) + "\n")
