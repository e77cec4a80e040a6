"""Raw-socket TCP SYN and ICMP echo scanning (root): every probe sent once, replies matched as they come.

Why not one scapy ``sr1`` per probe: a dropped port costs a full timeout each, and scapy's per-packet work caps
the send rate near a thousand per second; 10,000 probes must fit in seconds. So, like nmap, the scanner sends
paced SYNs from one raw socket, reads every reply on raw TCP and ICMP sockets, waits one timeout after the last
send, and re-sends only what stayed silent. Headers are 20 bytes each, packed with struct. The local kernel
answers a SYN-ACK with a reset (no socket owns the port), so the target never keeps a half-open connection.

Classification (nmap --reason naming): SYN-ACK -> open (syn-ack); RST -> closed (reset: the packet reached a
host) unless a middlebox sent it, see below; ICMP destination unreachable -> filtered (admin-prohibited,
port-unreachable... with the code and the address that sent it); nothing after every retry -> silent.

Whose reset? A firewall that REJECTs `with tcp reset` (nftables, iptables REJECT --reject-with tcp-reset) answers
in the destination's name, so the source address proves nothing. Its distance does: every router decrements the
TTL, so a reset made n hops away arrives with (initial TTL - n), the initial TTL being 64 (Linux, BSD), 128
(Windows) or 255 (network gear). Two signals, the first available decides, and the reason quotes it:
1. the destination's own replies in the same scan (a SYN-ACK on another port, an ICMP echo reply): a reset that
   travelled fewer hops than they did came from a middlebox (filtered); as many: from the destination (closed);
2. else a TTL-limited SYN (TTL = the reset's hop count + 1) to the same port: an ICMP time-exceeded proves a
   router still stood between that hop and the destination, so the reset came from before it (filtered); a
   reset again means nothing forwards the packet any further: the destination's own (closed). No answer: the
   origin stays undetermined and the reset is taken as the host's (closed, said so): a reset that may have
   crossed every filter is never called blocked without evidence.
Not told apart: a transparent (bridging) firewall that does not decrement the TTL.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ICMP_UNREACH = {
    0: "net-unreachable",
    1: "host-unreachable",
    2: "protocol-unreachable",
    3: "port-unreachable",
    9: "net-prohibited",
    10: "host-prohibited",
    13: "admin-prohibited",
}


@dataclass
class Outcome:
    state: str
    reason: str
    tries: int
    ttl: int | None = None  # IP TTL of the reply (SYN-ACK, RST, echo reply)


def hops(ttl: int) -> int:
    """Routers a reply crossed, from the usual initial TTL just above it (64, 128 or 255)."""
    return next(init for init in (64, 128, 255) if ttl <= init) - ttl


def _syn_limited(ttl: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    return s


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total >> 16) + (total & 0xFFFF)
    return total


def _csum(data: bytes) -> int:
    return ~_sum16(data) & 0xFFFF


def _syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    head = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 1024, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(head))
    return head[:16] + struct.pack("!H", _csum(pseudo + head)) + head[18:]


def _echo(ident: int, seq: int) -> bytes:
    body = b"preuve-probe"
    head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _csum(head + body), ident, seq) + body


def source_for(dst: str) -> str:
    """The local address the kernel would use to reach dst (no packet sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((dst, 9))
        return s.getsockname()[0]


def scan(
    probes: Iterable[tuple[int, str, str, int | None]],
    *,
    timeout: float = 1.0,
    retries: int = 1,
    rate: float = 20000.0,
) -> dict[int, Outcome]:
    """probes: (key, dst, "tcp"|"icmp", port). Runs in the calling thread's network namespace; needs root."""
    todo = {key: (dst, proto, port) for key, dst, proto, port in probes}
    if any(p not in ("tcp", "icmp") for _, p, _ in todo.values()):
        raise ValueError("synscan handles tcp and icmp; use probe_remote for udp")
    sport = random.randint(40000, 59998)
    limited_sport = sport + 1  # the TTL-limited SYNs' source port, to tell their replies apart
    limited: dict[tuple[str, int], tuple[str, str]] = {}  # (dst, port) -> ("reset" | "time-exceeded", sender)
    ident = (os.getpid() ^ sport) & 0xFFFF
    by_tcp = {(dst, port): k for k, (dst, proto, port) in todo.items() if proto == "tcp"}
    by_icmp = {(dst, i & 0xFFFF): k for i, (k, (dst, proto, _)) in enumerate(todo.items()) if proto == "icmp"}
    icmp_seq = {k: seq for (_, seq), k in by_icmp.items()}
    done: dict[int, Outcome] = {}
    tries: dict[int, int] = dict.fromkeys(todo, 0)
    srcs: dict[str, bytes] = {}

    tx_tcp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx_icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    socks = (tx_tcp, rx_icmp)
    try:
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.setblocking(False)

        def on_tcp(pkt: bytes) -> None:
            ihl = (pkt[0] & 0x0F) * 4
            src = socket.inet_ntoa(pkt[12:16])
            p_sport, p_dport = struct.unpack("!HH", pkt[ihl : ihl + 4])
            flags = pkt[ihl + 13]
            if p_dport == limited_sport:
                if flags & 0x04:
                    limited.setdefault((src, p_sport), ("reset", src))
                return
            if p_dport != sport:
                return
            key = by_tcp.get((src, p_sport))
            if key is None or key in done:
                return
            if flags & 0x12 == 0x12:
                done[key] = Outcome("open", "syn-ack", tries[key], pkt[8])
            elif flags & 0x04:
                done[key] = Outcome("closed", "reset", tries[key], pkt[8])

        def on_icmp(pkt: bytes) -> None:
            ihl = (pkt[0] & 0x0F) * 4
            sender = socket.inet_ntoa(pkt[12:16])
            itype, code = pkt[ihl], pkt[ihl + 1]
            if itype == 0:
                p_ident, seq = struct.unpack("!HH", pkt[ihl + 4 : ihl + 8])
                key = by_icmp.get((sender, seq)) if p_ident == ident else None
                if key is not None and key not in done:
                    done[key] = Outcome("open", "echo-reply", tries[key], pkt[8])
                return
            if itype not in (3, 11):
                return
            inner = pkt[ihl + 8 :]
            if len(inner) < 28:
                return
            iihl = (inner[0] & 0x0F) * 4
            proto, dst = inner[9], socket.inet_ntoa(inner[16:20])
            if itype == 11:  # time exceeded: only the TTL-limited SYNs ask for it
                if proto == socket.IPPROTO_TCP:
                    o_sport, o_dport = struct.unpack("!HH", inner[iihl : iihl + 4])
                    if o_sport == limited_sport:
                        limited.setdefault((dst, o_dport), ("time-exceeded", sender))
                return
            why = f"icmp {ICMP_UNREACH.get(code, f'unreachable code {code}')} from {sender}"
            if proto == socket.IPPROTO_TCP:
                o_sport, o_dport = struct.unpack("!HH", inner[iihl : iihl + 4])
                key = by_tcp.get((dst, o_dport)) if o_sport == sport else None
            elif proto == socket.IPPROTO_ICMP:
                o_ident, seq = struct.unpack("!HH", inner[iihl + 4 : iihl + 8])
                key = by_icmp.get((dst, seq)) if o_ident == ident else None
            else:
                key = None
            if key is not None and key not in done:
                done[key] = Outcome("filtered", why, tries[key])

        def drain(wait: float) -> None:
            end = time.monotonic() + wait
            while True:
                left = end - time.monotonic()
                ready, _, _ = select.select(socks, [], [], max(left, 0))
                for s in ready:
                    handler = on_tcp if s is tx_tcp else on_icmp
                    for _ in range(4096):
                        try:
                            handler(s.recv(65535))
                        except BlockingIOError:
                            break
                        except (IndexError, struct.error):
                            continue
                if left <= 0 and not ready:
                    return

        for _attempt in range(retries + 1):
            pending = [k for k in todo if k not in done]
            if not pending:
                break
            t0 = time.monotonic()
            for n, key in enumerate(pending):
                dst, proto, port = todo[key]
                tries[key] += 1
                if dst not in srcs:
                    srcs[dst] = socket.inet_aton(source_for(dst))
                if proto == "tcp":
                    pkt = _syn(srcs[dst], socket.inet_aton(dst), sport, int(port or 0), random.getrandbits(32))
                    _send(tx_tcp, pkt, dst)
                else:
                    _send(rx_icmp, _echo(ident, icmp_seq[key]), dst)
                if n % 64 == 63:
                    ahead = t0 + (n + 1) / rate - time.monotonic()
                    drain(max(ahead, 0))
            drain(timeout)
        for key in todo:
            if key not in done:
                done[key] = Outcome("silent", "no-response", tries[key])
        _attribute_resets(todo, done, limited, srcs, limited_sport, timeout, retries, drain)
        return done
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


def _send_limited(src: bytes, dst: str, sport: int, port: int, ttl: int) -> None:
    with _syn_limited(ttl) as s:
        _send(s, _syn(src, socket.inet_aton(dst), sport, port, random.getrandbits(32)), dst)


def _attribute_resets(
    todo: dict,
    done: dict[int, Outcome],
    limited: dict,
    srcs: dict[str, bytes],
    sport: int,
    timeout: float,
    retries: int,
    drain: Any,
    send: Any = _send_limited,
) -> None:
    """Decide whose every reset is (see the module docstring), rewriting its outcome with the deciding signal."""
    resets = {k: o for k, o in done.items() if o.reason == "reset" and o.ttl is not None}
    if not resets:
        return
    ref: dict[str, tuple[int, str]] = {}
    for k, o in done.items():
        if o.state == "open" and o.ttl is not None:
            dst, proto, port = todo[k]
            what = f"SYN-ACK on tcp/{port}" if proto == "tcp" else "ICMP echo reply"
            if dst not in ref or hops(o.ttl) < ref[dst][0]:
                ref[dst] = (hops(o.ttl), f"its {what} (TTL {o.ttl}, {hops(o.ttl)} hop(s))")
    asks: dict[tuple[str, int], int] = {}  # (dst, hop count) -> one port of it to send a TTL-limited SYN to
    for k, o in resets.items():
        dst, _, port = todo[k]
        if dst not in ref:
            asks.setdefault((dst, hops(o.ttl)), int(port or 0))
    if asks:
        for _attempt in range(retries + 1):
            pending = [(d, h) for (d, h), p in asks.items() if (d, p) not in limited]
            if not pending:
                break
            for dst, h in pending:
                send(srcs[dst], dst, sport, asks[(dst, h)], h + 1)
            drain(timeout)
    for k, o in resets.items():
        dst, _, port = todo[k]
        h = hops(o.ttl or 0)
        rst = f"RST TTL {o.ttl} ({h} hop(s))"
        if dst in ref:
            if h < ref[dst][0]:
                done[k] = Outcome(
                    "filtered", f"reset from a middlebox: {rst}, fewer than {ref[dst][1]}", o.tries, o.ttl
                )
            else:
                done[k] = Outcome("closed", f"reset from the destination: {rst}, as {ref[dst][1]}", o.tries, o.ttl)
            continue
        answer = limited.get((dst, asks[(dst, h)]))
        probe = f"a SYN with TTL {h + 1} to tcp/{asks[(dst, h)]}"
        if answer and answer[0] == "time-exceeded":
            done[k] = Outcome(
                "filtered",
                f"reset from a middlebox: {rst}; {probe} got ICMP time-exceeded from "
                f"{answer[1]}, a router before {dst}",
                o.tries,
                o.ttl,
            )
        elif answer:
            done[k] = Outcome(
                "closed",
                f"reset from the destination: {rst}; {probe} drew a reset again (nothing forwards it further)",
                o.tries,
                o.ttl,
            )
        else:
            done[k] = Outcome(
                "closed",
                f"reset of undetermined origin, taken as the host's: {rst}; no reply of "
                f"{dst} to compare with, no answer to {probe}",
                o.tries,
                o.ttl,
            )


def _send(sock: socket.socket, pkt: bytes, dst: str) -> None:
    for _ in range(100):
        try:
            sock.sendto(pkt, (dst, 0))
            return
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            return  # e.g. EPERM from a local firewall: the probe stays unanswered and is retried


def can_raw() -> bool:
    """Raw sockets need CAP_NET_RAW (root); without them the connect() prober is used."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP).close()
        return True
    except PermissionError:
        return False
