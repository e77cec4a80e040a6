"""syslog-ng forwarding (LOG-FORWARDING-CONFIG): parser and judgement on real, syntax-checked configurations, and
the lab both ways (ssh-mfa forwards over verified TLS with a reliable disk-buffer; ssh-key-only over UDP, plain TCP
and unverified TLS), with the syslog-ng destinations quoted in the result."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import scan

LAB = Path("/var/tmp/preuve-lab")


HEAD = "@version: 3.38\noptions { use-dns(no); };\nsource s_local { internal(); };\n"


# --- LOG-FORWARDING-LIVE: syslog-ng's TLS endpoints verified from the source, its own connection -----------------

LIVE = {
    "syslog-ng.conf": HEAD
    + """\
destination d_net {
    network("logs.example" port(6514) transport("tls") tls(ca-file("@ROOT@/ca.pem") peer-verify(required-trusted)));
};
destination d_tcp { tcp("198.18.4.3" port(6515) tls(ca_dir("@ROOT@") peer_verify(yes))); };
destination d_ietf { syslog("collector.example" transport("tls") tls(ca-file("@ROOT@/ca.pem"))); };
destination d_plain { network("198.18.4.3" port(514)); };
# destination d_old { network("commented.example" transport("tls")); };
source s_in { tcp(ip("127.0.0.1") port(6601)); };
log { source(s_local); source(s_in); destination(d_net); destination(d_tcp); destination(d_ietf);
      destination(d_plain); };
""",
}


# --- the lab ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forwarding_run(lab_module, tmp_path_factory):
    out = tmp_path_factory.mktemp("syslog-ng") / "run"
    run = scan(out, "--select", "LOG-FORWARDING-CONFIG", "--select", "LOG-FORWARDING-LIVE")
    assert (out / "results.jsonl").exists(), run.proc.stderr
    return run


@pytest.mark.lab
def test_lab_compliant_host_passes_with_both_daemons_judged(forwarding_run):
    r = forwarding_run.result("LOG-FORWARDING-CONFIG", "ssh-mfa")
    assert r["status"] == "pass", r["message"]
    msg = r["message"]["en"]
    for quote in (
        "rsyslogd (running)",
        "syslog-ng (running; configuration /etc/syslog-ng/syslog-ng.conf, "
        "syslog-ng --preprocess-into (/usr/local/sbin/syslog-ng))",
        "syslog-ng d_collector network(198.18.4.3:6514) transport(tls) peer-verify(required-trusted)",
        "disk-buffer(reliable(yes) dir=/var/log/syslog-ng-buffer)",
    ):
        assert quote in msg, (quote, msg)


@pytest.mark.lab
def test_lab_non_compliant_host_fails_with_syslog_ng_destinations_observed(forwarding_run):
    r = forwarding_run.result("LOG-FORWARDING-CONFIG", "ssh-key-only")
    assert r["status"] == "fail", r["message"]
    msg = r["message"]["en"]
    for quote in (
        "syslog-ng d_udp network(198.18.4.3:514) transport(udp)",
        "syslog-ng d_plain tcp(198.18.4.3:601) transport(tcp)",
        "syslog-ng d_unverified network(198.18.4.3:6514) transport(tls) peer-verify(optional-untrusted)",
        '"syslog-ng d_udp network(198.18.4.3:514) transport(udp)": "no disk-buffer"',
        "198.18.4.3:514 udp plaintext",
        "expected: all compliant",
    ):
        assert quote in msg, (quote, msg)


@pytest.mark.lab
def test_lab_evidence_says_how_the_config_was_merged(forwarding_run):
    for host in ("ssh-mfa", "ssh-key-only"):
        obs = json.loads((forwarding_run.out / "observations" / "ssh_host" / f"{host}.json").read_text())
        facts = obs["facts"]["syslog_ng"]
        assert facts["merge"] == "syslog-ng --preprocess-into (/usr/local/sbin/syslog-ng)", facts["merge"]
        assert facts["running"] == ["rsyslogd", "syslog-ng"]
        others = [d for d in facts["daemons"] if not d["same_host"]]
        assert others, "the other lab host's daemons are seen in /proc and must not count as this host's"


def _live_observed(run, host: str) -> dict:
    r = run.result("LOG-FORWARDING-LIVE", host)
    return r, next(e for e in r["expectations"] if e["label"] == "logs.forwarding.live")["observed"]


@pytest.mark.lab
def test_lab_live_compliant_host_proves_both_daemons(forwarding_run):
    """ssh-mfa: rsyslog and syslog-ng each hold their own lasting connection to the collector, whose certificate
    verifies from the host with each daemon's CA and name (syslog-ng: its ca-file, the destination address)."""
    r, observed = _live_observed(forwarding_run, "ssh-mfa")
    assert r["status"] == "pass", r["message"]
    by = observed["198.18.4.3:6514"]["forwarded_by"]
    assert observed["198.18.4.3:6514"]["another_machine"] is True
    assert by["rsyslogd"] == {"established": True, "certificate_verified": True, "verified_name": "collector.lab"}
    assert by["syslog-ng d_collector"] == {
        "established": True,
        "certificate_verified": True,
        "ca": "/etc/preuve-lab-tls/ca.pem",
        "name_checked": "198.18.4.3",
        "openssl": "Verification: OK",
    }


@pytest.mark.lab
def test_lab_live_non_compliant_host_fails_on_its_own_syslog_ng(forwarding_run):
    """ssh-key-only: its syslog-ng's TLS destination is refused by the collector (no client certificate), so it
    reconnects every time-reopen() and never holds a connection; the one ss shows to 198.18.4.3:6514 from the
    shared pv-prod network namespace is ssh-mfa's syslog-ng, attributed to the other host by its pid."""
    r, observed = _live_observed(forwarding_run, "ssh-key-only")
    assert r["status"] == "fail", r["message"]
    assert observed == {
        "198.18.4.3:6514": {
            "another_machine": True,
            "forwarded_by": {
                "syslog-ng d_unverified": {
                    "established": False,
                    "certificate_verified": False,
                    "ca": "none (syslog-ng trusts no CA)",
                    "name_checked": "198.18.4.3",
                    "openssl": "verify error:num=20:unable to get local issuer certificate",
                }
            },
        }
    }
    facts = json.loads((forwarding_run.out / "observations" / "ssh_host" / "ssh-key-only.json").read_text())["facts"]
    others = {d["pid"] for d in facts["syslog_ng"]["daemons"] if d["name"] == "syslog-ng" and not d["same_host"]}
    seen = [
        o["pid"]
        for c in facts["rsyslog"]["established"]
        if c["remote"] == "198.18.4.3:6514"
        for o in c["owners"]
        if o["name"] == "syslog-ng"
    ]
    assert seen and set(seen) <= others, (seen, others)


@pytest.mark.lab
def test_lab_syslog_ng_delivers_over_verified_tls(lab_up):
    """A message given to ssh-mfa's syslog-ng reaches the collector (TLS, peer-verify(required-trusted))."""
    marker = f"preuve-syslog-ng-{uuid.uuid4().hex[:12]}"
    sock = LAB / "hosts" / "ssh-mfa" / "log" / "lab-ng.sock"  # a unix socket: nothing leaves the machine
    subprocess.run(["logger", "-u", str(sock), marker], check=True, timeout=10)
    received = LAB / "logsup" / "received.log"
    deadline = time.monotonic() + 15
    while marker not in received.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{marker} never reached the collector"
        time.sleep(0.2)
    line = next(ln for ln in received.read_text(errors="replace").splitlines() if marker in ln)
    assert line
    ss = subprocess.run(
        ["ip", "netns", "exec", "pv-prod", "ss", "-tnpH", "state", "established"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    assert any("198.18.4.3:6514" in ln and "syslog-ng" in ln for ln in ss.splitlines()), ss
