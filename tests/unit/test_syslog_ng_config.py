"""syslog-ng forwarding (LOG-FORWARDING-CONFIG): parser and judgement on real, syntax-checked configurations, and
the lab both ways (ssh-mfa forwards over verified TLS with a reliable disk-buffer; ssh-key-only over UDP, plain TCP
and unverified TLS), with the syslog-ng destinations quoted in the result."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.logs import syslog_ng as sng
from preuve.observe.logs.rsyslog import parse_rsyslog
from preuve_checks.logs.check_forwarding import check_forwarding_config, check_forwarding_live
from preuve_lab import syslog_ng as lab_sng

NO_RSYSLOG = {"forwarders": []}


@pytest.fixture(scope="module")
def binary() -> str:
    if not (lab_sng.BIN_DIR / "syslog-ng").exists():
        pytest.fail(f"syslog-ng is not extracted at {lab_sng.ROOT}: run ci/setup.sh")
    return str(lab_sng.BIN_DIR / "syslog-ng")


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.replace("@ROOT@", str(root)))
    (root / "ca.pem").write_text("")  # syslog-ng checks at parse time that the file exists; TLS is not used here
    return root / "syslog-ng.conf"


def _vetted(binary: str, conf: Path) -> str:
    """syslog-ng's own verdict on the file (must accept it), then its own merge (--preprocess-into)."""
    check = subprocess.run([binary, "--syntax-only", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    merged = subprocess.run(
        [binary, "--no-caps", "--preprocess-into=/dev/stdout", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert merged.strip()
    return merged


def _snippet_output(conf: Path, merged: str | None, running: str = "syslog-ng") -> str:
    """What the host snippet prints: the daemons, then the merged text (or not), then every file it read."""
    out = [
        "== daemons",
        f"{running} 4242 same {running} -f {conf}",
        "rsyslogd 4243 other rsyslogd",
        f"== config {conf}",
        "== version syslog-ng 3 (3.38.1)",
    ]
    out += (
        [f"== preprocessed {lab_sng.ON_HOST}", merged]
        if merged is not None
        else [f"== preprocess-failed {lab_sng.ON_HOST}", "sudo: a password is required"]
    )
    for f in sorted(conf.parent.rglob("*.conf")):
        out += [f"== file {f}", f.read_text()]
    out += [f"== dir {d}" for d in sorted({conf.parent, *(p for p in conf.parent.rglob("*") if p.is_dir())})]
    return "\n".join(out) + "\n"


HEAD = "@version: 3.38\noptions { use-dns(no); };\nsource s_local { internal(); };\n"
GOOD = {
    "syslog-ng.conf": HEAD + '@define collector "198.18.4.3"\n@include "@ROOT@/conf.d"\n',
    "conf.d/50-forward.conf": """\
destination d_collector {
    network("`collector`" port(6514) transport("tls")
        tls(ca-file("@ROOT@/ca.pem") peer-verify(required-trusted))   # the collector must prove who it is
        disk-buffer(reliable(yes) disk-buf-size(1048576) mem-buf-size(163840) dir("/var/tmp")));
};
# a destination no log path uses sends nothing: listed, not judged
destination d_spare { udp("198.18.4.9" port(514)); };
log { source(s_local); destination(d_collector); };
""",
    "conf.d/.hidden.conf": "this is not syslog-ng syntax, and syslog-ng skips it\n",
}
BAD = {
    "syslog-ng.conf": HEAD + '@include "@ROOT@/conf.d/*.conf"\n',
    "conf.d/forward.conf": """\
destination d_udp { network("198.18.4.3" port(514) transport("udp")); };
destination d_plain { tcp("198.18.4.3" port(601)); };
destination d_untrusted { syslog("198.18.4.3" transport("tls") tls(peer-verify(required-untrusted))); };
destination d_no { tcp("198.18.4.3" port(6514) tls(peer-verify(no))
    disk-buffer(reliable(no) disk-buf-size(1048576))); };
log {
    source(s_local);
    destination(d_udp);
    destination { network("198.18.4.3" port(601)); };
    log { destination(d_plain); destination(d_untrusted); destination(d_no); };
};
""",
}


def _judge(rsyslog: dict, facts: dict) -> Judge:
    judge = Judge()
    check_forwarding_config(rsyslog, facts, Params(), judge)
    return judge


def _failed(judge: Judge) -> dict[str, list]:
    return {e.label: e.offending for e in judge.failed}


@pytest.mark.parametrize("merge", ["preprocessed", "expanded"])
def test_compliant_config_passes_both_merges(binary, tmp_path, merge):
    conf = _write(tmp_path, GOOD)
    merged = _vetted(binary, conf)
    facts = sng.parse(_snippet_output(conf, merged if merge == "preprocessed" else None))
    assert facts["merge"].startswith(
        "syslog-ng --preprocess-into"
        if merge == "preprocessed"
        else "expanded by preuve (syslog-ng --preprocess-into failed: sudo"
    )
    assert facts["unresolved_includes"] == []
    (fwd,) = facts["forwarders"]
    assert fwd | {"disk_buffer_dir": None} == {
        "destination": "d_collector",
        "driver": "network",
        "target": "198.18.4.3",
        "port": 6514,
        "transport": "tls",
        "tls": True,
        "peer_verify": "required-trusted",
        "ca_file": f"{tmp_path}/ca.pem",
        "ca_dir": None,
        "disk_buffer": True,
        "reliable": True,
        "disk_buffer_dir": None,
        "used": True,
        "verify": None,
    }
    assert [d["destination"] for d in facts["destinations"] if not d["used"]] == ["d_spare"]
    judge = _judge(NO_RSYSLOG, facts)
    assert not judge.failed, [e.as_dict() for e in judge.failed]


@pytest.mark.parametrize("merge", ["preprocessed", "expanded"])
def test_udp_plaintext_and_unverified_tls_fail_for_the_right_reason(binary, tmp_path, merge):
    conf = _write(tmp_path, BAD)
    merged = _vetted(binary, conf)
    facts = sng.parse(_snippet_output(conf, merged if merge == "preprocessed" else None))
    seen = {
        d["destination"]: (d["transport"], d["peer_verify"], d["disk_buffer"], d["reliable"])
        for d in facts["forwarders"]
    }
    assert seen == {
        "d_udp": ("udp", None, False, False),
        "d_plain": ("tcp", None, False, False),
        "d_untrusted": ("tls", "required-untrusted", False, False),
        "d_no": ("tls", "optional-untrusted", True, False),
        "(inline)": ("tcp", None, False, False),
    }
    failed = _failed(_judge(NO_RSYSLOG, facts))
    assert set(failed) == {"logs.forwarding.transport", "logs.forwarding.disk_queue"}
    assert failed["logs.forwarding.transport"] == sorted(sng.describe(f) for f in facts["forwarders"])
    assert (
        "syslog-ng d_untrusted syslog(198.18.4.3:6514) transport(tls) peer-verify(required-untrusted)"
        in failed["logs.forwarding.transport"]
    )
    assert (
        "syslog-ng d_no tcp(198.18.4.3:6514) transport(tls) peer-verify(optional-untrusted)"
        in failed["logs.forwarding.disk_queue"]
    )  # a disk-buffer, but not reliable(yes)


def test_only_running_daemons_are_judged(binary, tmp_path):
    """A compliant syslog-ng config next to a running rsyslog that forwards over UDP does not make a pass."""
    conf = _write(tmp_path, GOOD)
    facts = sng.parse(_snippet_output(conf, _vetted(binary, conf), running="rsyslogd"))
    assert facts["running"] == ["rsyslogd"] and facts["forwarders"]
    udp = {
        "forwarders": [
            {
                "target": "198.18.4.3",
                "port": 514,
                "protocol": "udp",
                "tls": False,
                "auth_mode": None,
                "permitted_peers": [],
                "queue_type": "Direct",
                "queue_file": None,
            }
        ]
    }
    judge = _judge(udp, facts)
    assert sng.judged_daemons(udp, facts) == {"rsyslogd": "running"}
    assert _failed(judge)["logs.forwarding.transport"] == ["198.18.4.3:514 udp plaintext"]
    # nothing running: the configurations present are judged (what the next start would forward)
    idle = facts | {"running": []}
    assert set(sng.judged_daemons(udp, idle)) == {"rsyslogd", "syslog-ng"}


def test_no_syslog_ng_and_nothing_forwarding_fails():
    facts = sng.parse("== daemons\n== config /etc/syslog-ng/syslog-ng.conf\n")
    assert facts["present"] is False and facts["forwarders"] == []
    failed = _failed(_judge(NO_RSYSLOG, facts))
    assert "logs.forwarding.daemons" in failed and "logs.forwarding.actions" in failed


def test_includes_resolve_as_syslog_ng_does(binary, tmp_path):
    """Checked against syslog-ng itself: a pattern matching nothing and an empty directory are fine, a missing
    file is an error; preuve's expansion agrees, and what it cannot read fails the check rather than passing."""
    (tmp_path / "empty").mkdir()
    for include, accepted in (("nomatch/*.conf", True), ("empty", True), ("missing.conf", False)):
        conf = tmp_path / "syslog-ng.conf"
        conf.write_text(HEAD + f'@include "{tmp_path}/{include}"\n')
        ok = subprocess.run([binary, "--syntax-only", "-f", str(conf)], capture_output=True, timeout=30).returncode
        assert (ok == 0) is accepted, include
        facts = sng.parse(_snippet_output(conf, None))
        assert facts["unresolved_includes"] == ([] if accepted else [f"{tmp_path}/{include}"])
    rsyslog_tls = {
        "forwarders": [
            {
                "target": "198.18.4.3",
                "port": 6514,
                "protocol": "tcp",
                "tls": True,
                "auth_mode": "x509/name",
                "permitted_peers": ["collector.lab"],
                "queue_type": "LinkedList",
                "queue_file": "fwd",
            }
        ]
    }
    failed = _failed(_judge(rsyslog_tls, facts | {"running": ["rsyslogd", "syslog-ng"]}))
    assert failed["logs.forwarding.transport"] == [
        f'syslog-ng @include "{tmp_path}/missing.conf" not found or unreadable'
    ]


def test_running_syslog_ng_without_its_configuration_fails():
    facts = sng.parse("== daemons\nsyslog-ng 7 same syslog-ng -f /etc/sng.conf\n== config /etc/sng.conf\n")
    assert facts["config_path"] == "/etc/sng.conf" and not facts["present"]
    failed = _failed(_judge(NO_RSYSLOG, facts))
    assert failed["logs.forwarding.transport"] == ["syslog-ng configuration /etc/sng.conf not found"]


def test_lab_syntax_check_rejects_a_broken_config(binary, tmp_path):
    """The lab-up validation runs syslog-ng itself, inside the host's /etc overlay (needs root for the mount)."""
    (tmp_path / "syslog-ng").mkdir()
    (tmp_path / "syslog-ng" / "syslog-ng.conf").write_text(HEAD + 'destination d { network("x" transport(tls); };\n')
    with pytest.raises(RuntimeError, match="syslog-ng --syntax-only rejected"):
        lab_sng.syntax_check(tmp_path)


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


def _awk_endpoints(text: str) -> set[tuple[str, ...]]:
    """The snippet's awk program, run by the system awk (mawk on Debian) on `text`."""
    out = subprocess.run(
        ["awk", sng.TLS_ENDPOINTS], input=text, capture_output=True, text=True, timeout=10, check=True
    ).stdout
    return {tuple(line.split(" ", 3)) for line in out.splitlines()}


@pytest.mark.parametrize("merge", ["preprocessed", "files"])
def test_awk_finds_the_tls_destinations_the_parser_judges(binary, tmp_path, merge):
    """The host-side extraction (what gets verified) and the parser (what is judged) agree on syslog-ng's own
    merge and on the raw files: same host, port (defaults included), ca-file, ca-dir; no source, no comment."""
    conf = _write(tmp_path, LIVE)
    merged = _vetted(binary, conf)
    facts = sng.parse(_snippet_output(conf, merged))
    judged = {
        (f["target"], str(f["port"]), f["ca_file"] or "-", f["ca_dir"] or "-") for f in facts["forwarders"] if f["tls"]
    }
    assert judged == {
        ("logs.example", "6514", f"{tmp_path}/ca.pem", "-"),
        ("198.18.4.3", "6515", "-", str(tmp_path)),
        ("collector.example", "6514", f"{tmp_path}/ca.pem", "-"),
    }
    assert _awk_endpoints(merged if merge == "preprocessed" else conf.read_text()) == judged


VERIFY_OK = (
    "== verify-ng 198.18.4.3:6514\nca-file /etc/ca.pem\nca-dir -\nname 198.18.4.3\nCONNECTION ESTABLISHED\n"
    "Peer certificate: CN = collector.lab\nVerification: OK\n"
)
NG_CONF = (
    'destination d { network("198.18.4.3" transport("tls") tls(ca-file("/etc/ca.pem"))); };\nlog { destination(d); };'
)


def _ng(verify: str, pid_here: bool = True) -> dict:
    """syslog_ng facts of a host running syslog-ng (pid 50 here, pid 60 on another host) with `verify` sections."""
    return sng.parse(
        f"== daemons\nsyslog-ng {50 if pid_here else 51} same syslog-ng\nsyslog-ng 60 other syslog-ng\n"
        f"== config /etc/s.conf\n== preprocessed /usr/sbin/syslog-ng\n{NG_CONF}\n"
        f"== file /etc/s.conf\n{NG_CONF}\n{verify}"
    )


def _rs(first: str, again: str) -> dict:
    """rsyslog facts (no rsyslog forwarder) with two `ss -tnpH state established` samples."""
    return parse_rsyslog(f"\n== established\n{first}== established-again\n{again}== addresses\n198.18.2.12/24\n")


def _live(rsyslog: dict, ng: dict) -> tuple[Judge, dict]:
    judge = Judge()
    check_forwarding_live(rsyslog | {"config_present": False}, ng, judge)
    live = next((e for e in judge.expectations if e.label == "logs.forwarding.live"), None)
    return judge, (live.observed["198.18.4.3:6514"]["forwarded_by"]["syslog-ng d"] if live else {})


MINE = '0 0 198.18.2.12:40000 198.18.4.3:6514 users:(("syslog-ng",pid=50,fd=5))\n'
OTHERS = '0 0 198.18.2.10:40001 198.18.4.3:6514 users:(("syslog-ng",pid=60,fd=5))\n'


def test_verification_is_attached_to_its_destination_by_endpoint_and_ca():
    (d,) = _ng(VERIFY_OK)["forwarders"]
    assert d["verify"] == {
        "endpoint": "198.18.4.3:6514",
        "checked_name": "198.18.4.3",
        "ca_file": "/etc/ca.pem",
        "ca_dir": None,
        "verified": True,
        "detail": "Verification: OK",
    }
    # verified with another CA than this destination's: not this destination's verification
    (d,) = _ng(VERIFY_OK.replace("ca-file /etc/ca.pem", "ca-file -"))["forwarders"]
    assert d["verify"] is None


def test_live_passes_on_this_hosts_lasting_verified_connection():
    judge, seen = _live(_rs(MINE, MINE), _ng(VERIFY_OK))
    assert not judge.failed, [e.as_dict() for e in judge.failed]
    assert seen == {
        "established": True,
        "certificate_verified": True,
        "ca": "/etc/ca.pem",
        "name_checked": "198.18.4.3",
        "openssl": "Verification: OK",
    }


@pytest.mark.parametrize(
    ("case", "first", "again", "verify", "pid_here", "why"),
    [
        ("another host's daemon (shared network namespace)", OTHERS, OTHERS, VERIFY_OK, True, {"established": False}),
        (
            "a refused reconnect loop: new port each sample",
            MINE,
            MINE.replace("40000", "40002"),
            VERIFY_OK,
            True,
            {"established": False},
        ),
        (
            "certificate does not verify",
            MINE,
            MINE,
            VERIFY_OK.replace("Verification: OK", "Verification error: unable to get local issuer certificate"),
            True,
            {"certificate_verified": False},
        ),
        ("verification not observed", MINE, MINE, "", True, {"verification": "not observed"}),
        ("a pid of this host, but not syslog-ng's", MINE, MINE, VERIFY_OK, False, {"established": False}),
    ],
)
def test_live_fails_for_the_right_reason(case, first, again, verify, pid_here, why):
    judge, seen = _live(_rs(first, again), _ng(verify, pid_here))
    assert [e.label for e in judge.failed] == ["logs.forwarding.live"], case
    assert judge.failed[0].offending == ["198.18.4.3:6514"]
    assert why.items() <= seen.items(), (case, seen)


def test_live_without_process_names_counts_the_connection_and_says_so():
    """Not root and no sudo rule for ss -p: a lasting connection to the endpoint counts, marked as such."""
    plain = MINE.split(" users:")[0] + "\n"
    judge, seen = _live(_rs(plain, plain), _ng(VERIFY_OK))
    assert not judge.failed and seen["established"] == "yes (process not shown: ss -p needs root)"


def test_live_judges_only_the_running_daemons():
    """A stopped syslog-ng's TLS destination is not judged next to a running rsyslog (it sends nothing)."""
    ng = _ng(VERIFY_OK)
    ng["daemons"] = [{"name": "rsyslogd", "pid": 7, "same_host": True, "cmdline": "rsyslogd"}]
    ng["running"] = ["rsyslogd"]
    judge = Judge()
    check_forwarding_live(_rs(MINE, MINE), ng, judge)
    assert [(e.label, e.observed) for e in judge.failed] == [("logs.forwarding.tls_targets", [])]


# --- the lab ---------------------------------------------------------------------------------------------------
