"""The host snippet that reads syslog-ng's configuration, run in a private mount and network namespace (`unshare`,
root) over a host /etc: merged by the real binary when present, expanded without it. The parser and judgement on
the same configurations run without root in tests/unit/test_syslog_ng_config.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from preuve.observe.logs import syslog_ng as sng
from preuve_lab import syslog_ng as lab_sng


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


def _host_snippet(etc: Path, path: str) -> dict:
    """The real host snippet, run as root in a private mount namespace whose /etc has `etc` laid over it."""
    script = 'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && exec sh -c "$2"'
    # --net: an empty network namespace, so the snippet's openssl s_client to the TLS endpoints reaches nothing
    argv = ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script, "sh", str(etc), sng.SNIPPET]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={"PATH": path})
    assert proc.returncode == 0, proc.stderr
    return sng.parse(proc.stdout)


@pytest.mark.parametrize("with_binary", [True, False])
def test_host_snippet_merges_with_the_binary_or_expands_without(binary, tmp_path, with_binary):
    etc = tmp_path / "etc"
    _write(etc / "syslog-ng", {k: v.replace("@ROOT@", "/etc/syslog-ng") for k, v in GOOD.items()})
    path = "/usr/sbin:/usr/bin:/sbin:/bin" + (f":{lab_sng.BIN_DIR}" if with_binary else "")
    facts = _host_snippet(etc, path)
    assert facts["config_path"] == "/etc/syslog-ng/syslog-ng.conf" and facts["present"]
    assert facts["merge"] == (
        f"syslog-ng --preprocess-into ({lab_sng.BIN_DIR}/syslog-ng)"
        if with_binary
        else "expanded by preuve (no syslog-ng binary on the host)"
    )
    assert [(f["destination"], f["target"], f["peer_verify"]) for f in facts["forwarders"]] == [
        ("d_collector", "198.18.4.3", "required-trusted")
    ]
    assert all(not d["same_host"] for d in facts["daemons"])  # the lab's daemons live in other mount namespaces
    # the TLS endpoint was verified (and could not be reached here) with this destination's CA and host name, when
    # the host merged the config; preuve's own expansion substitutes `collector` but awk cannot: not observed
    v = facts["forwarders"][0]["verify"]
    if with_binary:
        assert v["checked_name"] == "198.18.4.3" and v["ca_file"] == "/etc/syslog-ng/ca.pem" and not v["verified"]
    else:
        assert v is None


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
