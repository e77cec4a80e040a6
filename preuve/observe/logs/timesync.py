"""Which clock daemon a host runs (chronyd or systemd-timesyncd) and what it reports, for the TIME-* checks.

The daemon is detected from the process table (`ps -eo comm`; the kernel truncates systemd-timesyncd to
"systemd-timesyn"); only that daemon is asked and judged. None of the known daemons running is a fact (daemon
None, `other_running` empty): TIME-SYNC fails quoting what was looked for. ntpd (ntp, ntpsec, OpenNTPD), ptp4l or
phc2sys running are recognised (`other_running`) but their state is not read: the checks are then `error`
("could not judge"), never a pass and never a false finding. Only a failing `ps` is an observation error.
systemd-timesyncd: configuration from `systemd-analyze cat-config systemd/timesyncd.conf` (the merged files it
reads), state from `timedatectl timesync-status`, `timedatectl show-timesync --all` and `timedatectl show`
(formats of systemd 252, src/timedate/timedatectl.c). When FallbackNTP= is not set, timesyncd uses its
compiled-in list, on Debian the public 0-3.debian.pool.ntp.org: it counts as a configured (public) source.
"""

from __future__ import annotations

import re

from preuve.observe.logs.journald import timespan_seconds
from preuve.observe.registry import HostFact
from preuve.observe.shell import AS_ROOT as _AS_ROOT
from preuve.observe.shell import SBIN_PATH as _PATH

CHRONY = (
    _PATH + "asroot() { " + _AS_ROOT + "; }; "
    "asroot chronyc -n -c tracking || exit 1; echo '== sources'; asroot chronyc -n -c sources || exit 1; "
    "echo '== config'; cat /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony/sources.d/*.sources "
    "/etc/chrony.conf 2>/dev/null; true"
)


_SOURCE_DIRECTIVES = ("server", "pool", "peer")


def parse_chrony(text: str) -> dict:
    """chronyc -c tracking and sources (CSV), and the sources the configuration names."""
    tracking, _, rest = text.partition("== sources\n")
    sources, _, config = rest.partition("== config\n")
    t = next((ln.split(",") for ln in tracking.splitlines() if ln.strip()), [])
    track = {}
    if len(t) >= 14:
        track = {
            "reference_id": t[0],
            "reference": t[1],
            "stratum": int(t[2]) if t[2].isdigit() else None,
            "system_offset_seconds": float(t[4]),
            "root_delay_seconds": float(t[10]),
            "root_dispersion_seconds": float(t[11]),
            "leap_status": t[13],
        }
    live = []
    for line in sources.splitlines():
        f = line.split(",")
        if len(f) >= 6:
            live.append({"mode": f[0], "state": f[1], "address": f[2], "stratum": f[3], "reach": f[5]})
    configured = []
    for raw in config.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in _SOURCE_DIRECTIVES:
            configured.append({"directive": words[0], "name": words[1]})
    return {"tracking": track, "sources": live, "configured": configured}


MARK = "==preuve-time "
DEBIAN_FALLBACK = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org", "2.debian.pool.ntp.org", "3.debian.pool.ntp.org"]
"""systemd 252 as built by Debian 12 (-Dntp-servers=...), used when the shipped file does not document it."""

KNOWN_DAEMONS = ("chronyd", "systemd-timesyncd", "ntpd", "openntpd", "ptp4l", "phc2sys")
"""What a host is looked at for (OpenNTPD and ntpsec also run as "ntpd"; ps shows "systemd-timesyn")."""
OTHER_DAEMONS = ("ntpd", "openntpd", "ptp4l", "phc2sys")  # recognised, their state is not read

TIMESYNC = (
    _PATH + 'p=$(ps -eo comm= 2>&1) || { echo "ps failed: $p" >&2; exit 1; }; '
    'has() { printf \'%s\\n\' "$p" | grep -qx "$1"; }; '
    "if has chronyd; then printf '" + MARK + "daemon chronyd%s\\n' \"$(has systemd-timesyn && echo ' +timesyncd')\"; "
    "( " + CHRONY + "\n) || exit 1; "
    "elif has systemd-timesyn; then echo '" + MARK + "daemon systemd-timesyncd'; "
    "echo '" + MARK + "timesync-status'; timedatectl --no-pager timesync-status || exit 1; "
    "echo '" + MARK + "show-timesync'; timedatectl --no-pager show-timesync --all || exit 1; "
    "echo '" + MARK + "show'; timedatectl --no-pager show || exit 1; "
    "else o=''; for d in " + " ".join(OTHER_DAEMONS) + '; do has "$d" && o="$o $d"; done; '
    'if [ -n "$o" ]; then echo \'' + MARK + "daemon other'\"$o\"; else echo '" + MARK + "daemon none'; fi; fi; "
    "echo '" + MARK + "timesyncd.conf'; systemd-analyze cat-config systemd/timesyncd.conf 2>/dev/null; true"
)


def _sections(text: str) -> dict[str, tuple[str, str]]:
    """{first word of the marker line: (marker line, body)}."""
    out: dict[str, tuple[str, str]] = {}
    for chunk in ("\n" + text).split("\n" + MARK)[1:]:
        head, _, body = chunk.partition("\n")
        out[head.split(" ", 1)[0].strip()] = (head.strip(), body)
    return out


def parse_kv(text: str) -> dict[str, str]:
    """`timedatectl show`-style KEY=value lines."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def parse_status(text: str) -> dict[str, str]:
    """`timedatectl timesync-status`: right-aligned "Key: value" table rows."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep:
            out[key.strip()] = value.strip()
    return out


def parse_timesyncd_conf(text: str) -> dict:
    """NTP= and FallbackNTP= as timesyncd reads them: later lines add, an empty assignment resets the list."""
    lists: dict[str, list[str] | None] = {"NTP": [], "FallbackNTP": None}
    documented: list[str] | None = None
    files = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# /"):
            files.append(line[2:])
        m = re.match(r"#\s*FallbackNTP=(.*)$", line)
        if m and documented is None:
            documented = m[1].split()  # Debian's shipped file: "Entries in this file show the compile time defaults"
        if line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = (s.strip() for s in line.partition("="))
        if key in lists:
            lists[key] = (lists[key] or []) + value.split() if value else []
    default = lists["FallbackNTP"] is None
    return {
        "files": files,
        "ntp": lists["NTP"],
        "fallback_default": default,
        "fallback": (documented or DEBIAN_FALLBACK) if default else lists["FallbackNTP"],
    }


def parse_timesync(text: str) -> dict:
    """{"daemon", "also_running", "chrony" | "timesyncd", "timesyncd_config"} from the TIMESYNC output."""
    sections = _sections(text)
    head, body = sections.get("daemon", ("daemon ?", ""))
    words = head.split()
    out: dict = {"daemon": words[1] if len(words) > 1 else None, "also_running": [], "looked_for": list(KNOWN_DAEMONS)}
    if out["daemon"] in ("none", "other"):  # observed: none of the daemons preuve reads is running
        out["daemon"], out["other_running"] = None, words[2:]
    if "+timesyncd" in words:
        out["also_running"].append("systemd-timesyncd")
    if out["daemon"] == "chronyd":
        out["chrony"] = parse_chrony(body)
    elif out["daemon"] == "systemd-timesyncd":
        out["timesyncd"] = {
            "status": parse_status(sections.get("timesync-status", ("", ""))[1]),
            "properties": parse_kv(sections.get("show-timesync", ("", ""))[1]),
            "timedate": parse_kv(sections.get("show", ("", ""))[1]),
        }
    out["timesyncd_config"] = parse_timesyncd_conf(sections.get("timesyncd.conf", ("", ""))[1])
    return out


# --- daemon-independent readings for the checks ------------------------------------------------------------


def signed_span(value: str | None) -> float | None:
    """timedatectl's "+1.234ms" / "-2.957ms" / "-1min 2.5s" -> seconds."""
    if not value:
        return None
    value = value.strip().replace("µs", "us").replace("μs", "us")
    sign = -1 if value.startswith("-") else 1
    seconds = timespan_seconds(value.lstrip("+-"))
    return None if seconds is None else sign * seconds


def timesyncd_synchronised(ts: dict) -> bool:
    status = ts["status"]
    return (
        ts["timedate"].get("NTPSynchronized") == "yes"
        and status.get("Packet count", "0") != "0"
        and status.get("Leap") not in (None, "not synchronized")
    )


def timesyncd_selected(ts: dict) -> list[str]:
    """The server timesyncd syncs from ("address (name)"), when it has an answer from it."""
    server = ts["status"].get("Server")
    return [server] if server and timesyncd_synchronised(ts) else []


def timesyncd_offset(ts: dict) -> float | None:
    return signed_span(ts["status"].get("Offset")) if timesyncd_synchronised(ts) else None


def timesyncd_sources(fact: dict) -> list[str]:
    """Every server timesyncd may use, labelled by where it comes from (configured, daemon's lists, live)."""
    conf = fact["timesyncd_config"]
    names = [f"NTP {n}" for n in conf["ntp"]]
    fallback = "FallbackNTP(compiled-default)" if conf["fallback_default"] else "FallbackNTP"
    names += [f"{fallback} {n}" for n in conf["fallback"]]
    props = fact.get("timesyncd", {}).get("properties", {})
    for key in ("SystemNTPServers", "LinkNTPServers", "RuntimeNTPServers", "FallbackNTPServers"):
        names += [f"{key} {n}" for n in props.get(key, "").split()]
    names += [f"live {props[k]}" for k in ("ServerName", "ServerAddress") if props.get(k)]
    return list(dict.fromkeys(names))


HOST_FACTS = (
    HostFact(
        "timesync",
        TIMESYNC,
        parse_timesync,
        fixture="clock",
        doc="the clock daemon running (chronyd or systemd-timesyncd), its state and configured sources",
    ),
)
