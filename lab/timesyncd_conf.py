"""systemd-timesyncd configuration of the lab hosts: read and judged, though timesyncd cannot run in the lab.

timesyncd needs systemd as PID 1 and the system D-Bus, and would set the host's clock: the lab runs chronyd
(without touching the clock) instead. These files let a scan prove that the timesyncd side of TIME-SOURCES-INTERNAL
reads the merged configuration of a real host through the real SSH path: ssh-mfa names only the internal server
and empties FallbackNTP=; ssh-key-only leaves FallbackNTP= unset, so Debian's compiled-in public pool applies.
"""

from __future__ import annotations

from pathlib import Path

MAIN = """\
# preuve lab: as Debian 12 ships it (systemd-timesyncd 252); entries show the compile time defaults.
[Time]
#NTP=
#FallbackNTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org
#RootDistanceMaxSec=5
"""
DROP_IN = {
    "ssh-mfa": "[Time]\nNTP=198.18.4.3\n# no public fallback: an empty assignment clears the list\nFallbackNTP=\n",
    "ssh-key-only": "[Time]\nNTP=198.18.4.3\n",
}


def write(etc: Path, name: str) -> None:
    (etc / "systemd" / "timesyncd.conf.d").mkdir(parents=True, exist_ok=True)
    (etc / "systemd" / "timesyncd.conf").write_text(MAIN)
    (etc / "systemd" / "timesyncd.conf.d" / "50-preuve-lab.conf").write_text(DROP_IN[name])
    for f in (etc / "systemd" / "timesyncd.conf", etc / "systemd" / "timesyncd.conf.d" / "50-preuve-lab.conf"):
        f.chmod(0o644)
