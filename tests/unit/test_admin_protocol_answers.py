"""The clear-text admin protocol prober judged on answers recorded from real daemons (tests/fixtures/
admin_protocols.json: Debian's snmpd, OpenIPMI's ipmi_sim, inetutils telnetd, vsftpd, Xtigervnc, recorded on the
lab), replayed by loopback servers: each protected twin is told from its clear-text sibling for the right reason."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path

import pytest

from preuve.observe.network import admin_protocols as ap

FIX = json.loads((Path(__file__).parents[1] / "fixtures" / "admin_protocols.json").read_text())["answers"]


def test_snmp_v2c_response_names_the_request_and_the_agent():
    parsed = ap.parse_snmp(bytes.fromhex(FIX["snmpd_v2c_public_response"]))
    assert parsed["version"] == "v2c" and parsed["request_id"] == 0x5EC1 and parsed["error_status"] == 0
    assert parsed["varbinds"] == [("1.3.6.1.2.1.1.1.0", "preuve lab snmp-public")]


def test_snmp_v3_report_is_an_agent_that_refuses_communities():
    parsed = ap.parse_snmp(bytes.fromhex(FIX["snmpd_v3_report"]))
    assert parsed["version"] == "v3" and parsed["pdu"] == "0xa8"  # Report
    assert parsed["varbinds"][0][0] == "1.3.6.1.6.3.15.1.1.4.0"  # usmStatsUnknownEngineIDs
    assert parsed["engine_id"].startswith("80001f88")  # net-snmp's enterprise 8072


def test_snmp_request_encoding_round_trips_through_the_parser():
    msg = ap.snmp_get(0, b"private", 0x5EC2)
    tag, body, _ = ap.read_tlv(msg)
    assert tag == 0x30 and ap.children(body)[1] == (0x04, b"private")


def test_ipmi_channel_auth_of_ipmi_sim():
    auth = ap.parse_ipmi_auth(bytes.fromhex(FIX["ipmi_sim_channel_auth"]))
    assert auth["completion_code"] == 0
    assert auth["ipmi15_auth_types"] == ["none", "MD2", "MD5", "straight password"]
    assert auth["anonymous_login"] is True and auth["ipmi20_supported"] is True
    pong = bytes.fromhex(FIX["ipmi_sim_presence_pong"])
    assert pong[3] == 0x06 and pong[8] == 0x40  # ASF presence pong


def test_truncated_answers_are_refused_not_misread():
    with pytest.raises(ValueError):
        ap.parse_snmp(bytes.fromhex(FIX["snmpd_v3_report"])[:20])
    with pytest.raises(ValueError):
        ap.parse_ipmi_auth(bytes.fromhex(FIX["ipmi_sim_channel_auth"])[:12])


def _replay(steps: list[list[str]]) -> tuple[str, int, threading.Thread]:
    """A loopback server playing the recorded server side, reading what the client sends in between."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(2)
            for who, data in steps:
                raw = bytes.fromhex(data)
                if who == "server":
                    conn.sendall(raw)
                else:
                    got = b""
                    while len(got) < len(raw):
                        chunk = conn.recv(len(raw) - len(got))
                        if not chunk:
                            return
                        got += chunk
            with contextlib.suppress(OSError):
                conn.recv(64)  # QUIT or close
        srv.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return "127.0.0.1", srv.getsockname()[1], t


@pytest.mark.parametrize(
    ("fixture", "cleartext", "reason"),
    [
        ("vnc_none", True, "offers None (no encryption)"),
        ("vnc_vencrypt_tlsnone", False, "only encrypted security types: VeNCrypt, TLSNone"),
    ],
)
def test_vnc_security_types(fixture, cleartext, reason):
    host, port, t = _replay(FIX[fixture])
    r = ap.vnc({"dst": host, "port": port}, 2.0)
    t.join(3)
    assert (r["protocol"], r["cleartext"], r["reason"]) == ("vnc", cleartext, reason)


@pytest.mark.parametrize(
    ("fixture", "cleartext", "reason"),
    [
        ("vsftpd_clear", True, "USER answered 331 in clear"),
        ("vsftpd_tls_forced", False, "TLS required before login"),
    ],
)
def test_ftp_user_reply(fixture, cleartext, reason):
    host, port, t = _replay(FIX[fixture])
    r = ap.ftp({"dst": host, "port": port, "user": "preuve-probe"}, 2.0)
    t.join(3)
    assert (r["protocol"], r["cleartext"], r["reason"]) == ("ftp", cleartext, reason)


def test_ftp_refusal_that_does_not_mention_tls_is_still_clear_text():
    """530 for an unknown user says nothing about encryption: the control channel (and real logins) stay in clear."""
    steps = [["server", b"220 ready\r\n".hex()], ["client", b"USER preuve-probe\r\n".hex()]]
    steps.append(["server", b"530 Permission denied.\r\n".hex()])
    host, port, t = _replay(steps)
    r = ap.ftp({"dst": host, "port": port, "user": "preuve-probe"}, 2.0)
    t.join(3)
    assert r["cleartext"] is True and r["reply_to_user"] == "530 Permission denied."


def test_telnet_negotiation_of_inetutils_telnetd():
    host, port, t = _replay([["server", FIX["telnetd_greeting"]]])
    r = ap.telnet({"dst": host, "port": port}, 1.0)
    t.join(3)
    assert r["protocol"] == "telnet" and r["cleartext"] is True and "fd18" in r["iac_options"]  # DO TERMINAL-TYPE


def test_a_silent_tcp_service_is_not_called_telnet():
    host, port, t = _replay([])
    r = ap.telnet({"dst": host, "port": port}, 0.3)
    t.join(3)
    assert r["protocol"] is None and r["cleartext"] is False


@pytest.mark.parametrize(
    ("answer", "cleartext"),
    [
        (b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n<title>BMC</title>", True),
        (b"HTTP/1.1 301 Moved\r\nLocation: https://bmc.example/\r\n\r\n", False),
        (b"HTTP/1.1 302 Found\r\nLocation: http://bmc.example/login\r\n\r\n", True),  # a redirect kept in clear
        (b"HTTP/1.1 400 Bad Request\r\n\r\nThe plain HTTP request was sent to HTTPS port", False),  # nginx
        (b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n", False),  # Go
        (b"HTTP/1.1 400 Bad Request\r\n\r\nYou're speaking plain HTTP to an SSL-enabled server port.", False),
        (b"\x15\x03\x03\x00\x02\x02\x46", False),  # a TLS alert: the port speaks TLS only
    ],
)
def test_plain_http_on_an_admin_port(answer, cleartext):
    steps = [["client", b"GET / HTTP/1.0\r\n".hex()], ["server", answer.hex()]]
    host, port, t = _replay(steps)
    r = ap.http({"dst": host, "port": port}, 1.0)
    t.join(3)
    assert r["cleartext"] is cleartext, r


def test_closed_and_unreachable_ports_are_not_services():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    results = ap.run([{"id": 0, "dst": "127.0.0.1", "port": port, "kind": k} for k in ("telnet",)], 0.3, 0, 4, 1000)
    assert results[0]["state"] == "closed" and "protocol" not in results[0]


def test_vnc_refusal_is_unobservable_not_a_verdict():
    """TigerVNC's blacklist (recorded: RFB 3.8, no security type, reason "Too many security failures") says
    nothing about the types it would offer: an error quoting the server, never a pass or a clear-text finding."""
    reason = b"Too many security failures"
    steps = [["server", b"RFB 003.008\n".hex()], ["client", b"RFB 003.008\n".hex()]]
    steps.append(["server", (b"\x00" + len(reason).to_bytes(4, "big") + reason).hex()])
    host, port, t = _replay(steps)
    r = ap.vnc({"dst": host, "port": port}, 1.0)
    t.join(3)
    assert r["state"] == "error" and r["reason"].endswith("Too many security failures")
