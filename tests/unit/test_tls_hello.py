"""ClientHello bytes and first-flight parsing (preuve/observe/tls/hello.py), without a network.

Oracles are the RFCs' wire formats, built here byte by byte; the live behaviour against real servers is in
tests/lab/test_observe_tls.py and, against sslyze, tests/lab/test_tls_referee.py."""

from __future__ import annotations

import struct

import pytest

from preuve.observe.tls import hello as H


def _record(kind: int, payload: bytes) -> bytes:
    return struct.pack("!BHH", kind, 0x0303, len(payload)) + payload


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def _server_hello(version: int, suite: int, exts: bytes = b"", random: bytes = bytes(32)) -> bytes:
    body = struct.pack("!H", version) + random + b"\x00" + struct.pack("!HB", suite, 0)
    return _handshake(H.SERVER_HELLO, body + struct.pack("!H", len(exts)) + exts)


def test_client_hello_is_a_well_formed_record() -> None:
    data = H.client_hello(H.TLS12, [0x002F, 0xC02B], server_name="example.test")
    kind, record_version, length = struct.unpack("!BHH", data[:5])
    assert (kind, record_version, length) == (H.HANDSHAKE, H.TLS10, len(data) - 5)
    assert data[5] == 1 and int.from_bytes(data[6:9], "big") == len(data) - 9
    assert struct.unpack("!H", data[9:11])[0] == H.TLS12
    assert b"example.test" in data and b"\x00\x2f\xc0\x2b" in data
    assert not 0xFF < len(data) - 5 < 0x200  # RFC 7685 padding keeps it out of the F5 range


@pytest.mark.parametrize("n", range(40, 140, 7))
def test_hello_never_lands_in_the_256_511_byte_range(n: int) -> None:
    """RFC 7685, as OpenSSL counts: the handshake message, its 4-byte header included."""
    message_len = len(H.client_hello(H.TLS12, list(range(1, n)), server_name="a.test")) - 5
    assert not 0xFF < message_len < 0x200


def test_sslv3_hello_has_no_extension_but_the_renegotiation_scsv() -> None:
    data = H.client_hello(H.SSL3, [0x002F], server_name="example.test")
    assert struct.unpack("!H", data[1:3])[0] == H.SSL3
    assert b"example.test" not in data and b"\x00\xff" in data


def test_flight_split_across_records_and_messages() -> None:
    """A ServerHello + Certificate + ServerKeyExchange + ServerHelloDone flight, fragmented on arbitrary byte
    boundaries, parses the same."""
    ske = b"\x03\x00\x1d\x20" + bytes(32)  # named_curve x25519
    cert = _handshake(H.CERTIFICATE, (3 + 3 + 4).to_bytes(3, "big") + (4).to_bytes(3, "big") + b"DER!" + bytes(3))
    messages = (
        _server_hello(H.TLS12, 0xC02F, struct.pack("!HH", H.EXT_EMS, 0))
        + cert
        + _handshake(H.SERVER_KEY_EXCHANGE, ske)
        + _handshake(H.SERVER_HELLO_DONE, b"")
    )
    stream = _record(H.HANDSHAKE, messages[:30]) + _record(H.HANDSHAKE, messages[30:])
    for step in (1, 3, 7, len(stream)):
        parser = H.FlightParser()
        for i in range(0, len(stream), step):
            parser.feed(stream[i : i + step])
        f = parser.flight
        assert parser.done and f.suite == 0xC02F and f.version == H.TLS12
        assert H.EXT_EMS in f.extensions and f.certificates[0] == b"DER!"
        assert H.ske_group(f.key_exchange) == 29


def test_hello_retry_request_names_version_and_group() -> None:
    exts = struct.pack("!HHH", H.EXT_SUPPORTED_VERSIONS, 2, H.TLS13) + struct.pack("!HHH", H.EXT_KEY_SHARE, 2, 24)
    parser = H.FlightParser()
    parser.feed(_record(H.HANDSHAKE, _server_hello(H.TLS12, 0x1302, exts, random=H.HRR_RANDOM)))
    f = parser.flight
    assert parser.done and f.hello_retry and f.version == H.TLS13 and f.group() == 24
    assert f.answer() == "hello_retry_request"


def test_alert_and_non_tls_answers() -> None:
    parser = H.FlightParser()
    parser.feed(bytes.fromhex("15030300020228"))
    assert parser.done and parser.flight.alert == (2, 40) and not parser.flight.hello
    parser = H.FlightParser()
    parser.feed(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert parser.done and parser.flight.not_tls is not None


def test_dh_prime_size_and_group_sizes() -> None:
    p = (1 << 1023) | 1
    body = struct.pack("!H", 128) + p.to_bytes(128, "big") + b"\x00\x01\x02"
    assert H.ske_dh_bits(body) == 1024
    assert H.group_key(29) == {"type": "ECDH", "size": 253, "curve": "X25519"}
    assert H.group_key(25)["size"] == 521 and H.group_key(28)["size"] == 512 and H.group_key(1)["size"] == 163
    assert H.group_key(256) == {"type": "DH", "size": 2048, "curve": None}


def test_ssl2_server_hello() -> None:
    cert, specs = b"C" * 10, bytes.fromhex("010080") + bytes.fromhex("0700c0")
    body = b"\x04\x00\x01" + struct.pack("!HHHH", 2, len(cert), len(specs), 16) + cert + specs + bytes(16)
    data = struct.pack("!H", 0x8000 | len(body)) + body
    assert H.parse_ssl2_server_hello(data) == [0x010080, 0x0700C0]
    assert H.parse_ssl2_server_hello(bytes.fromhex("15030300020228")) is None
    hello = H.ssl2_client_hello([0x010080])
    assert hello[2] == 1 and struct.unpack("!H", hello[3:5])[0] == 2


def test_truncated_server_hello_is_malformed_not_a_crash() -> None:
    parser = H.FlightParser()
    parser.feed(_record(H.HANDSHAKE, _handshake(H.SERVER_HELLO, b"\x03\x03" + bytes(10))))
    assert parser.done and parser.flight.malformed
