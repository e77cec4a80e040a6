"""ClientHello bytes and the parsing of what a server answers before encryption starts.

Why by hand (the README's TLS section has the comparison): a probe needs to *offer* anything (SSLv3, TLS
1.0/1.1, export, NULL, anonymous, CBC, every curve) and to read only the server's first flight: ServerHello,
Certificate, CertificateStatus, ServerKeyExchange, ServerHelloDone, or an alert. No key is derived and nothing
is encrypted, so no crypto library is involved, and no OpenSSL build can refuse to offer a legacy suite. This
is what nmap's ssl-enum-ciphers and sslscan do. Pure functions: no socket here.
"""

from __future__ import annotations

import functools
import os
import re
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304
VERSION_NAMES = {SSL3: "SSLv3", TLS10: "TLSv1.0", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3"}
VERSION_CODES = {name: code for code, name in VERSION_NAMES.items()}

HANDSHAKE, ALERT, CHANGE_CIPHER_SPEC, APPLICATION_DATA = 22, 21, 20, 23
SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST, SERVER_HELLO_DONE, CERTIFICATE_STATUS = (
    2,
    11,
    12,
    13,
    14,
    22,
)
EXT_SNI, EXT_STATUS_REQUEST, EXT_GROUPS, EXT_POINT_FORMATS, EXT_SIGALGS = 0x0000, 0x0005, 0x000A, 0x000B, 0x000D
EXT_PADDING, EXT_EMS, EXT_SUPPORTED_VERSIONS, EXT_PSK_MODES, EXT_KEY_SHARE, EXT_RENEGOTIATION_INFO = (
    0x0015,
    0x0017,
    0x002B,
    0x002D,
    0x0033,
    0xFF01,
)
SCSV_RENEGOTIATION, SCSV_FALLBACK = 0x00FF, 0x5600
ALERT_INAPPROPRIATE_FALLBACK = 86
# RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random.
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

# IANA named groups tested for support: the 30 elliptic curves of RFC 4492/8422 (the same set sslyze tests,
# under the same names). FFDHE groups (256-260) are not tested: see the README's TLS section.
GROUPS: dict[int, str] = {
    1: "sect163k1",
    2: "sect163r1",
    3: "sect163r2",
    4: "sect193r1",
    5: "sect193r2",
    6: "sect233k1",
    7: "sect233r1",
    8: "sect239k1",
    9: "sect283k1",
    10: "sect283r1",
    11: "sect409k1",
    12: "sect409r1",
    13: "sect571k1",
    14: "sect571r1",
    15: "secp160k1",
    16: "secp160r1",
    17: "secp160r2",
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "X25519",
    30: "X448",
}
FFDHE = {256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096", 259: "ffdhe6144", 260: "ffdhe8192"}
# Preferred first: the server picks among these in its own order anyway.
OFFERED_GROUPS = (29, 23, 24, 25, 30, *range(26, 29), *range(1, 23), *FFDHE)
_SIGALGS = (
    0x0403,
    0x0503,
    0x0603,
    0x0807,
    0x0808,
    0x0804,
    0x0805,
    0x0806,
    0x0809,
    0x080A,
    0x080B,
    0x0401,
    0x0501,
    0x0601,
    0x0203,
    0x0201,
    0x0402,
    0x0502,
    0x0602,
    0x0202,
    0x0303,
    0x0301,
    0x0302,
    0x0101,
    0x0102,
)


def group_key(code: int) -> dict | None:
    """The ephemeral key a group gives, sized as OpenSSL (and so sslyze) reports it (X25519: 253 bits)."""
    if code in FFDHE:
        return {"type": "DH", "size": int(FFDHE[code][5:]), "curve": None}
    name = GROUPS.get(code)
    if name is None:
        return None
    size = {"X25519": 253, "X448": 448}.get(name) or int(re.search(r"\d+", name).group())  # type: ignore[union-attr]
    return {"type": "ECDH", "size": size, "curve": name}


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _vec(body: bytes, width: int = 2) -> bytes:
    return len(body).to_bytes(width, "big") + body


def _u16s(values: Sequence[int]) -> bytes:
    return struct.pack(f"!{len(values)}H", *values)


def client_hello(
    version: int,
    suites: Sequence[int],
    *,
    server_name: str | None,
    groups: Sequence[int] = OFFERED_GROUPS,
    supported_versions: Sequence[int] = (),
    key_share: bool = True,
    compression: bool = True,
    fallback_scsv: bool = False,
) -> bytes:
    """One ClientHello record. ``version`` is the legacy client_version; ``supported_versions`` (TLS 1.3)
    adds that extension, with an X25519 share when ``key_share`` (else an empty list: the server answers with
    a HelloRetryRequest naming the group it wants, which is all a group probe needs). SSLv3 hellos carry
    no extension (old stacks choke on them) but the renegotiation SCSV.

    The bytes of a given offer are built once (an endpoint's elimination offers the same lists as its
    neighbours'); each hello gets its own fresh random, session id and key share."""
    template, holes = _template(
        version,
        tuple(suites),
        server_name,
        tuple(groups),
        tuple(supported_versions),
        key_share,
        compression,
        fallback_scsv,
    )
    if not holes:
        return template
    out = bytearray(template)
    for start, size in holes:
        out[start : start + size] = random_bytes(size)
    return bytes(out)


@functools.lru_cache(maxsize=4096)
def _template(
    version: int,
    suites: tuple[int, ...],
    server_name: str | None,
    groups: tuple[int, ...],
    supported_versions: tuple[int, ...],
    key_share: bool,
    compression: bool,
    fallback_scsv: bool,
) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The hello with zeros where its random values go, and where they go: (offset, size) pairs."""
    tls13 = bool(supported_versions)
    codes = list(suites)
    if fallback_scsv:
        codes.append(SCSV_FALLBACK)
    exts = b""
    share_at = None  # offset of the key share's 32 bytes inside exts
    if version == SSL3:
        codes.append(SCSV_RENEGOTIATION)
    else:
        if server_name:
            name = server_name.encode("idna")
            exts += _ext(EXT_SNI, _vec(b"\x00" + _vec(name)))
        exts += _ext(EXT_GROUPS, _vec(_u16s(groups)))
        exts += _ext(EXT_POINT_FORMATS, b"\x01\x00")
        exts += _ext(EXT_STATUS_REQUEST, b"\x01\x00\x00\x00\x00")
        exts += _ext(EXT_EMS, b"")
        if version >= TLS12:
            exts += _ext(EXT_SIGALGS, _vec(_u16s(_SIGALGS)))
        if not tls13 or any(v < TLS13 for v in supported_versions):
            exts += _ext(EXT_RENEGOTIATION_INFO, b"\x00")
        if tls13:
            exts += _ext(EXT_SUPPORTED_VERSIONS, _vec(_u16s(supported_versions), 1))
            exts += _ext(EXT_PSK_MODES, b"\x01\x01")
            share = struct.pack("!HH", 29, 32) + bytes(32) if key_share and 29 in groups else b""
            if share:
                share_at = len(exts) + 4 + 2 + 4  # extension header, list length, group and key length
            exts += _ext(EXT_KEY_SHARE, _vec(share))
    methods = b"\x01\x00" if compression and not tls13 else b"\x00"
    session_id = bytes(32) if tls13 else b""  # RFC 8446 D.4 middlebox compatibility
    body = struct.pack("!H", version) + bytes(32) + _vec(session_id, 1) + _vec(_u16s(codes))
    body += _vec(methods, 1)
    head = len(body) + 2 + len(exts) + 4
    if 0xFF < head < 0x200:  # RFC 7685: hellos of 256-511 bytes hang some F5 load balancers
        exts += _ext(EXT_PADDING, bytes(0x200 - head - 4))
    holes = [(5 + 4 + 2, 32)]  # record header, handshake header, client_version: the client random
    if session_id:
        holes.append((5 + 4 + 2 + 32 + 1, 32))
    if exts:
        if share_at is not None:
            holes.append((5 + 4 + len(body) + 2 + share_at, 32))
        body += _vec(exts)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    record = struct.pack("!BHH", HANDSHAKE, SSL3 if version == SSL3 else TLS10, len(handshake)) + handshake
    return record, tuple(holes)


_POOL = bytearray()
_POOL_LOCK = threading.Lock()


def random_bytes(size: int) -> bytes:
    """Fresh random bytes from the OS, drawn 4 KiB at a time: one getrandom() per ~40 hellos instead of up to three
    per hello (each one also hands the GIL over, which the prober's thread then waits to get back)."""
    global _POOL
    with _POOL_LOCK:
        if len(_POOL) < size:
            _POOL = bytearray(os.urandom(4096))
        out = bytes(_POOL[:size])
        del _POOL[:size]
    return out


def ssl2_client_hello(specs: Sequence[int]) -> bytes:
    """An SSLv2 CLIENT-HELLO offering ``specs`` (3-byte CIPHER-SPECs)."""
    cipher_specs = b"".join(s.to_bytes(3, "big") for s in specs)
    challenge = random_bytes(16)
    body = b"\x01" + struct.pack("!HHHH", 0x0002, len(cipher_specs), 0, len(challenge)) + cipher_specs + challenge
    return struct.pack("!H", 0x8000 | len(body)) + body


def parse_ssl2_server_hello(data: bytes) -> list[int] | None:
    """The CIPHER-SPECs of an SSLv2 SERVER-HELLO, or None if ``data`` is not one."""
    if len(data) < 13 or not data[0] & 0x80 or data[2] != 4:
        return None
    cert_len, specs_len = struct.unpack("!HH", data[7:11])
    start = 13 + cert_len
    specs = data[start : start + specs_len]
    return [int.from_bytes(specs[i : i + 3], "big") for i in range(0, len(specs) - 2, 3)]


@dataclass
class Flight:
    """What the server sent before any encryption (or why it stopped)."""

    record_version: int | None = None
    version: int | None = None  # negotiated (supported_versions for TLS 1.3)
    suite: int | None = None
    compression: int | None = None
    extensions: dict[int, bytes] = field(default_factory=dict)
    hello_retry: bool = False
    certificates: list[bytes] = field(default_factory=list)
    key_exchange: bytes | None = None
    ocsp_response: bytes | None = None
    certificate_request: bool = False
    alert: tuple[int, int] | None = None
    closed: str | None = None  # "eof" or "reset": the server hung up without an alert
    not_tls: bytes | None = None  # first bytes, when they are not a TLS record
    malformed: bool = False  # a message that does not parse: the observation cannot be trusted

    @property
    def hello(self) -> bool:
        return self.suite is not None

    def group(self) -> int | None:
        """The key-exchange group of a TLS 1.3 ServerHello / HelloRetryRequest."""
        share = self.extensions.get(EXT_KEY_SHARE)
        return struct.unpack("!H", share[:2])[0] if share and len(share) >= 2 else None

    def answer(self) -> str:
        if self.hello:
            return "hello_retry_request" if self.hello_retry else "server_hello"
        if self.alert:
            return f"alert {self.alert[1]}"
        return self.closed or ("not_tls" if self.not_tls is not None else "nothing")


class FlightParser:
    """Feed bytes as they arrive; ``done`` once the unencrypted part of the server's flight is over."""

    def __init__(self, want_flight: bool = True) -> None:
        self.flight = Flight()
        self.done = False
        self.want_flight = want_flight  # read up to ServerHelloDone (certificates, key exchange), or stop at hello
        self._buffer = b""
        self._handshake = b""

    def feed(self, data: bytes) -> None:
        try:
            self._feed(data)
        except (struct.error, IndexError, ValueError):
            self.flight.malformed = True
            self.done = True

    def _feed(self, data: bytes) -> None:
        self._buffer += data
        while not self.done and len(self._buffer) >= 5:
            kind, record_version, length = struct.unpack("!BHH", self._buffer[:5])
            if self.flight.record_version is None and (kind not in (HANDSHAKE, ALERT) or record_version >> 8 != 3):
                self.flight.not_tls = self._buffer[:16]
                self.done = True
                return
            if len(self._buffer) < 5 + length:
                return
            payload, self._buffer = self._buffer[5 : 5 + length], self._buffer[5 + length :]
            self.flight.record_version = record_version
            if kind == ALERT and len(payload) >= 2:
                self.flight.alert = (payload[0], payload[1])
                self.done = True
            elif kind == HANDSHAKE:
                self._handshake += payload
                self._messages()
            else:  # ChangeCipherSpec / encrypted data: nothing more to read in clear
                self.done = True

    def _messages(self) -> None:
        while not self.done and len(self._handshake) >= 4:
            kind, length = self._handshake[0], int.from_bytes(self._handshake[1:4], "big")
            if len(self._handshake) < 4 + length:
                return
            body, self._handshake = self._handshake[4 : 4 + length], self._handshake[4 + length :]
            self._message(kind, body)

    def _message(self, kind: int, body: bytes) -> None:
        f = self.flight
        if kind == SERVER_HELLO:
            self._server_hello(body)
            if f.version == TLS13 or f.hello_retry or not self.want_flight:
                self.done = True
        elif kind == CERTIFICATE:
            f.certificates = _certificate_list(body)
        elif kind == CERTIFICATE_STATUS and body[:1] == b"\x01":
            f.ocsp_response = body[4:]
        elif kind == SERVER_KEY_EXCHANGE:
            f.key_exchange = body
        elif kind == CERTIFICATE_REQUEST:
            f.certificate_request = True
        elif kind == SERVER_HELLO_DONE:
            self.done = True

    def _server_hello(self, body: bytes) -> None:
        f = self.flight
        f.version = struct.unpack("!H", body[:2])[0]
        f.hello_retry = body[2:34] == HRR_RANDOM
        sid_len = body[34]
        pos = 35 + sid_len
        f.suite, f.compression = struct.unpack("!HB", body[pos : pos + 3])
        pos += 3
        if pos + 2 <= len(body):
            end = pos + 2 + struct.unpack("!H", body[pos : pos + 2])[0]
            pos += 2
            while pos + 4 <= end:
                kind, length = struct.unpack("!HH", body[pos : pos + 4])
                f.extensions[kind] = body[pos + 4 : pos + 4 + length]
                pos += 4 + length
        chosen = f.extensions.get(EXT_SUPPORTED_VERSIONS)
        if chosen and len(chosen) == 2:
            f.version = struct.unpack("!H", chosen)[0]


def _certificate_list(body: bytes) -> list[bytes]:
    total = int.from_bytes(body[:3], "big")
    pos, end, certs = 3, 3 + total, []
    while pos + 3 <= end:
        length = int.from_bytes(body[pos : pos + 3], "big")
        certs.append(body[pos + 3 : pos + 3 + length])
        pos += 3 + length
    return certs


def ske_group(body: bytes) -> int | None:
    """The named curve of an ECDHE ServerKeyExchange (curve_type 3 = named_curve)."""
    return struct.unpack("!H", body[1:3])[0] if len(body) >= 3 and body[0] == 3 else None


def ske_dh_bits(body: bytes) -> int | None:
    """The size of a DHE ServerKeyExchange's prime p, in bits."""
    if len(body) < 2:
        return None
    length = struct.unpack("!H", body[:2])[0]
    return int.from_bytes(body[2 : 2 + length], "big").bit_length() or None
