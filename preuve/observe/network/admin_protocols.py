"""Clear-text administration protocols, asked the first harmless question of each (13.2.c).

Stdlib only (like probe_remote.py, this file is shipped as-is to an SSH vantage and run there with python3).
Reads {"probes": [{"id", "dst", "proto", "port", "kind", ...}], "timeout", "retries", "workers", "rate"} as
JSON on stdin and prints {"results": [...]}. Each probe says what answered and, for the protocols that can be
protected, whether the answer proves protection:

  telnet  tcp/23    connect, read what the server sends first: IAC option negotiation (RFC 854) or a login
                    prompt is a telnet server (always clear text). Nothing is typed.
  ftp     tcp/21    read the 220 greeting, send `USER <probe user>` (a name that is no account), read the reply,
                    `QUIT`. 331 (password asked) or 230 means logins travel in clear; a refusal that says TLS is
                    required (RFC 4217: 530/534/550 "must use encryption", "SSL/TLS required") means FTPS is
                    enforced. No password is ever sent.
  snmp    udp/161   a GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) in SNMPv1 and v2c with each community to try
                    (`public`, the vendor default `private`, the inventory's canary communities); any response
                    means that community reads the agent in clear. An SNMPv3 engine-ID discovery (empty user,
                    noAuthNoPriv, reportable: RFC 3414 section 4) tells an SNMPv3 agent that refuses v1/v2c.
  ipmi    udp/623   an RMCP/ASF presence ping (DSP0136) and the session-less IPMI 1.5 Get Channel
                    Authentication Capabilities request (IPMI v2.0 section 22.13): the authentication types of
                    IPMI 1.5 sessions (none, MD2, MD5, straight password: no confidentiality), anonymous and
                    null-user logins, RMCP+ (IPMI 2.0) support.
  vnc     tcp/5900  the RFB version and security types list (RFC 6143 section 7.1); for VeNCrypt (type 19) the
                    sub-types after the 0.2 version exchange. No authentication is attempted.
  http    tcp/any   `GET / HTTP/1.0` in clear on an administration interface's port: a page (any status but a
                    redirect to https://) is an admin interface reachable in clear; a TLS alert, a redirect to
                    HTTPS or nginx's "plain HTTP request was sent to HTTPS port" is not.
"""

import contextlib
import errno
import json
import re
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SYSDESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)  # usmStats: 4.0 unknownEngineIDs, 3.0 unknownUserNames...
FTP_TLS_REQUIRED = re.compile(r"encrypt|ssl|tls|auth\s+tls|secure", re.I)
VNC_TYPES = {
    0: "invalid",
    1: "None",
    2: "VNC Authentication",
    5: "RA2",
    6: "RA2ne",
    16: "Tight",
    18: "TLS",
    19: "VeNCrypt",
    30: "Apple Remote Desktop",
}
VENCRYPT_SUBTYPES = {
    256: "Plain",
    257: "TLSNone",
    258: "TLSVnc",
    259: "TLSPlain",
    260: "X509None",
    261: "X509Vnc",
    262: "X509Plain",
    263: "TLSSASL",
    264: "X509SASL",
}
VNC_ENCRYPTED = {5, 6, 18}  # RA2, RA2ne, TLS: the whole session is encrypted; 19 depends on its sub-types
VENCRYPT_ENCRYPTED = {257, 258, 259, 260, 261, 262, 263, 264}
IPMI15_AUTH = {0: "none", 1: "MD2", 2: "MD5", 4: "straight password", 5: "OEM"}


# --- BER (just what SNMP needs) ------------------------------------------------------------------


def _len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, body):
    return bytes([tag]) + _len(len(body)) + body


def ber_int(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def ber_oid(oid):
    out = bytearray([40 * oid[0] + oid[1]])
    for arc in oid[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def read_tlv(data, pos=0):
    """(tag, value bytes, next position) of the TLV at pos; raises ValueError on a truncated one."""
    if pos + 2 > len(data):
        raise ValueError("truncated BER")
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > len(data):
            raise ValueError("bad BER length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("truncated BER value")
    return tag, data[pos : pos + n], pos + n


def children(data):
    out, pos = [], 0
    while pos < len(data):
        tag, value, pos = read_tlv(data, pos)
        out.append((tag, value))
    return out


def oid_text(value):
    if not value:
        return ""
    arcs, cur = [value[0] // 40, value[0] % 40], 0
    for b in value[1:]:
        cur = (cur << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(cur)
            cur = 0
    return ".".join(map(str, arcs))


def snmp_get(version, community, request_id):
    """An SNMPv1 (0) / v2c (1) GetRequest for sysDescr.0."""
    varbind = tlv(0x30, tlv(0x30, ber_oid(SYSDESCR) + b"\x05\x00"))
    pdu = tlv(0xA0, ber_int(request_id) + ber_int(0) + ber_int(0) + varbind)
    return tlv(0x30, ber_int(version) + tlv(0x04, community) + pdu)


def snmp_v3_discovery(msg_id):
    """An SNMPv3 GetRequest with an empty user and engine ID, reportable: an agent answers with a Report."""
    header = tlv(0x30, ber_int(msg_id) + ber_int(65507) + tlv(0x04, b"\x04") + ber_int(3))
    usm = tlv(0x30, tlv(0x04, b"") + ber_int(0) + ber_int(0) + tlv(0x04, b"") + tlv(0x04, b"") + tlv(0x04, b""))
    scoped = tlv(
        0x30, tlv(0x04, b"") + tlv(0x04, b"") + tlv(0xA0, ber_int(msg_id) + ber_int(0) + ber_int(0) + tlv(0x30, b""))
    )
    return tlv(0x30, ber_int(3) + header + tlv(0x04, usm) + scoped)


def parse_snmp(data):
    """{version, community, pdu, error_status, varbinds: [(oid, text)]} of a v1/v2c response, or for v3
    {version: 3, engine_id, pdu, varbinds}. Raises ValueError on anything else."""
    tag, body, _ = read_tlv(data)
    if tag != 0x30:
        raise ValueError("not an SNMP message")
    parts = children(body)
    version = int.from_bytes(parts[0][1], "big", signed=True)
    if version in (0, 1):
        community, (pdu_tag, pdu) = parts[1][1], parts[2]
        fields = children(pdu)
        binds = [children(vb) for _, vb in children(fields[3][1])]
        return {
            "version": {0: "v1", 1: "v2c"}[version],
            "community_echoed": len(community),
            "pdu": hex(pdu_tag),
            "request_id": int.from_bytes(fields[0][1], "big", signed=True),
            "error_status": int.from_bytes(fields[1][1], "big"),
            "varbinds": [(oid_text(b[0][1]), _printable(b[1][1]) if b[1][0] == 0x04 else hex(b[1][0])) for b in binds],
        }
    if version == 3:
        usm = children(read_tlv(parts[2][1])[1])
        scoped = children(parts[3][1])
        pdu_tag, pdu = scoped[2]
        fields = children(pdu)
        binds = [children(vb) for _, vb in children(fields[3][1])]
        return {
            "version": "v3",
            "engine_id": usm[0][1].hex(),
            "pdu": hex(pdu_tag),
            "varbinds": [(oid_text(b[0][1]), hex(b[1][0])) for b in binds],
        }
    raise ValueError(f"SNMP version {version}")


def _printable(raw, limit=120):
    text = raw.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "." for c in text)[:limit]


# --- probes --------------------------------------------------------------------------------------


def _connect(dst, port, timeout):
    s = socket.create_connection((dst, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def _unreached(exc):
    """The state of a probe whose connection failed (same words as probe_remote)."""
    if isinstance(exc, ConnectionRefusedError):
        return {"state": "closed", "reason": "connection refused"}
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return {"state": "silent", "reason": "no response"}
    if getattr(exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
        return {"state": "filtered", "reason": f"{type(exc).__name__}: {exc.strerror}"}
    return {"state": "error", "reason": f"{type(exc).__name__}: {exc}"}


def _recv_some(s, limit, wait, idle=None):
    """Bytes the server sends within `wait` seconds (stops at `limit`, at the close, or `idle` seconds after the
    last chunk: a greeting or a reply line comes at once, the next question is ours)."""
    out, end = b"", time.monotonic() + wait
    while len(out) < limit:
        left = end - time.monotonic()
        if out and idle is not None:
            left = min(left, idle)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(limit - len(out))
        except (TimeoutError, socket.timeout):  # noqa: UP041 (remote Pythons older than 3.10)
            break
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def telnet(p, timeout):
    try:
        s = _connect(p["dst"], p["port"], timeout)
    except OSError as exc:
        return _unreached(exc)
    with s:
        data = _recv_some(s, 512, timeout, idle=0.2)
    iac = [
        data[i + 1 : i + 3].hex() for i in range(len(data) - 2) if data[i] == 0xFF and data[i + 1] in range(0xFB, 0xFF)
    ]
    text = _printable(bytes(b for b in data if b < 0x80 and b not in (0xFF,)), 80)
    speaks = bool(iac) or bool(re.search(r"login|username|password", text, re.I))
    return {
        "state": "open",
        "protocol": "telnet" if speaks else None,
        "cleartext": speaks,
        "iac_options": iac[:8],
        "banner": text,
        "reason": "telnet option negotiation (IAC)" if iac else ("login prompt" if speaks else "no telnet answer"),
    }


def _ftp_reply(s, timeout):
    """The last line of one (possibly multi-line) FTP reply."""
    buf, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        lines = buf.split(b"\r\n")
        for line in lines[:-1]:
            if re.match(rb"^\d{3} ", line):
                return line.decode("utf-8", "replace")
        chunk = _recv_some(s, 2048, max(end - time.monotonic(), 0.01), idle=0.05)
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace").strip()[:200]


def ftp(p, timeout):
    try:
        s = _connect(p["dst"], p["port"], timeout)
    except OSError as exc:
        return _unreached(exc)
    with s:
        greeting = _ftp_reply(s, timeout)
        if not greeting.startswith("220"):
            return {
                "state": "open",
                "protocol": None,
                "cleartext": False,
                "greeting": _printable(greeting.encode()),
                "reason": "no FTP greeting",
            }
        user = p.get("user") or "preuve-probe"
        try:
            s.sendall(f"USER {user}\r\n".encode())
            reply = _ftp_reply(s, timeout)
            with contextlib.suppress(OSError):
                s.sendall(b"QUIT\r\n")
        except OSError as exc:
            reply = f"connection lost after USER: {exc}"
    code = reply[:3]
    tls_required = code in ("530", "534", "550", "421") and bool(FTP_TLS_REQUIRED.search(reply[3:]))
    cleartext = code in ("331", "230", "232", "332") or not tls_required
    return {
        "state": "open",
        "protocol": "ftp",
        "cleartext": cleartext,
        "greeting": _printable(greeting.encode()),
        "user_sent": user,
        "reply_to_user": _printable(reply.encode(), 160),
        "reason": "TLS required before login" if tls_required else f"USER answered {code or '?'} in clear",
    }


def _udp_gather(dst, port, payloads, timeout):
    """Send every datagram at once from one socket, then read replies for `timeout` seconds (one wait per probe,
    not one per question: a filtered agent costs a single timeout). Returns the replies, or raises
    ConnectionRefusedError when an ICMP port-unreachable came back and nothing else did."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    replies, refused = [], False
    try:
        s.connect((dst, port))
        for payload in payloads:
            with contextlib.suppress(ConnectionRefusedError):
                s.send(payload)
        end = time.monotonic() + timeout
        while len(replies) < len(payloads):
            left = end - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                replies.append(s.recv(4096))
            except (TimeoutError, socket.timeout):  # noqa: UP041 (remote Pythons older than 3.10)
                break
            except ConnectionRefusedError:
                refused = True
                break
    finally:
        s.close()
    if refused and not replies:
        raise ConnectionRefusedError("icmp port-unreachable")
    return replies


def _snmp_asks(p):
    """(request id -> (community label, version), datagrams): v1/v2c reads per community, then a v3 discovery."""
    asks, payloads = {}, []
    for n, c in enumerate(p.get("communities") or []):
        for version in (0, 1):
            req_id = 0x5EC0 + n * 2 + version
            asks[req_id] = (c["label"], "v1" if version == 0 else "v2c")
            payloads.append(snmp_get(version, c["value"].encode(), req_id))
    return asks, [*payloads, snmp_v3_discovery(0x5E00)]


def snmp(p, timeout):
    """v1/v2c reads with each community and a v3 discovery, sent together; a community is named by its label."""
    payloads = _snmp_asks(p)[1]
    try:
        replies = _udp_gather(p["dst"], p["port"], payloads, timeout)
    except ConnectionRefusedError:
        return {**_snmp_result(p, []), "state": "closed", "reason": "icmp port-unreachable"}
    except OSError as exc:
        return {**_snmp_result(p, []), **_unreached(exc)}
    return _snmp_result(p, replies)


def _snmp_result(p, replies):
    """What the agent's replies show (no reply: silent)."""
    out = {"state": "silent", "protocol": None, "cleartext": False, "accepted": [], "v3": None}
    asks = _snmp_asks(p)[0]
    for data in replies:
        try:
            parsed = parse_snmp(data)
        except (ValueError, IndexError):
            continue
        out["state"], out["protocol"] = "open", "snmp"
        if parsed["version"] == "v3":
            out["v3"] = {"engine_id": parsed["engine_id"], "report": [o for o, _ in parsed["varbinds"]]}
            continue
        label, version = asks.get(parsed["request_id"], ("?", parsed["version"]))
        out["accepted"].append(
            {
                "community": label,
                "version": version,
                "error_status": parsed["error_status"],
                "sysDescr": next((v for o, v in parsed["varbinds"] if o == "1.3.6.1.2.1.1.1.0"), None),
            }
        )
    out["accepted"].sort(key=lambda a: (a["community"], a["version"]))
    tried = sorted({label for label, _ in asks.values()})
    out["refused"] = [c for c in tried if c not in {a["community"] for a in out["accepted"]}]
    out["cleartext"] = bool(out["accepted"])
    if out["cleartext"]:
        out["reason"] = "read with community " + ", ".join(
            f"{a['community']} ({a['version']})" for a in out["accepted"]
        )
    elif out["v3"]:
        out["reason"] = f"SNMPv3 agent (engine discovery answered); no community of {tried} accepted"
    else:
        out["reason"] = "no answer"
    return out


RMCP_PING = bytes.fromhex("0600ff06000011be80000000")  # ASF presence ping, tag 0
GET_CHANNEL_AUTH = bytes.fromhex("0600ff07000000000000000000092018c88100388e04b5")


def parse_ipmi_auth(data):
    """The Get Channel Authentication Capabilities response (RMCP class 7, IPMI 1.5 session header)."""
    if len(data) < 14 or data[3] != 0x07:
        raise ValueError("not an RMCP IPMI message")
    auth = data[4]
    hdr = 4 + 1 + 4 + 4 + (16 if auth else 0)
    n = data[hdr]
    msg = data[hdr + 1 : hdr + 1 + n]
    if len(msg) < 7 + 8 or msg[5] != 0x38:
        raise ValueError("not a Get Channel Authentication Capabilities response")
    cc, body = msg[6], msg[7:]
    if cc != 0:
        return {"completion_code": cc}
    types, flags, ext = body[1], body[2], body[3]
    return {
        "completion_code": 0,
        "channel": body[0],
        "ipmi15_auth_types": [name for bit, name in IPMI15_AUTH.items() if types & (1 << bit)],
        "ipmi20_extended": bool(types & 0x80),
        "anonymous_login": bool(flags & 0x01),
        "null_usernames": bool(flags & 0x02),
        "non_null_usernames": bool(flags & 0x04),
        "per_message_auth_disabled": bool(flags & 0x10),
        "ipmi20_supported": bool(types & 0x80) and bool(ext & 0x02),
        "ipmi15_supported": not (types & 0x80) or bool(ext & 0x01),
    }


def ipmi(p, timeout):
    """An RMCP presence ping and a Get Channel Authentication Capabilities request, sent together."""
    try:
        replies = _udp_gather(p["dst"], p["port"], [RMCP_PING, GET_CHANNEL_AUTH], timeout)
    except ConnectionRefusedError:
        return {**_ipmi_result(p, []), "state": "closed", "reason": "icmp port-unreachable"}
    except OSError as exc:
        return {**_ipmi_result(p, []), **_unreached(exc)}
    return _ipmi_result(p, replies)


def _ipmi_result(p, replies):
    out = {"state": "silent", "protocol": None, "cleartext": False, "presence_pong": False, "auth": None}
    for data in replies:
        if len(data) >= 12 and data[3] == 0x06 and data[8] == 0x40:
            out["presence_pong"], out["state"] = True, "open"
            out["protocol"] = out["protocol"] or "rmcp"
        elif len(data) > 3 and data[3] == 0x07:
            out["state"] = "open"
            try:
                out["auth"], out["protocol"] = parse_ipmi_auth(data), "ipmi"
            except (ValueError, IndexError) as exc:
                out["auth_error"] = f"{type(exc).__name__}: {exc}"
    auth = out["auth"] or {}
    weak = []
    if auth.get("ipmi15_supported") and auth.get("ipmi15_auth_types"):
        weak.append("IPMI 1.5 sessions (" + ", ".join(auth["ipmi15_auth_types"]) + "): no encryption")
    if auth.get("anonymous_login") or auth.get("null_usernames"):
        weak.append("anonymous/null-user login enabled")
    if out["protocol"] == "ipmi":
        out["cleartext"] = bool(weak) or not auth.get("ipmi20_supported")
        out["reason"] = "; ".join(weak) if weak else "RMCP+ (IPMI 2.0) only"
    elif out["protocol"] == "rmcp":
        out["reason"] = "RMCP presence pong only: a management controller, no IPMI session capability answered"
    else:
        out["reason"] = "no answer"
    return out


def vnc(p, timeout):
    try:
        s = _connect(p["dst"], p["port"], timeout)
    except OSError as exc:
        return _unreached(exc)
    with s:
        hello = _recv_some(s, 12, timeout)
        m = re.match(rb"RFB (\d{3})\.(\d{3})\n", hello)
        if not m:
            return {
                "state": "open",
                "protocol": None,
                "cleartext": False,
                "banner": _printable(hello),
                "reason": "no RFB greeting",
            }
        version = (int(m.group(1)), int(m.group(2)))
        out = {"state": "open", "protocol": "vnc", "rfb": f"{version[0]}.{version[1]}", "types": [], "vencrypt": None}
        try:
            if version < (3, 7):
                s.sendall(b"RFB 003.003\n")
                raw = _recv_some(s, 4, timeout)
                types = [struct.unpack("!I", raw)[0]] if len(raw) == 4 else []
            else:
                s.sendall(b"RFB 003.008\n")
                n = _recv_some(s, 1, timeout)
                count = n[0] if n else 0
                types = list(_recv_some(s, count, timeout)) if count else []
            if types in ([], [0]):  # RFB 7.1.2: no type offered, the server says why (a blacklist, a limit)
                raw = _recv_some(s, 4, timeout)
                size = min(struct.unpack("!I", raw)[0], 200) if len(raw) == 4 else 0
                why = _printable(_recv_some(s, size, timeout)) if size else "no reason given"
                return {**out, "state": "error", "reason": f"the VNC server refused the handshake: {why}"}
            out["types"] = [VNC_TYPES.get(t, f"type {t}") for t in types]
            if 19 in types and version >= (3, 7):
                s.sendall(b"\x13")
                if _recv_some(s, 2, timeout) == b"\x00\x02":
                    s.sendall(b"\x00\x02")
                    ack = _recv_some(s, 1, timeout)
                    if ack == b"\x00":
                        k = _recv_some(s, 1, timeout)
                        raw = _recv_some(s, 4 * (k[0] if k else 0), timeout)
                        subs = [struct.unpack("!I", raw[i : i + 4])[0] for i in range(0, len(raw) - 3, 4)]
                        out["vencrypt"] = [VENCRYPT_SUBTYPES.get(x, f"subtype {x}") for x in subs]
        except OSError as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
    clear = [t for t in types if t not in VNC_ENCRYPTED and t != 19]
    subs_clear = [x for x in (out["vencrypt"] or []) if x not in {VENCRYPT_SUBTYPES[k] for k in VENCRYPT_ENCRYPTED}]
    if 19 in types and out["vencrypt"] is None:
        subs_clear = ["VeNCrypt sub-types unread"]
    out["cleartext"] = bool(clear or subs_clear) or not types
    out["reason"] = (
        "offers " + ", ".join([VNC_TYPES.get(t, f"type {t}") for t in clear] + subs_clear) + " (no encryption)"
        if out["cleartext"]
        else "only encrypted security types: " + ", ".join(out["types"] + (out["vencrypt"] or []))
    )
    return out


# The refusals TLS servers send to a plain-HTTP request: nginx, Go net/http (kube-apiserver, etcd), Apache mod_ssl
HTTPS_PORT_REFUSAL = re.compile(
    r"plain HTTP request was sent to HTTPS port|HTTP request to an HTTPS server|plain HTTP to an SSL-enabled server"
    r"|speaks? HTTPS|use HTTPS",
    re.I,
)


def http(p, timeout):
    try:
        s = _connect(p["dst"], p["port"], timeout)
    except OSError as exc:
        return _unreached(exc)
    with s:
        host = p.get("host") or p["dst"]
        s.sendall(f"GET {p.get('path') or '/'} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: preuve\r\n\r\n".encode())
        data = _recv_some(s, 4096, timeout, idle=0.5)
    m = re.match(rb"HTTP/\d\.\d (\d{3})", data)
    if not m:
        what = "TLS alert (the port speaks TLS only)" if data[:1] == b"\x15" else "no HTTP answer in clear"
        return {"state": "open", "protocol": None, "cleartext": False, "reason": what}
    status = int(m.group(1))
    head, _, body = data.partition(b"\r\n\r\n")
    location = re.search(rb"\r\nLocation:\s*(\S+)", head, re.I)
    loc = location.group(1).decode("latin-1") if location else None
    server = re.search(rb"\r\nServer:\s*([^\r\n]+)", head, re.I)
    refused = status == 400 and bool(HTTPS_PORT_REFUSAL.search(body.decode("latin-1")))
    to_https = 300 <= status < 400 and bool(loc and loc.lower().startswith("https://"))
    return {
        "state": "open",
        "protocol": "http",
        "cleartext": not (refused or to_https),
        "status": status,
        "location": loc,
        "server": server.group(1).decode("latin-1")[:80] if server else None,
        "reason": (
            "plain HTTP refused (HTTPS port)"
            if refused
            else (f"redirects to {loc}" if to_https else f"HTTP {status} served in clear")
        ),
    }


def fetch(p, timeout):
    """GET an egress canary's URL, directly or through a forward proxy (absolute-form request, RFC 9112 3.2.2):
    was the canary's page (its marker) returned? The proxy's own answer (a 403 page) is not the canary's."""
    m = re.match(r"http://([^/:]+)(?::(\d+))?(/.*)?$", p["url"])
    if not m:
        return {"state": "error", "reason": f"not an http:// URL: {p['url'][:80]}"}
    host, port, path = m.group(1), int(m.group(2) or 80), m.group(3) or "/"
    if p.get("proxy"):
        phost, _, pport = p["proxy"].rpartition(":")
        where, target = (phost, int(pport)), p["url"]
    else:
        where, target = (host, port), path
    try:
        s = _connect(where[0], where[1], timeout)
    except OSError as exc:
        return _unreached(exc)
    with s:
        s.sendall(f"GET {target} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: preuve-egress-probe\r\n\r\n".encode())
        data = _recv_some(s, 8192, timeout, idle=0.5)
    status = re.match(rb"HTTP/\d\.\d (\d{3})", data)
    seen = p.get("marker", "").encode() in data if p.get("marker") else False
    return {
        "state": "open",
        "protocol": "http" if status else None,
        "status": int(status.group(1)) if status else None,
        "marker_seen": seen,
        "reason": (
            "canary page returned"
            if seen
            else f"answered {int(status.group(1)) if status else 'no HTTP'}" + " without the canary's marker"
        ),
    }


UDP_KINDS = {
    "snmp": (lambda p: _snmp_asks(p)[1], _snmp_result),
    "ipmi": (lambda p: [RMCP_PING, GET_CHANNEL_AUTH], _ipmi_result),
}


def udp_batch(probes, timeout=1.0, retries=1, rate=2000.0):
    """Every SNMP and IPMI probe from ONE unconnected socket: datagrams paced at `rate`, replies matched by the
    address and port they come from, one `timeout` after the last send, silent ones re-sent `retries` times. A
    sweep of thousands of UDP probes then costs n/rate + (retries + 1) * timeout, not a timeout per probe. (An
    ICMP error is not reported to an unconnected socket: a closed or filtered port reads as silent here; only
    an answer matters to these checks.)"""
    import select

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    peers = {(p["dst"], p["port"]): p for p in probes}
    replies = {p["id"]: [] for p in probes}
    tries = dict.fromkeys(replies, 0)

    def drain(wait):
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            ready, _, _ = select.select([s], [], [], max(left, 0))
            if ready:
                for _ in range(1024):
                    try:
                        data, peer = s.recvfrom(4096)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        continue
                    p = peers.get(peer[:2])
                    if p is not None:
                        replies[p["id"]].append(data)
            if left <= 0 and not ready:
                return

    try:
        for _attempt in range(retries + 1):
            pending = [p for p in probes if not replies[p["id"]]]
            if not pending:
                break
            t0 = time.monotonic()
            for sent, p in enumerate(pending, 1):
                tries[p["id"]] += 1
                for payload in UDP_KINDS[p["kind"]][0](p):
                    with contextlib.suppress(OSError):
                        s.sendto(payload, (p["dst"], p["port"]))
                if sent % 64 == 0:
                    drain(max(t0 + sent / rate - time.monotonic(), 0))
            drain(timeout)
    finally:
        s.close()
    return [{"id": p["id"], "tries": tries[p["id"]], **UDP_KINDS[p["kind"]][1](p, replies[p["id"]])} for p in probes]


def sweep(probes, timeout=1.0, retries=1, workers=64, rate=2000.0):
    """UDP probes batched on one socket (udp_batch), the TCP ones through the worker pool (run)."""
    udp = [p for p in probes if p["kind"] in UDP_KINDS]
    tcp = [p for p in probes if p["kind"] not in UDP_KINDS]
    out = udp_batch(udp, timeout, retries, rate) if udp else []
    return out + (run(tcp, timeout, retries, workers, rate) if tcp else [])


PROBERS = {"telnet": telnet, "ftp": ftp, "snmp": snmp, "ipmi": ipmi, "vnc": vnc, "http": http, "fetch": fetch}


def run(probes, timeout=1.0, retries=1, workers=64, rate=2000.0):
    """Every probe, at most `workers` in flight and `rate` starts per second (the segmentation budget)."""
    lock = threading.Lock()
    next_start = [time.monotonic()]

    def pace():
        with lock:
            now = time.monotonic()
            wait = next_start[0] - now
            next_start[0] = max(now, next_start[0]) + 1.0 / rate
        if wait > 0:
            time.sleep(wait)

    def one(p):
        tries = 0
        while True:
            tries += 1
            pace()
            try:
                r = PROBERS[p["kind"]](p, timeout)
            except Exception as exc:  # a parser surprise on one service must not hide the others
                r = {"state": "error", "reason": f"{type(exc).__name__}: {exc}"}
            if r["state"] != "silent" or tries > retries:
                return {"id": p["id"], "tries": tries, **r}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(probes) or 1))) as pool:
        return list(pool.map(one, probes))


def main():
    req = json.loads(sys.stdin.read())
    t0 = time.monotonic()
    results = sweep(
        req["probes"], req.get("timeout", 1.0), req.get("retries", 1), req.get("workers", 64), req.get("rate", 2000.0)
    )
    json.dump(
        {"results": results, "seconds": round(time.monotonic() - t0, 3), "python": sys.version.split()[0]}, sys.stdout
    )


if __name__ == "__main__":
    main()
