"""A real ClamAV daemon on each lab host (MAL-PROTECTION-AGENT), with signature databases of chosen age.

The lab has no network out, so freshclam cannot fetch the official databases. The lab builds its own with ClamAV's
tools instead: one MD5 signature (`sigtool --md5`) of a lab sample, packed by `sigtool --unsigned --build` into a
daily.cud container whose header ("ClamAV-VDB:<date>:<version>:...:<build time>") is the one freshclam's
downloads carry. clamd (Debian's clamav-daemon) loads it and runs as the clamav user, in the host's mount
namespace, with hosts/<name>/clamav bound over /var/lib/clamav.

- ssh-mfa: daily.cud built at lab up (fresh header).
- ssh-key-only: the same signature as a plain daily.hdb dated 45 days back (mtime): clamd runs (a check that only
  asks "is the agent running?" passes it) but its signatures are stale.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

STALE_DAYS = 45
CLAMD_CONF = """\
# preuve lab clamd (generated): the databases and the socket live in the host's own /var/lib/clamav
LocalSocket /var/lib/clamav/clamd.ctl
FixStaleSocket true
User clamav
DatabaseDirectory /var/lib/clamav
PidFile /var/lib/clamav/clamd.pid
Foreground false
LogSyslog false
SelfCheck 3600
"""
# In the foreground, put in the background by the host's start script, which waits (10 s at most) for its socket.
# Left to daemonize itself, clamd's parent waits for a SIGINT from the daemon saying it is ready; once in a while
# (seen in a clean-clone CI, restarting the lab after a simulated crash) that signal never came and the lab's start
# hung forever on the parent.
START = (
    "rm -f /var/lib/clamav/clamd.ctl && "
    "{ clamd -c /etc/clamav/clamd.conf --foreground </dev/null >/dev/null 2>&1 & } && "
    "{ for i in $(seq 1 100); do [ -S /var/lib/clamav/clamd.ctl ] && break; sleep 0.1; done; true; } && "
)


def install(host_dir: Path, name: str) -> None:
    """hosts/<name>/clamav (the databases) and etc/clamav/clamd.conf."""
    db = host_dir / "clamav"
    if db.exists():
        shutil.rmtree(db)
    work = host_dir / "clamav-build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "sample.txt").write_text("preuve lab malware sample (harmless)\n")
    sig = subprocess.run(["sigtool", "--md5", "sample.txt"], cwd=work, capture_output=True, text=True, check=True)
    (work / "daily.hdb").write_text(sig.stdout)
    db.mkdir()
    if name == "ssh-mfa":
        (work / "COPYING").write_text("preuve lab signatures\n")
        subprocess.run(
            ["sigtool", "--unsigned", "--build=daily.cud", "--cvd-version=1", "--datadir=."],
            cwd=work,
            input="preuve-lab\n",  # the builder name sigtool asks for
            capture_output=True,
            text=True,
            check=True,
        )
        shutil.copyfile(work / "daily.cud", db / "daily.cud")
    else:
        shutil.copyfile(work / "daily.hdb", db / "daily.hdb")
        old = time.time() - STALE_DAYS * 86400
        os.utime(db / "daily.hdb", (old, old))
    shutil.rmtree(work)
    clamav = pwd.getpwnam("clamav")
    os.chown(db, clamav.pw_uid, clamav.pw_gid)
    db.chmod(0o755)
    conf = host_dir / "etc" / "clamav" / "clamd.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(CLAMD_CONF)
    conf.chmod(0o644)
