"""TIME-* on systemd-timesyncd hosts, from real output formats (systemd-timesyncd cannot run in the lab).

Formats are those of systemd 252 (Debian 12): `timedatectl timesync-status` is print_ntp_status_info() and
`timedatectl show-timesync` is print_timesync_property() in src/timedate/timedatectl.c (table of right-aligned
"Key: value" rows; Offset signed and formatted by format_timespan(); NTPMessage with timestamps to the second);
`timedatectl show` prints the org.freedesktop.timedate1 properties as KEY=value. The timesyncd.conf head is the
file Debian 12 ships in systemd-timesyncd 252 (its comments document the compile-time defaults).
"""

from __future__ import annotations

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.logs import timesync as ts
from preuve.results.messages import sentence
from preuve_checks.time.check_clock import check_internal_sources, check_offset, check_sync

M = ts.MARK
STATUS_SYNCED = """\
       Server: 198.18.4.3 (ntp1.corp.example)
Poll interval: 34min 8s (min: 32s; max 34min 8s)
         Leap: normal
      Version: 4
      Stratum: 2
    Reference: C0A80101
    Precision: 1us (-20)
Root distance: 335us (max: 5s)
       Offset: -1.015ms
        Delay: 1.296ms
       Jitter: 0
 Packet count: 12
    Frequency: -12.479ppm
"""
STATUS_NEVER = """\
       Server: n/a (0.debian.pool.ntp.org)
Poll interval: 0 (min: 32s; max 34min 8s)
 Packet count: 0
"""
SHOW_TIMESYNC = """\
LinkNTPServers=
SystemNTPServers=ntp1.corp.example
RuntimeNTPServers=
FallbackNTPServers=
ServerName=ntp1.corp.example
ServerAddress=198.18.4.3
RootDistanceMaxUSec=5s
PollIntervalMinUSec=32s
PollIntervalMaxUSec=34min 8s
PollIntervalUSec=34min 8s
NTPMessage={ Leap=0, Version=4, Mode=4, Stratum=2, Precision=-20, RootDelay=312us, RootDispersion=179us, \
Reference=C0A80101, OriginateTimestamp=Mon 2026-11-23 13:02:11 UTC, ReceiveTimestamp=Mon 2026-11-23 13:02:11 UTC, \
TransmitTimestamp=Mon 2026-11-23 13:02:11 UTC, DestinationTimestamp=Mon 2026-11-23 13:02:11 UTC, Ignored=no, \
PacketCount=12, Jitter=0 }
Frequency=-817823
"""
SHOW = """\
Timezone=Etc/UTC
LocalRTC=no
CanNTP=yes
NTP=yes
NTPSynchronized={synced}
TimeUSec=Mon 2026-11-23 13:05:42 UTC
RTCTimeUSec=Mon 2026-11-23 13:05:42 UTC
"""
DEBIAN_MAIN = """\
# /etc/systemd/timesyncd.conf
#  This file is part of systemd.
#
# Entries in this file show the compile time defaults. Local configuration
# should be created by either modifying this file, or by creating "drop-ins" in
# the timesyncd.conf.d/ subdirectory. The latter is generally recommended.
# Defaults can be restored by simply deleting this file and all drop-ins.
#
# See timesyncd.conf(5) for details.

[Time]
#NTP=
#FallbackNTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org
#RootDistanceMaxSec=5
#PollIntervalMinSec=32
"""


def timesyncd_output(
    conf_drop_in: str, status: str = STATUS_SYNCED, synced: str = "yes", show_timesync: str = SHOW_TIMESYNC
) -> str:
    return (
        f"{M}daemon systemd-timesyncd\n{M}timesync-status\n{status}{M}show-timesync\n{show_timesync}"
        f"{M}show\n{SHOW.format(synced=synced)}{M}timesyncd.conf\n{DEBIAN_MAIN}\n"
        f"# /etc/systemd/timesyncd.conf.d/internal.conf\n{conf_drop_in}"
    )


INTERNAL = "[Time]\nNTP=ntp1.corp.example\nFallbackNTP=\n"
PARAMS = Params.model_validate({"time": {"internal_domains": ["corp.example"]}})


def judge(check, fact: dict, params: Params = PARAMS) -> tuple[Judge, str]:
    j = Judge()
    kwargs = {"clock": fact, "judge": j}
    if check is not check_sync:
        kwargs["params"] = params
    check(**kwargs)
    return j, "; ".join(sentence(e, e.label, "en") for e in j.failed)


def test_timesyncd_synchronised_internal_passes_every_check():
    fact = ts.parse_timesync(timesyncd_output(INTERNAL))
    assert fact["daemon"] == "systemd-timesyncd"
    conf = fact["timesyncd_config"]
    assert conf["files"] == ["/etc/systemd/timesyncd.conf", "/etc/systemd/timesyncd.conf.d/internal.conf"]
    assert (conf["ntp"], conf["fallback"], conf["fallback_default"]) == (["ntp1.corp.example"], [], False)
    for check in (check_sync, check_offset, check_internal_sources):
        j, msg = judge(check, fact)
        assert j.expectations and not j.failed, msg
    j, _ = judge(check_offset, fact)
    assert j.expectations[0].observed == 1.015
    j, _ = judge(check_sync, fact)
    assert j.expectations[1].observed == ["198.18.4.3 (ntp1.corp.example)"]


def test_unset_fallback_is_debians_public_pool():
    fact = ts.parse_timesync(timesyncd_output("[Time]\nNTP=ntp1.corp.example\n"))
    assert fact["timesyncd_config"]["fallback_default"] is True
    j, msg = judge(check_internal_sources, fact)
    assert "FallbackNTP(compiled-default) 0.debian.pool.ntp.org" in msg
    assert j.failed[0].offending == [f"FallbackNTP(compiled-default) {i}.debian.pool.ntp.org" for i in range(4)]


def test_fallback_default_when_the_shipped_file_is_missing():
    conf = ts.parse_timesyncd_conf("# /etc/systemd/timesyncd.conf.d/x.conf\n[Time]\nNTP=10.0.0.1\n")
    assert conf["fallback"] == ts.DEBIAN_FALLBACK and conf["fallback_default"]


def test_list_settings_accumulate_and_empty_resets():
    conf = ts.parse_timesyncd_conf(
        "[Time]\nNTP=a.example\nNTP=b.example\nFallbackNTP=pool.ntp.org\nNTP=\nNTP=c.example\nFallbackNTP=\n"
    )
    assert conf["ntp"] == ["c.example"] and conf["fallback"] == [] and not conf["fallback_default"]


def test_dhcp_provided_public_server_fails():
    show = SHOW_TIMESYNC.replace("LinkNTPServers=\n", "LinkNTPServers=time.cloudflare.com\n")
    fact = ts.parse_timesync(timesyncd_output(INTERNAL, show_timesync=show))
    _, msg = judge(check_internal_sources, fact)
    assert '(offending: ["LinkNTPServers time.cloudflare.com"])' in msg


def test_never_synchronised_fails_sync_and_offset_with_observed_values():
    fact = ts.parse_timesync(timesyncd_output(INTERNAL, status=STATUS_NEVER, synced="no"))
    _, msg = judge(check_sync, fact)
    assert "time.ntp_synchronized: observed no; expected: yes" in msg
    assert "time.selected_source: observed []" in msg
    _, msg = judge(check_offset, fact)
    assert "time.offset_ms: observed null; expected: <= 100.0" in msg


def test_offset_over_threshold_fails():
    fact = ts.parse_timesync(timesyncd_output(INTERNAL, status=STATUS_SYNCED.replace("-1.015ms", "+1.502s")))
    _, msg = judge(check_offset, fact)
    assert "time.offset_ms: observed 1502.0; expected: <= 100.0" in msg


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("-1.015ms", -0.001015), ("+350us", 0.00035), ("+350µs", 0.00035), ("-1min 2.5s", -62.5), ("0", 0.0), ("", None)],
)
def test_signed_span(text, seconds):
    got = ts.signed_span(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


def test_chronyd_output_still_judged_as_chrony():
    chrony = (
        "^C,198.18.4.3,3,1795441189.1,0.000011,0.000002,0.000010,-1.2,0.0,0.1,0.000100,0.000050,64.0,Normal\n"
        "== sources\n^,*,198.18.4.3,2,6,377,10,0.000001,0.000001,0.000010\n== config\nserver 198.18.4.3 iburst\n"
    )
    fact = ts.parse_timesync(f"{M}daemon chronyd +timesyncd\n{chrony}{M}timesyncd.conf\n")
    assert fact["daemon"] == "chronyd" and fact["also_running"] == ["systemd-timesyncd"]
    for check in (check_sync, check_offset, check_internal_sources):
        j, msg = judge(check, fact)
        assert j.expectations and not j.failed, msg
