"""Stdlib-only port prober: run anywhere Python 3 is (sent over SSH to a remote vantage, or used locally).

Reads {"probes": [{"id", "dst", "proto", "port"}], "timeout", "retries", "workers", "rate"} as JSON on stdin and
prints {"results": [{"id", "state", "reason", "tries"}]}. No raw sockets here (no root assumed), so the
states come from connect(2) errors, which Linux maps from what came back:
  TCP  connected -> open; ECONNREFUSED -> closed (a reset; an ICMP port-unreachable reads the same; whether
       a firewall sent the reset cannot be seen without raw sockets: it is taken as the host's, and said so);
       EHOSTUNREACH / ENETUNREACH / EACCES -> filtered (ICMP host or admin prohibited); timeout -> silent.
  UDP  an answer -> open; ECONNREFUSED -> closed (ICMP port-unreachable from the destination itself) or filtered
       when another address sent it (a firewall's `reject`: IP_RECVERR gives the offender); EHOSTUNREACH /
       ENETUNREACH (ICMP 3/9, 3/10, 3/13: administratively prohibited) -> filtered; else silent.
  ICMP echo reply -> open (ping socket, needs net.ipv4.ping_group_range or root); none -> silent.
Keep this file free of non-stdlib imports: it is shipped as-is to the remote host.
"""

import contextlib
import errno
import json
import os
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

FILTERED = {
    errno.EHOSTUNREACH: "icmp host-unreachable/admin-prohibited",
    errno.ENETUNREACH: "icmp net-unreachable",
    errno.EACCES: "icmp admin-prohibited (EACCES)",
    errno.EPERM: "local firewall (EPERM)",
}
TIMEOUTS = {errno.EAGAIN, errno.ETIMEDOUT, errno.EINPROGRESS}
IP_RECVERR = 11  # linux/in.h; socket.IP_RECVERR is missing from older Pythons
UNREACH_CODES = {
    0: "net-unreachable",
    1: "host-unreachable",
    9: "net-prohibited",
    10: "host-prohibited",
    13: "admin-prohibited",
}

# Payloads that make a UDP service answer (else silence is ambiguous): DNS, NTP mode 3, SNMP v1 get.
UDP_PAYLOADS = {
    53: bytes.fromhex("abcd01000001000000000000000002") + b"\x00\x00\x01\x00\x01",
    123: b"\x1b" + 47 * b"\0",
    161: bytes.fromhex("302602010004067075626c6963a0190204000000010201000201003010300e060a2b060102010101000500"),
}


def tcp(dst, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        err = s.connect_ex((dst, port))
    except (TimeoutError, socket.timeout):  # noqa: UP041 (remote Pythons older than 3.10)
        err = errno.ETIMEDOUT
    except OSError as exc:
        err = exc.errno or errno.EIO
    finally:
        s.close()
    if err == 0:
        return "open", "connected (syn-ack)"
    if err == errno.ECONNREFUSED:
        return "closed", "connection refused (reset; origin not measurable by connect(), taken as the host's)"
    if err in FILTERED:
        return "filtered", FILTERED[err]
    if err in TIMEOUTS:
        return "silent", "no response"
    return "error", f"connect: {os.strerror(err)}"


def offender(s):
    """(ICMP type, code, address that sent it) of the error queued on a socket with IP_RECVERR, or None."""
    try:
        _, anc, _, _ = s.recvmsg(64, 256, socket.MSG_ERRQUEUE)
    except OSError:
        return None
    for level, kind, data in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 24:
            # struct sock_extended_err (16 bytes: errno, origin, type, code, pad, info, data), then sockaddr_in
            itype, code = data[5], data[6]
            return itype, code, socket.inet_ntoa(data[20:24])
    return None


def udp(dst, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    with contextlib.suppress(OSError):  # not Linux: no offender, the errno alone decides
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    try:
        s.connect((dst, port))
        s.send(UDP_PAYLOADS.get(port, b"preuve-probe\n"))
        s.recv(2048)
        return "open", "udp response"
    except (TimeoutError, socket.timeout):  # noqa: UP041 (remote Pythons older than 3.10)
        return "silent", "no response (open|filtered)"
    except ConnectionRefusedError:
        who = offender(s)
        if who and who[2] != dst:
            return "filtered", f"icmp port-unreachable from {who[2]}, not from {dst}: a filter rejected it"
        return "closed", f"icmp port-unreachable from {who[2] if who else 'the destination'}"
    except OSError as exc:
        if exc.errno in FILTERED:
            who = offender(s)
            if who and who[0] == 3:  # the ICMP itself: 3/9, 3/10, 3/13 are the administratively prohibited ones
                name = UNREACH_CODES.get(who[1], "unreachable")
                return "filtered", f"icmp {name} (type 3 code {who[1]}) from {who[2]}"
            return "filtered", FILTERED[exc.errno]
        return "error", f"udp: {exc.strerror}"
    finally:
        s.close()


def icmp(dst, _port, timeout):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    except OSError:
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        except OSError as exc:
            return "error", f"cannot open an ICMP socket: {exc.strerror}"
    s.settimeout(timeout)
    ident, body = os.getpid() & 0xFFFF, b"preuve"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    csum = _checksum(header + body)
    try:
        s.sendto(struct.pack("!BBHHH", 8, 0, csum, ident, 1) + body, (dst, 0))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            data, peer = s.recvfrom(2048)
            if s.type == socket.SOCK_RAW:
                data = data[(data[0] & 0x0F) * 4 :]
            if peer[0] == dst and data[:1] == b"\x00":
                return "open", "echo-reply"
        return "silent", "no response"
    except (TimeoutError, socket.timeout):  # noqa: UP041 (remote Pythons older than 3.10)
        return "silent", "no response"
    except OSError as exc:
        if exc.errno in FILTERED:
            return "filtered", FILTERED[exc.errno]
        return "error", f"icmp: {exc.strerror}"
    finally:
        s.close()


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


PROBERS = {"tcp": tcp, "udp": udp, "icmp": icmp}


def run(probes, timeout=1.0, retries=1, workers=64, rate=2000.0):
    """Probe everything with at most `workers` in flight and `rate` starts per second; silent ones are retried."""
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
            state, reason = PROBERS[p["proto"]](p["dst"], p.get("port"), timeout)
            if state != "silent" or tries > retries:
                return {"id": p["id"], "state": state, "reason": reason, "tries": tries}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(probes) or 1))) as pool:
        return list(pool.map(one, probes))


def main():
    req = json.loads(sys.stdin.read())
    t0 = time.monotonic()
    results = run(
        req["probes"], req.get("timeout", 1.0), req.get("retries", 1), req.get("workers", 64), req.get("rate", 2000.0)
    )
    json.dump(
        {
            "results": results,
            "seconds": round(time.monotonic() - t0, 3),
            "python": sys.version.split()[0],
            "mode": "connect",
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
