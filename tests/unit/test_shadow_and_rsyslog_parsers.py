"""Issue 5 parsers and judgements on real tool output (awk on a real crypt(3) shadow, rsyslog configs)."""

from __future__ import annotations

import subprocess
import warnings

import pytest

from preuve.inputs.errors import InputError
from preuve.inputs.inventory import load_inventory
from preuve.observe.host.passwords import SHADOW, parse_shadow
from preuve.observe.logs.journald import timespan_seconds
from preuve.observe.logs.logrotate import parse_logrotate, rotated_of
from preuve.observe.logs.rsyslog import parse_rsyslog

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt


def _shadow_summary(tmp_path, lines: list[str]) -> str:
    """Run the very awk program the fact sends to hosts, on a local file."""
    path = tmp_path / "shadow"
    path.write_text("\n".join(lines) + "\n")
    snippet = SHADOW.replace("cat /etc/shadow", f"cat {path}")
    return subprocess.run(
        ["sh", "-c", snippet.replace("sudo -n ", "")], capture_output=True, text=True, check=True
    ).stdout


def test_shadow_summary_keeps_schemes_and_salt_sharing_but_no_hash(tmp_path):
    y = crypt.crypt("a", "$y$j9T$abcdefghijklmnop")
    shared1 = crypt.crypt("a", "$6$saltsalt")
    shared2 = crypt.crypt("b", "$6$saltsalt")
    md5 = crypt.crypt("a", "$1$abcdefgh")
    des = crypt.crypt("a", "zz")
    bcrypt = crypt.crypt("a", "$2b$12$abcdefghijklmnopqrstuv")
    lines = [
        f"alice:{y}:1::::::",
        f"bob:{shared1}:1::::::",
        f"carol:{shared2}:1::::::",
        f"dave:{md5}:1::::::",
        f"erin:{des}:1::::::",
        f"frank:{bcrypt}:1::::::",
        "gus::1::::::",
        "root:!:1::::::",
        "hal:$9$weird$zzz:1::::::",
    ]
    out = _shadow_summary(tmp_path, lines)
    for h in (y, shared1, shared2, md5, des, bcrypt, "abcdefghijklmnop", "saltsalt", "zz"):
        assert h not in out
    parsed = {a["user"]: a for a in parse_shadow(out)}
    assert parsed["alice"] == {"user": "alice", "scheme": "yescrypt", "cost": "j9T", "changed_day": 1}
    assert parsed["bob"]["scheme"] == "sha512crypt" and parsed["bob"]["rounds"] == 5000
    assert parsed["bob"]["shares_salt_with"] == ["carol"] and parsed["carol"]["shares_salt_with"] == ["bob"]
    assert parsed["dave"]["scheme"] == "md5crypt" and parsed["erin"]["scheme"] == "descrypt"
    assert parsed["frank"] == {"user": "frank", "scheme": "bcrypt", "cost": "12", "changed_day": 1}
    assert parsed["gus"]["scheme"] == "empty" and parsed["root"]["scheme"] == "locked"
    assert parsed["root"]["lock"] == "!"  # passwd -l (sshd without PAM refuses it), told apart from "*"
    assert parsed["hal"]["scheme"].startswith("unknown")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1y", 31557600), ("6month", 6 * 2629800), ("2w 3d", 17 * 86400), ("3600", 3600), ("bogus", None)],
)
def test_systemd_timespans(text, seconds):
    assert timespan_seconds(text) == seconds


def _rsyslog(config: str) -> dict:
    return parse_rsyslog(config + "\n== established\n== addresses\n127.0.0.1/8\n")


def test_rsyslog_legacy_tls_and_plain_forwarders():
    legacy_tls = (
        "$DefaultNetstreamDriver gtls\n$ActionSendStreamDriverMode 1\n"
        "$ActionSendStreamDriverAuthMode x509/name\n$ActionSendStreamDriverPermittedPeer logs.corp\n"
        "$ActionQueueType LinkedList\n$ActionQueueFileName fwd\n*.* @@logs.corp:6514\n"
    )
    (f,) = _rsyslog(legacy_tls)["forwarders"]
    assert (f["protocol"], f["tls"], f["auth_mode"], f["permitted_peers"], f["queue_file"]) == (
        "tcp",
        True,
        "x509/name",
        ["logs.corp"],
        "fwd",
    )
    (plain,) = _rsyslog("*.* @@logs.corp:514\n")["forwarders"]
    assert plain["protocol"] == "tcp" and not plain["tls"]
    anon = 'action(type="omfwd" target="c" port="6514" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1")'
    (a,) = _rsyslog(anon)["forwarders"]
    assert a["tls"] and a["auth_mode"] == "anon" and a["queue_type"] == "Direct"


def test_logrotate_parse_uses_logrotate_own_words_and_config_maxage():
    debug = (
        "rotating pattern: /var/log/a.log  weekly (4 rotations)\n"
        "rotating pattern: /var/log/b.log  10485760 bytes (5 rotations)\n"
        "rotating pattern: /var/log/c.log  after 1 days (400 rotations)\n"
    )
    config = "/var/log/c.log {\n daily\n rotate 400\n maxage 90\n}\n"
    out = parse_logrotate(debug + "\n== config\n" + config + "\n== rotated\n1000000\n913600 /var/log/b.log.2\n")
    a, b, c = out["patterns"]
    assert a == {"pattern": "/var/log/a.log", "rotations": 4, "period_days": 7}
    assert b["size_bytes"] == 10485760 and c["maxage_days"] == 90
    assert rotated_of(b["pattern"], out["rotated_files"]) == [{"path": "/var/log/b.log.2", "age_days": 1.0}]


def test_inline_canary_secret_is_an_input_error(tmp_path):
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "version: 1\nname: t\nhosts:\n  - {name: h, address: 192.0.2.1}\n"
        "baseline:\n  ssh_canaries:\n    - {name: c, address: 192.0.2.1, known_hosts: /k, user: u,\n"
        "       private_key: 'inline-key'}\n"
        "  web_admins:\n    - {name: w, url: 'https://x/admin', login_url: 'https://x/login', user: u,\n"
        "       password: 'hunter2'}\n"
    )
    with pytest.raises(InputError) as exc:
        load_inventory(inv)
    text = str(exc.value)
    assert "referenced, never inlined" in text and "hunter2" not in text and "inline-key" not in text
