"""What any SSH client can see without logging in: banner, KEXINIT algorithm lists, host keys.

Hand-written on purpose: reading the server's identification line and its first (unencrypted)
SSH_MSG_KEXINIT takes one round trip (~ms on loopback) and needs no crypto library, and it shows
the server's *offer* verbatim, in the server's order, which a full client library would hide
behind its own negotiation. Host keys need a key exchange per key type, which `ssh-keyscan`
(one process, connections multiplexed) does for us; we parse the key blobs ourselves so that
legacy types (ssh-dss, small RSA) that modern client libraries dropped are still measured.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import subprocess
import time
from typing import TYPE_CHECKING

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

SSH_MSG_KEXINIT = 20
_SKIPPABLE_MESSAGES = {2, 4}  # SSH_MSG_IGNORE, SSH_MSG_DEBUG may precede KEXINIT
_MAX_PRE_BANNER_BYTES = 64 * 1024
_MAX_LINE = 8192
_MAX_PACKET = 256 * 1024  # RFC 4253 6.1 asks for 35000; be lenient, but bounded
_NAME_LISTS = (
    "kex",
    "host_key_algorithms",
    "ciphers_c2s",
    "ciphers_s2c",
    "macs_c2s",
    "macs_s2c",
    "compression_c2s",
    "compression_s2c",
    "languages_c2s",
    "languages_s2c",
)
_FACT_LISTS = _NAME_LISTS[:8]

# Host key algorithm (as offered in KEXINIT) -> key blob type, and key blob type -> ssh-keyscan -t name.
_ALG_TO_KEY_TYPE = {
    "ssh-rsa": "ssh-rsa",
    "rsa-sha2-256": "ssh-rsa",
    "rsa-sha2-512": "ssh-rsa",
    "ssh-dss": "ssh-dss",
    "ecdsa-sha2-nistp256": "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384": "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521": "ecdsa-sha2-nistp521",
    "ssh-ed25519": "ssh-ed25519",
    "sk-ecdsa-sha2-nistp256@openssh.com": "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ssh-ed25519@openssh.com": "sk-ssh-ed25519@openssh.com",
}
_KEYSCAN_TYPE = {
    "ssh-rsa": "rsa",
    "ssh-dss": "dsa",
    "ecdsa-sha2-nistp256": "ecdsa",
    "ecdsa-sha2-nistp384": "ecdsa",
    "ecdsa-sha2-nistp521": "ecdsa",
    "ssh-ed25519": "ed25519",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ecdsa-sk",
    "sk-ssh-ed25519@openssh.com": "ed25519-sk",
}
_CERT_SUFFIX = "-cert-v01@openssh.com"


def collect(host: str, port: int = 22, *, timeout: float = 5.0, keyscan: bool = True) -> tuple[dict, dict]:
    """Observe the SSH server at host:port as an anonymous client; return (facts, raw).

    `timeout` bounds the whole banner + KEXINIT exchange (not each read), so a server that
    accepts TCP and never speaks fails in about `timeout` seconds. With keyscan=False,
    facts["host_keys"] is None ("not observed"), never an empty list ("no keys").
    """
    _check_host(host)
    pre_banner, banner, payload = _exchange(host, port, timeout)
    facts = _banner_facts(host, port, banner)
    try:
        facts.update(parse_kexinit(payload))
    except ObservationError as e:
        raise ObservationError(f"ssh://{host}:{port}: {e}") from None
    raw = {"banner": banner, "pre_banner": pre_banner, "kexinit_hex": payload.hex()}
    if keyscan:
        keys, stdout, stderr = _scan_host_keys(host, port, facts["host_key_algorithms"], timeout)
        facts["host_keys"] = keys
        raw.update(keyscan_stdout=stdout, keyscan_stderr=stderr)
    else:
        facts["host_keys"] = None
    return facts, raw


def _check_host(host: str) -> None:
    """Refuse host strings that a subprocess could read as options or several arguments."""
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise ObservationError(f"invalid host name {host!r}")


# --- wire exchange -------------------------------------------------------------------------------


class _Reader:
    """Buffered socket reader with one deadline for the whole exchange."""

    def __init__(self, sock: socket.socket, deadline: float, what: str) -> None:
        self.sock, self.deadline, self.what, self.buf = sock, deadline, what, b""

    def _fill(self, needed_for: str) -> bool:
        """Read more bytes before the deadline; False on end of stream."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ObservationError(f"{self.what}: timeout waiting for {needed_for}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise ObservationError(f"{self.what}: timeout waiting for {needed_for}") from None
        except OSError as e:
            raise ObservationError(f"{self.what}: connection error while reading {needed_for}: {e}") from None
        self.buf += chunk
        return bool(chunk)

    def line(self, needed_for: str) -> bytes:
        """One line without its CR LF (RFC 4253 4.2 allows a bare LF too)."""
        while b"\n" not in self.buf:
            if len(self.buf) > _MAX_LINE:
                raise ObservationError(f"{self.what}: not an SSH server (line longer than {_MAX_LINE} bytes)")
            if not self._fill(needed_for):
                raise ObservationError(f"{self.what}: connection closed by server before {needed_for}")
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def exactly(self, n: int, needed_for: str) -> bytes:
        while len(self.buf) < n:
            if not self._fill(needed_for):
                raise ObservationError(
                    f"{self.what}: truncated packet, connection closed after {len(self.buf)} of {n} bytes"
                    f" of {needed_for}"
                )
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _exchange(host: str, port: int, timeout: float) -> tuple[list[str], str, bytes]:
    """Connect, swap identification strings, return (pre-banner lines, banner, KEXINIT payload)."""
    what = f"ssh://{host}:{port}"
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise ObservationError(f"{what}: connection refused") from None
    except TimeoutError:
        raise ObservationError(f"{what}: timeout connecting after {timeout:g}s") from None
    except OSError as e:
        raise ObservationError(f"{what}: cannot connect: {e.strerror or e}") from None
    with sock:
        reader = _Reader(sock, deadline, what)
        pre_banner, banner = _read_banner(reader)
        try:
            sock.sendall(f"SSH-2.0-preuve_{_software_version()}\r\n".encode())
        except OSError as e:
            raise ObservationError(f"{what}: connection error while sending our banner: {e}") from None
        return pre_banner, banner, _read_kexinit(reader)


def _software_version() -> str:
    """RFC 4253 4.2: softwareversion is printable ASCII without spaces or minus signs."""
    return "".join(c if c.isalnum() or c in "._+" else "_" for c in __version__)


def _read_banner(reader: _Reader) -> tuple[list[str], str]:
    """Skip the lines a server may send before its identification string (RFC 4253 4.2)."""
    pre: list[str] = []
    seen = 0
    while True:
        try:
            line = reader.line("the SSH identification string")
        except ObservationError:
            if pre:
                first = pre[0][:80]
                raise ObservationError(f"{reader.what}: not an SSH server (first line: {first!r})") from None
            raise
        text = line.decode("utf-8", errors="replace")
        if line.startswith(b"SSH-"):
            _check_protocol(reader.what, text)
            return pre, text
        pre.append(text)
        seen += len(line) + 1
        if seen > _MAX_PRE_BANNER_BYTES:
            raise ObservationError(f"{reader.what}: not an SSH server (no identification string)")
        if len(pre) == 1 and not _looks_like_text(line):
            raise ObservationError(f"{reader.what}: not an SSH server (first bytes: {line[:32]!r})")


def _looks_like_text(line: bytes) -> bool:
    return all(32 <= b < 127 or b == 9 for b in line)


def _check_protocol(what: str, banner: str) -> None:
    """Accept SSH 2 ("2.0", or "1.99" = 2 with SSH-1 fallback); refuse SSH-1 only servers."""
    version = banner[4:].split("-", 1)[0]
    if version not in ("2.0", "1.99"):
        raise ObservationError(f"{what}: server speaks SSH protocol {version} only ({banner!r}), not SSH-2")


def _read_kexinit(reader: _Reader) -> bytes:
    """Read unencrypted binary packets (RFC 4253 6) until the KEXINIT; return its payload."""
    for _ in range(16):
        length = struct.unpack(">I", reader.exactly(4, "packet length"))[0]
        if not 5 <= length <= _MAX_PACKET:
            raise ObservationError(f"{reader.what}: invalid packet length {length} before key exchange")
        body = reader.exactly(length, "KEXINIT packet")
        padding = body[0]
        if padding + 1 >= length:
            raise ObservationError(f"{reader.what}: invalid padding length {padding} before key exchange")
        payload = body[1 : length - padding]
        if payload[0] == SSH_MSG_KEXINIT:
            return payload
        if payload[0] not in _SKIPPABLE_MESSAGES:
            raise ObservationError(f"{reader.what}: expected KEXINIT, got SSH message {payload[0]}")
    raise ObservationError(f"{reader.what}: no KEXINIT after 16 packets")


def parse_kexinit(payload: bytes) -> dict[str, list[str]]:
    """Decode the 8 algorithm name-lists of a KEXINIT payload, keeping the server's order.

    Pseudo-algorithms such as kex-strict-s-v00@openssh.com or ext-info-s are kept: they are
    part of what the server advertises (the Terrapin countermeasure is one of them).
    """
    if not payload or payload[0] != SSH_MSG_KEXINIT:
        raise ObservationError("not a KEXINIT payload")
    offset = 17  # message byte + 16-byte cookie
    lists: dict[str, list[str]] = {}
    for name in _NAME_LISTS:
        if offset + 4 > len(payload):
            raise ObservationError(f"truncated KEXINIT (at {name})")
        (size,) = struct.unpack_from(">I", payload, offset)
        raw = payload[offset + 4 : offset + 4 + size]
        if len(raw) != size:
            raise ObservationError(f"truncated KEXINIT (in {name})")
        lists[name] = raw.decode("ascii", errors="replace").split(",") if size else []
        offset += 4 + size
    return {name: lists[name] for name in _FACT_LISTS}


def _banner_facts(host: str, port: int, banner: str) -> dict:
    """Split 'SSH-protoversion-softwareversion SP comments'."""
    _, proto, rest = banner.split("-", 2) if banner.count("-") >= 2 else (banner, banner[4:], "")
    return {
        "host": host,
        "port": port,
        "banner": banner,
        "protocol_version": proto,
        "software": rest.split(" ", 1)[0],
    }


# --- host keys -----------------------------------------------------------------------------------


def _expected_key_types(host_key_algorithms: list[str]) -> list[str]:
    """Key types implied by the offered algorithms (certificates imply their plain key type)."""
    types = []
    for alg in host_key_algorithms:
        base = alg.removesuffix(_CERT_SUFFIX)  # ssh-ed25519-cert-v01@openssh.com -> ssh-ed25519
        types.append(_ALG_TO_KEY_TYPE.get(base, alg))
    return sorted(set(types))


def _scan_host_keys(
    host: str, port: int, host_key_algorithms: list[str], timeout: float
) -> tuple[list[dict], str, str]:
    """Fetch every offered host key with one ssh-keyscan process; unknown sizes stay None."""
    expected = _expected_key_types(host_key_algorithms)
    scan_types = sorted({_KEYSCAN_TYPE[t] for t in expected if t in _KEYSCAN_TYPE})
    stdout, stderr, failure = "", "", None
    if scan_types:
        stdout, stderr, failure = _run_keyscan(host, port, scan_types, timeout)
    found: dict[tuple, dict] = {}
    for line in stdout.splitlines():
        key = _parse_keyscan_line(line)
        if key:
            found[(key["type"], key["fingerprint_sha256"])] = key
    keys = list(found.values())
    got = {k["type"] for k in keys}
    for key_type in expected:
        if key_type not in got:
            keys.append(
                {
                    "type": key_type,
                    "bits": None,
                    "fingerprint_sha256": None,
                    "note": _missing_note(key_type, got, failure),
                }
            )
    keys.sort(key=lambda k: (k["type"], k["bits"] or 0, k["fingerprint_sha256"] or ""))
    return keys, stdout, stderr


def _missing_note(key_type: str, got: set[str], failure: str | None) -> str:
    """Say why a key offered in KEXINIT has no measured size."""
    if key_type not in _KEYSCAN_TYPE:
        return "offered in KEXINIT but ssh-keyscan has no type for it: size not measured"
    if failure:
        return f"offered in KEXINIT but not fetched: {failure}"
    if key_type.startswith("ecdsa-") and any(t.startswith("ecdsa-") for t in got):
        return "offered in KEXINIT but ssh-keyscan fetches only one ECDSA curve per host: size not measured"
    return "offered in KEXINIT but ssh-keyscan returned no key of this type: size not measured"


def _run_keyscan(host: str, port: int, types: list[str], timeout: float) -> tuple[str, str, str | None]:
    """Run ssh-keyscan once for all types; return (stdout, stderr, failure reason or None)."""
    seconds = str(max(1, round(timeout)))
    cmd = ["ssh-keyscan", "-T", seconds, "-p", str(port), "-t", ",".join(types), host]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * timeout + 2, check=False)
    except FileNotFoundError:
        return "", "", "ssh-keyscan is not installed"
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return out, "", f"ssh-keyscan timed out after {2 * timeout + 2:g}s"
    return proc.stdout, proc.stderr, None


def _parse_keyscan_line(line: str) -> dict | None:
    """'host keytype base64' -> {type, bits, fingerprint_sha256}; comments and junk -> None."""
    parts = line.split()
    if len(parts) < 3 or line.startswith("#"):
        return None
    try:
        blob = base64.b64decode(parts[2], validate=True)
        return describe_key_blob(blob)
    except (ValueError, struct.error):
        return None


def describe_key_blob(blob: bytes) -> dict:
    """Type, size in bits and OpenSSH SHA256 fingerprint of a public key blob (RFC 4253 6.6).

    Parsed by hand so that ssh-dss and small RSA keys, which paramiko 4+ no longer loads,
    are measured like the others.
    """
    fields = _ssh_strings(blob)
    key_type = fields[0].decode("ascii")
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return {"type": key_type, "bits": _key_bits(key_type, fields), "fingerprint_sha256": f"SHA256:{digest}"}


def _ssh_strings(blob: bytes) -> list[bytes]:
    """Split a blob made only of uint32-length-prefixed strings/mpints."""
    out, offset = [], 0
    while offset < len(blob):
        (size,) = struct.unpack_from(">I", blob, offset)
        if offset + 4 + size > len(blob):
            raise ValueError("truncated key blob")
        out.append(blob[offset + 4 : offset + 4 + size])
        offset += 4 + size
    if not out:
        raise ValueError("empty key blob")
    return out


def _key_bits(key_type: str, fields: list[bytes]) -> int | None:
    """RSA modulus bits, DSA p bits, ECDSA curve size, Ed25519 = 256."""
    if key_type == "ssh-rsa":  # string type, mpint e, mpint n
        return int.from_bytes(fields[2], "big").bit_length()
    if key_type == "ssh-dss":  # string type, mpint p, q, g, y
        return int.from_bytes(fields[1], "big").bit_length()
    if "ecdsa-sha2-nistp" in key_type:
        return {"nistp256": 256, "nistp384": 384, "nistp521": 521}.get(fields[1].decode("ascii", "replace"))
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        return 256
    return None


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    query = {"host": target.address, "port": target.port, "keyscan": True}
    found, raw = collect(target.address, target.port or 22, timeout=timeout)
    return query, found, raw, f"preuve {__version__} + ssh-keyscan"


COLLECTOR = Collector(
    "ssh_protocol",
    _collect,
    limit=16,
    fixtures=(Fixture("ssh", "ssh_endpoint", doc="SSH server seen from outside: banner, KEXINIT, host keys"),),
)
