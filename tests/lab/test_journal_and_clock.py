"""Issue 5 items 1 and 3 on the lab: the journal measured (oldest entry, size cap) and the clock daemon detected.

ssh-mfa holds a real persistent journal whose oldest entry is 200 days old, far under SystemMaxUse=20G: the
measure confirms the configured year. ssh-key-only holds a real volatile journal, 20 days deep and filling
RuntimeMaxUse=8M: besides its configuration (volatile, one month), the measure fails it because the size cap
evicts before six months. Both hosts run chronyd (detected from the process table, judged as before).

What the lab cannot show: a running systemd-timesyncd (it needs systemd as PID 1 and the system D-Bus, and
would set the host's clock). What it does show: the timesyncd configuration of a real host is read through the
real SSH path (systemd-analyze cat-config, the per-host /etc overlay) and judged by TIME-SOURCES-INTERNAL's
timesyncd branch: internal NTP= with an empty FallbackNTP= passes, an unset FallbackNTP= (Debian's compiled-in
public pool) fails. The timesyncd state parsing is proven on systemd 252's formats in
tests/unit/test_timesyncd_state.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.results.messages import sentence
from preuve_checks.time.check_clock import check_internal_sources
from tests.conftest import Run, scan

pytestmark = pytest.mark.lab

HOSTS = ("ssh-mfa", "ssh-key-only")
# (check, target) -> expected status, and what the message must quote.
EXPECTED = {
    ("LOG-JOURNALD-RETENTION", "ssh-mfa"): (
        "pass",
        ["measured: oldest entry 200 d in /var/log/journal", "8.0 MiB used of SystemMaxUse 20.0 GiB"],
    ),
    ("LOG-JOURNALD-RETENTION", "ssh-key-only"): (
        "fail",
        [
            "observé volatile",
            "observé 30.4",
            "measured: oldest entry 20 d in /run/log/journal, at its size cap (8.0 MiB used of RuntimeMaxUse 8.0 MiB)",
            "the size cap evicts before retention",
        ],
    ),
    ("TIME-SYNC", "ssh-mfa"): ("pass", ['["198.18.4.3"]']),
    ("TIME-SYNC", "ssh-key-only"): ("fail", ["observé Not synchronised"]),
    ("TIME-OFFSET", "ssh-mfa"): ("pass", []),
    ("TIME-OFFSET", "ssh-key-only"): ("fail", ["observé null"]),
    ("TIME-SOURCES-INTERNAL", "ssh-mfa"): ("pass", ["server 198.18.4.3"]),
    ("TIME-SOURCES-INTERNAL", "ssh-key-only"): ("fail", ["pool 2.debian.pool.ntp.org"]),
}


@pytest.fixture(scope="module")
def run(lab_module, tmp_path_factory) -> Run:
    out = tmp_path_factory.mktemp("journal-time") / "run"
    r = scan(out, "--select", "LOG-JOURNALD-RETENTION", "--select", "TIME-*", "--only", *HOSTS)
    assert (out / "results.jsonl").exists(), r.proc.stderr
    return r


def facts(run: Run, host: str) -> dict:
    return json.loads((run.out / "observations" / "ssh_host" / f"{host}.json").read_text())


@pytest.mark.parametrize(("check", "target"), sorted(EXPECTED))
def test_outcome_and_observed_value(run, check, target):
    status, quotes = EXPECTED[(check, target)]
    r = run.result(check, target)
    assert r["status"] == status, r["message"]
    for q in quotes:
        assert q in r["message"]["fr"] + r["message"]["en"], (q, r["message"])


def test_journal_measure_is_evidence_and_no_entry_leaves_the_host(run):
    for host, store, age in (("ssh-mfa", "/var/log/journal", 200), ("ssh-key-only", "/run/log/journal", 20)):
        obs = facts(run, host)
        measured = obs["facts"]["journal"]["stores"][store]
        assert measured["files"] == 1 and measured["usage_bytes"] >= 8 * 1024**2
        assert age <= (obs["facts"]["journal"]["now"] - measured["oldest"]) / 86400 < age + 2
        text = Path(run.out / "observations" / "ssh_host" / f"{host}.json").read_text()
        assert "preuve lab entry" not in text  # headers only: no journal message in the evidence


def test_clock_daemon_detected_from_the_process_table(run):
    for host in HOSTS:
        clock = facts(run, host)["facts"]["timesync"]
        assert clock["daemon"] == "chronyd" and "chrony" in clock and "timesyncd" not in clock


def test_timesyncd_config_read_from_the_host_and_judged(run):
    """The config half of timesyncd, on real hosts: what would be judged if timesyncd ran there."""
    confs = {h: facts(run, h)["facts"]["timesync"]["timesyncd_config"] for h in HOSTS}
    assert confs["ssh-mfa"]["files"] == [
        "/etc/systemd/timesyncd.conf",
        "/etc/systemd/timesyncd.conf.d/50-preuve-lab.conf",
    ]
    assert (confs["ssh-mfa"]["ntp"], confs["ssh-mfa"]["fallback"]) == (["198.18.4.3"], [])
    assert confs["ssh-key-only"]["fallback_default"] is True
    verdicts = {}
    for host in HOSTS:
        clock = {**facts(run, host)["facts"]["timesync"], "daemon": "systemd-timesyncd"}  # cannot run here
        clock.pop("chrony")
        j = Judge()
        check_internal_sources(clock=clock, params=Params(), judge=j)
        verdicts[host] = (j, "; ".join(sentence(e, e.label, "en") for e in j.failed))
    assert verdicts["ssh-mfa"][0].expectations and not verdicts["ssh-mfa"][0].failed, verdicts["ssh-mfa"][1]
    assert "FallbackNTP(compiled-default) 0.debian.pool.ntp.org" in verdicts["ssh-key-only"][1]
