"""Whose reset is it? The TTL rules of preuve.observe.network.synscan, on replies whose TTLs we set (no network): the
lab tests (tests/lab/test_segmentation_probes.py) show the same rules on the real routed lab."""

from __future__ import annotations

import socket
import struct

from preuve.observe.network import probe_remote
from preuve.observe.network.synscan import Outcome, _attribute_resets, hops


def test_hop_count_from_the_usual_initial_ttls():
    assert [hops(t) for t in (64, 63, 57, 128, 120, 255, 250)] == [0, 1, 7, 0, 8, 0, 5]


def _attribute(done: dict[int, Outcome], todo: dict[int, tuple]) -> dict[int, Outcome]:
    sent = []
    _attribute_resets(todo, done, {}, {}, 40001, 0.1, 0, lambda _t: sent.append(_t))
    assert not sent  # a reference reply decides: no TTL-limited SYN is sent
    return done


def test_a_reset_closer_than_the_destinations_syn_ack_is_a_middlebox():
    todo = {1: ("192.0.2.5", "tcp", 443), 2: ("192.0.2.5", "tcp", 8080), 3: ("192.0.2.5", "tcp", 9)}
    done = {
        1: Outcome("open", "syn-ack", 1, 61),
        2: Outcome("closed", "reset", 1, 63),
        3: Outcome("closed", "reset", 1, 61),
    }
    out = _attribute(done, todo)
    assert out[2].state == "filtered"
    assert out[2].reason == (
        "reset from a middlebox: RST TTL 63 (1 hop(s)), fewer than its SYN-ACK on tcp/443 (TTL 61, 3 hop(s))"
    )
    assert out[3].state == "closed"
    assert out[3].reason == (
        "reset from the destination: RST TTL 61 (3 hop(s)), as its SYN-ACK on tcp/443 (TTL 61, 3 hop(s))"
    )


def test_a_windows_destination_is_measured_against_its_own_initial_ttl():
    todo = {1: ("192.0.2.6", "icmp", None), 2: ("192.0.2.6", "tcp", 3389)}
    out = _attribute({1: Outcome("open", "echo-reply", 1, 126), 2: Outcome("closed", "reset", 1, 126)}, todo)
    assert out[2].state == "closed" and "as its ICMP echo reply (TTL 126, 2 hop(s))" in out[2].reason


def test_no_reference_and_no_answer_is_taken_as_the_hosts_reset_and_said_so():
    todo = {1: ("192.0.2.7", "tcp", 22)}
    done = {1: Outcome("closed", "reset", 1, 64)}
    _attribute_resets(
        todo,
        done,
        {},
        {"192.0.2.7": socket.inet_aton("192.0.2.1")},
        40001,
        0.0,
        0,
        lambda _t: None,
        send=lambda *_a: None,
    )
    assert done[1].state == "closed"
    assert done[1].reason.startswith("reset of undetermined origin, taken as the host's: RST TTL 64 (0 hop(s))")


def test_udp_port_unreachable_offender_is_read_from_the_error_queue():
    """IP_RECVERR on loopback: the kernel's own port-unreachable names 127.0.0.1, the destination itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state, reason = probe_remote.udp("127.0.0.1", port, 1.0)
    assert (state, reason) == ("closed", "icmp port-unreachable from 127.0.0.1")
    assert struct.calcsize("=IBBBBII") == 16  # sock_extended_err, before the offender's sockaddr_in
