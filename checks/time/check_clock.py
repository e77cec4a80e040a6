"""Clock synchronisation as the running daemon reports it, and the sources it is told to use.

Whichever of chronyd (chronyc tracking/sources, chrony.conf) or systemd-timesyncd (timedatectl, the merged
timesyncd.conf) runs on the host is judged. No known time daemon running on an observed host is a finding: the
three clock checks FAIL quoting the daemons looked for. A daemon preuve recognises but does not read (ntpd,
OpenNTPD, ptp4l, phc2sys) makes them `error` (nothing judged), and a host that could not be observed stays `error`.
"""

import fnmatch
import ipaddress

from preuve.judge import ObservationError, check
from preuve.observe.logs import timesync as ts


def daemon(clock, judge) -> str | None:
    """The daemon to judge, or None after failing the host on its absence (ObservationError: one not read)."""
    if clock["daemon"] in ("chronyd", "systemd-timesyncd"):
        return clock["daemon"]
    if clock.get("other_running"):
        raise ObservationError(
            f"{', '.join(clock['other_running'])} running: preuve reads the state of chronyd "
            "and systemd-timesyncd only, this clock was not judged"
        )
    judge.one_of("time.daemon", "none running (ps -eo comm)", clock.get("looked_for", ts.KNOWN_DAEMONS))
    return None


@check(
    "TIME-SYNC",
    requirements={
        "12.8.a#2": "the running time daemon reports a synchronised clock",
    },
    target="baseline_host",
    severity="high",
    rule="chronyc tracking : Leap status Normal, une source sélectionnée ; timesyncd : NTPSynchronized=yes",
)
def check_sync(clock, judge):
    if (which := daemon(clock, judge)) is None:
        return
    if which == "systemd-timesyncd":
        judge.equals("time.ntp_synchronized", clock["timesyncd"]["timedate"].get("NTPSynchronized"), "yes")
        judge.non_empty("time.selected_source", ts.timesyncd_selected(clock["timesyncd"]))
        return
    chrony = clock["chrony"]
    judge.equals("time.leap_status", chrony["tracking"].get("leap_status"), "Normal")
    judge.non_empty("time.selected_source", [s["address"] for s in chrony["sources"] if s["state"] == "*"])


@check(
    "TIME-OFFSET",
    requirements={
        "12.8.a#2": "the clock's offset to its source is under the profile's threshold",
    },
    target="baseline_host",
    severity="medium",
    rule="chronyc tracking : |System time| ≤ seuil du profil ; timesyncd : |Offset| ≤ seuil",
)
def check_offset(clock, params, judge):
    if (which := daemon(clock, judge)) is None:
        return
    if which == "systemd-timesyncd":
        offset = ts.timesyncd_offset(clock["timesyncd"])  # None when unsynchronised: unknown, fails
    else:
        track = clock["chrony"]["tracking"]
        offset = track.get("system_offset_seconds") if track.get("leap_status") == "Normal" else None
    ms = round(abs(offset) * 1000, 3) if offset is not None else None
    judge.at_most("time.offset_ms", ms, params.time.max_offset_ms)


def internal(name: str, params) -> bool:
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return any(
            name == d or name.endswith("." + d) or fnmatch.fnmatchcase(name, d) for d in params.time.internal_domains
        )
    return any(ip in ipaddress.ip_network(n) for n in params.time.internal_networks)


@check(
    "TIME-SOURCES-INTERNAL",
    requirements={
        "12.8.a#3": "every configured time source is internal (no public pool)",
    },
    target="baseline_host",
    severity="medium",
    rule="12.8.a : sources de temps internes (pas de pool public, y compris le FallbackNTP compilé de timesyncd)",
)
def check_internal_sources(clock, params, judge):
    if (which := daemon(clock, judge)) is None:
        return
    if which == "systemd-timesyncd":
        names = ts.timesyncd_sources(clock)
    else:
        chrony = clock["chrony"]
        names = [f"{c['directive']} {c['name']}" for c in chrony["configured"]]
        names += [f"live {s['address']}" for s in chrony["sources"]]
    judge.non_empty("time.sources", names)
    judge.each(
        "time.sources_internal", {n: internal(n.split(" ", 1)[1].split(" (")[0], params) for n in names}, observed=names
    )


@check(
    "TIME-LOG-TIMESTAMPS",
    requirements={
        "12.8.b#1": "logged events carry a full timestamp (year and offset; the journal by design)",
    },
    target="baseline_host",
    severity="low",
    rule="12.8.b : horodatage RFC 3339 (année et fuseau) des événements journalisés",
)
def check_log_timestamps(log_timestamps, judge):
    """Text logs by the timestamp words of their newest line; a journal store by design (µs, UTC). No local log at
    all on an observed host is a finding, not an error."""
    if not log_timestamps:
        judge.one_of(
            "time.log_sources",
            "none found",
            ["/var/log/syslog", "/var/log/messages", "/var/log/journal/*.journal", "/run/log/journal/*.journal"],
        )
        return
    judge.each(
        "time.log_timestamps",
        {f: t["year_and_zone"] for f, t in log_timestamps.items()},
        observed={f: t["timestamp"] for f, t in log_timestamps.items()},
    )
