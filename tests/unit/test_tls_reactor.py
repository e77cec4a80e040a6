"""The prober's reactor on its own, against scripted servers on 127.0.0.1: answers reach the probe, silence and
refusal become the right errors within the timeout, at most ``Slots.limit`` connections per endpoint are ever
open, ``gather`` keeps order and its limit, and the first error cancels the rest without leaking a socket."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from support.tls_servers import LOOPBACK, closed_port, silent_server, threaded_server

from preuve.observe.tls.reactor import Blocking, ConnectFailed, Exchange, Reactor, ReadTimeout, Slots, gather


@pytest.fixture(scope="module")
def reactor() -> Reactor:
    r = Reactor()
    r.thread.start()
    return r


@contextlib.contextmanager
def echo_server(delay: float = 0.0) -> Iterator[tuple[int, dict[str, int]]]:
    """Echoes the first chunk of each connection after ``delay``; counts the connections waiting for their answer
    at once (each holds one of the client's slots)."""
    stats = {"open": 0, "peak": 0, "total": 0}
    lock = threading.Lock()

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            data = conn.recv(65536)
            with lock:  # between the question and the answer, the client's connection is surely open
                stats["open"] += 1
                stats["total"] += 1
                stats["peak"] = max(stats["peak"], stats["open"])
            time.sleep(delay)
            with lock:
                stats["open"] -= 1
            conn.sendall(data)
            conn.recv(1)  # until the client hangs up

    with threaded_server(handle) as port:
        yield port, stats


async def _echo(port: int, payload: bytes, slots: Slots, timeout: float = 2.0) -> bytes:
    got: list[bytes] = []

    def sink(data: bytes | None) -> bool:
        if data:
            got.append(data)
        return sum(map(len, got)) >= len(payload) or not data

    await Exchange((LOOPBACK, port), payload, sink, timeout, slots)
    return b"".join(got)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_answers_reach_the_probe_in_order(reactor: Reactor) -> None:
    with echo_server() as (port, _):
        slots = Slots(4)
        out = reactor.submit(_all(*(_echo(port, f"hello {i}".encode(), slots) for i in range(20)))).result(10)
    assert out == [f"hello {i}".encode() for i in range(20)]


def test_at_most_limit_connections_per_endpoint(reactor: Reactor) -> None:
    with echo_server(delay=0.05) as (port, stats):
        slots = Slots(3)
        reactor.submit(_all(*(_echo(port, b"x", slots) for _ in range(15)))).result(10)
        time.sleep(0.05)
    assert stats["total"] == 15
    assert 2 <= stats["peak"] <= 3, stats  # 15 probes, never more than 3 at once (and more than one)


def test_gather_limit_bounds_tasks_at_once(reactor: Reactor) -> None:
    running = {"now": 0, "peak": 0}

    async def one(i: int, port: int) -> int:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        await _echo(port, b"y", Slots(1))
        running["now"] -= 1
        return i

    with echo_server(delay=0.01) as (port, _):
        out = reactor.submit(_all(*(one(i, port) for i in range(12)), limit=4)).result(10)
    assert out == list(range(12))
    assert running["peak"] == 4


def test_silent_server_is_a_read_timeout_within_the_timeout(reactor: Reactor) -> None:
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            reactor.submit(_echo(port, b"hello", Slots(1), timeout=0.3)).result(5)
        assert 0.25 < time.monotonic() - started < 2.0


def test_closed_port_is_refused(reactor: Reactor) -> None:
    with pytest.raises(ConnectFailed) as err:
        reactor.submit(_echo(closed_port(), b"hello", Slots(1))).result(5)
    assert err.value.reason == "refused"


def test_first_error_cancels_the_rest_and_closes_their_sockets(reactor: Reactor) -> None:
    """One probe refused while the others wait on a silent server: the error comes back at once (not after the
    others' timeouts) and no socket is left open."""
    before = _open_fds()
    with silent_server() as silent:
        slots = Slots(8)
        refused = closed_port()

        async def late_refusal() -> bytes:
            await Blocking(time.sleep, 0.1)
            return await _echo(refused, b"x", slots)

        started = time.monotonic()
        waiting = [_echo(silent, b"x", slots, timeout=30) for _ in range(5)]
        with pytest.raises(ConnectFailed):
            reactor.submit(_all(*waiting, late_refusal())).result(10)
        assert time.monotonic() - started < 5
        time.sleep(0.05)
        assert slots.used == 0 and not slots.waiting
    assert _open_fds() <= before


def test_blocking_errors_reach_the_probe_and_release_the_slot(reactor: Reactor) -> None:
    def boom() -> None:
        raise ValueError("broken")

    slots = Slots(1)
    with pytest.raises(ValueError, match="broken"):
        reactor.submit(_await(Blocking(boom, slots=slots))).result(5)
    time.sleep(0.05)
    assert slots.used == 0


async def _await(request: Blocking) -> object:
    return await request


async def _all(*coros: Coroutine[Any, Any, Any], limit: int | None = None) -> list[Any]:
    return await gather(*coros, limit=limit)
