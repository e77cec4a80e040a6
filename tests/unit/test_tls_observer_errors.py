"""TLS observer without a lab daemon: its errors against scripted servers on 127.0.0.1 (closed port, black hole, a
non-TLS server, a server refusing every version or ignoring the offer) and its pure parts (suite names, HSTS, host
names). The observer against real nginx servers is tests/lab/test_observe_tls.py.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from support.tls_servers import (
    LOOPBACK,
    TLS_HANDSHAKE_FAILURE_ALERT,
    canned_reply_server,
    closed_port,
    silent_server,
)

from preuve.observe import tls
from preuve.observe.errors import ObservationError

VERSIONS = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


# --- failures ---------------------------------------------------------------------------------


def test_closed_port_fails_fast() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(ObservationError, match=f"TLS {LOOPBACK}:{port} unreachable: connection refused"):
        tls.collect(LOOPBACK, port, timeout=5)
    assert time.monotonic() - started < 1.5


def test_black_hole_fails_within_the_timeout() -> None:
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(ObservationError, match="no TLS answer within 1s"):
            tls.collect(LOOPBACK, port, timeout=1.0)
        assert time.monotonic() - started < 2.0


def test_non_tls_server_is_an_error() -> None:
    with (
        canned_reply_server(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port,
        pytest.raises(ObservationError, match="does not speak TLS"),
    ):
        tls.collect(LOOPBACK, port, timeout=2)


def test_tls_server_refusing_every_version_is_an_observation() -> None:
    with canned_reply_server(TLS_HANDSHAKE_FAILURE_ALERT) as port:
        facts, raw = tls.collect(LOOPBACK, port, timeout=2)
    assert facts["versions"] == dict.fromkeys(VERSIONS, False)
    assert facts["cipher_suites"] == {} and facts["certificate"] is None
    assert raw["preflight"] == "alert 40"


def test_server_ignoring_the_offer_is_an_error() -> None:
    """A stack answering the same suite whatever is offered cannot be enumerated: error, never a short list."""
    body = bytes.fromhex("0303") + bytes(32) + b"\x00" + bytes.fromhex("c02f00") + b"\x00\x00"
    hello = b"\x02" + len(body).to_bytes(3, "big") + body + b"\x0e\x00\x00\x00"
    reply = bytes.fromhex("160303") + len(hello).to_bytes(2, "big") + hello
    with canned_reply_server(reply) as port, pytest.raises(ObservationError, match="was not offered"):
        tls.collect(LOOPBACK, port, timeout=2, http_path=None)


def test_unresolvable_host_is_an_error() -> None:
    with pytest.raises(ObservationError, match="cannot resolve"):
        tls.collect("no-such-host.invalid", 443, timeout=1)


def test_module_import_does_not_load_sslyze() -> None:
    """sslyze is the tests' referee, never loaded by a run; nassl only when a full handshake is needed."""
    code = "import sys, preuve.observe.tls; assert not {'sslyze', 'nassl', 'cryptography'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_repo())


# --- pure helpers -----------------------------------------------------------------------------


def test_every_suite_sslyze_knows_parses() -> None:
    """... and every suite the prober offers, with the key size sslyze gives it."""
    from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
    from sslyze.server_connectivity import TlsVersionEnum

    from preuve.observe.tls.facts import suite_key_size
    from preuve.observe.tls.suites import LEGACY, SSL2, TLS13

    known = {s.name: s.key_size for v in TlsVersionEnum for s in CipherSuitesRepository.get_all_cipher_suites(v)}
    # sslyze's own table is wrong on two suites (ARIA_128 is 128 bits, AES_256_CCM_8 is 256): the name decides
    known |= {"TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256": 128, "TLS_RSA_WITH_AES_256_CCM_8": 256}
    for name, size in known.items():
        assert suite_key_size(tls.parse_suite_name(name)["encryption"]) == size, name
    names = set(known) | set(LEGACY.values()) | set(TLS13.values()) | set(SSL2.values())
    for name in names:
        parsed = tls.parse_suite_name(name)
        assert parsed["encryption"], name
        assert parsed["key_exchange"] not in ("", "UNKNOWN"), name
        assert not (parsed["aead"] and parsed["cbc"]), name
    assert tls.parse_suite_name("TLS_DH_anon_WITH_AES_128_CBC_SHA")["anonymous"] is True
    assert tls.parse_suite_name("TLS_RSA_EXPORT_WITH_RC4_40_MD5") == {
        "key_exchange": "RSA",
        "authentication": "RSA",
        "encryption": "RC4_40",
        "mac": "MD5",
        "aead": False,
        "cbc": False,
        "export": True,
        "null_encryption": False,
        "anonymous": False,
        "forward_secrecy": False,
    }
    assert tls.parse_suite_name("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")["mac"] is None
    assert tls.parse_suite_name("TLS_AES_128_CCM_8_SHA256")["aead"] is True


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=31536000; includeSubDomains; preload", (31536000, True, True)),
        ('max-age="300"', (300, False, False)),  # quoted: legal (RFC 6797), crashes sslyze's parser
        ("MAX-AGE=10;INCLUDESUBDOMAINS", (10, True, False)),
        ("max-age=-1", (None, False, False)),
        (None, (None, False, False)),
    ],
)
def test_parse_hsts(header: str | None, expected: tuple) -> None:
    parsed = tls.parse_hsts(header)
    assert (parsed["max_age"], parsed["include_subdomains"], parsed["preload"]) == expected


@pytest.mark.parametrize(
    ("name", "dns", "ips", "ok"),
    [
        ("www.example.com", ["www.example.com"], [], True),
        ("WWW.Example.com.", ["www.example.com"], [], True),
        ("a.example.com", ["*.example.com"], [], True),
        ("a.b.example.com", ["*.example.com"], [], False),
        ("example.com", ["*.example.com"], [], False),
        ("127.0.0.1", ["127.0.0.1"], [], False),  # an IP must be in an IP SAN
        ("127.0.0.1", [], ["127.0.0.1"], True),
        ("::1", [], ["0:0:0:0:0:0:0:1"], True),
    ],
)
def test_hostname_matches(name: str, dns: list[str], ips: list[str], ok: bool) -> None:
    assert tls.hostname_matches(name, dns, ips) is ok


def _repo() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])
