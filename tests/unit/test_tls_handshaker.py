"""Full handshakes and chain judging in the helper process give exactly what they give in-process; requests made
while it starts wait for it; a helper that dies before it is ready has started nothing, so what was queued runs
in-process; one that dies later turns what it owed into errors of those requests (never a pass) while the next
ones run in-process. Against a
stdlib TLS server on 127.0.0.1 that answers HTTP with an HSTS header."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from support.tls_servers import LOOPBACK, make_self_signed, threaded_server

from preuve.observe.tls import handshaker
from preuve.observe.tls.reactor import Reactor, Slots

HSTS = "max-age=31536000; includeSubDomains"


@contextlib.contextmanager
def https_server(tmp: Path) -> Iterator[int]:
    cert = make_self_signed(tmp, "hs", ec.generate_private_key(ec.SECP256R1()), hashes.SHA256(), days=30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)

    def handle(raw: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), ctx.wrap_socket(raw, server_side=True) as conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            body = b"ok"
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: " + HSTS.encode() + b"\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\n" + body
            )

    with threaded_server(handle) as port:
        yield port


async def _handshake(name: str, *args: Any) -> dict:
    return await handshaker.Handshake(name, *args, slots=Slots(2))  # type: ignore[no-any-return]


def _helper_ready(reactor: Reactor) -> handshaker.Helper:
    helper = handshaker.start(reactor)
    assert helper is not None
    deadline = time.monotonic() + 20
    while not helper.ready:
        assert time.monotonic() < deadline, "the helper never said it was ready"
        time.sleep(0.02)
    return helper


def _session(reactor: Reactor, port: int) -> dict:
    args = (LOOPBACK, port, "TLSv1.2", "localhost", 5.0, ("/", f"localhost:{port}"))
    return reactor.submit(_handshake("full_session", *args)).result(20)  # type: ignore[no-any-return]


def test_helper_and_in_process_give_the_same_answer(tmp_path: Path) -> None:
    with https_server(tmp_path) as port:
        in_process = Reactor()
        in_process.thread.start()
        here = _session(in_process, port)  # no helper for this reactor: a thread of this process
        helped = Reactor()
        helped.thread.start()
        helper = _helper_ready(helped)
        there = _session(helped, port)
        assert next(helper._ids) == 1  # that one went through the helper
    assert "error" not in here, here
    assert here == there
    assert here["http"]["strict_transport_security"] == [HSTS]
    assert here["chain_der"]  # bytes crossed the pipe intact


def test_a_dead_helper_fails_what_it_owed_and_the_next_run_here(tmp_path: Path) -> None:
    reactor = Reactor()
    reactor.thread.start()
    helper = _helper_ready(reactor)
    with silent_tls_port() as silent:
        args = (LOOPBACK, silent, "TLSv1.2", "localhost", 30.0, None)
        owed = reactor.submit(_handshake("full_session", *args))
        time.sleep(0.3)  # the request is in the helper, waiting on a server that never answers
        helper.proc.kill()
        answer = owed.result(10)
    assert answer["version"] == "TLSv1.2"
    assert "handshake helper process ended" in answer["error"]
    with https_server(tmp_path) as port:
        after = _session(reactor, port)
    assert "error" not in after and after["http"]["strict_transport_security"] == [HSTS]


def test_a_chain_judged_in_the_helper_equals_the_chain_judged_here(tmp_path: Path) -> None:
    with https_server(tmp_path) as port:
        plain = Reactor()
        plain.thread.start()
        chain_der = _session(plain, port)["chain_der"]
        here = plain.submit(_request("certificate", chain_der, "localhost", False)).result(20)
        helped = Reactor()
        helped.thread.start()
        helper = handshaker.start(helped)
        assert helper is not None and not helper.ready
        there = helped.submit(_request("certificate", chain_der, "localhost", False)).result(30)  # queued
    assert helper.ready and next(helper._ids) == 1  # sent before the helper was ready, answered by it
    assert here == there
    assert here["chain"][0]["subject"] and here["hostname_matches"] is True


def test_what_was_queued_to_a_helper_that_never_started_runs_here(tmp_path: Path) -> None:
    reactor = Reactor()
    reactor.thread.start()
    helper = handshaker.start(reactor)
    assert helper is not None
    with https_server(tmp_path) as port:
        args = (LOOPBACK, port, "TLSv1.2", "localhost", 5.0, ("/", f"localhost:{port}"))
        queued = reactor.submit(_handshake("full_session", *args))
        deadline = time.monotonic() + 5
        while not helper._pending:  # in its pipe (the reactor thread sends it)
            assert time.monotonic() < deadline
            time.sleep(0.001)
        helper.proc.kill()  # before it ever says ready (it takes ~0.1 s to load nassl)
        answer = queued.result(20)
    assert not helper.ready and next(helper._ids) == 1  # it was sent there, and answered here
    assert "error" not in answer, answer
    assert answer["http"]["strict_transport_security"] == [HSTS]


def test_an_endpoint_observed_in_the_helper_gives_the_facts_observed_here(tmp_path: Path) -> None:
    """A large run observes every other endpoint in the helper process (prober.run_one): same facts."""
    from preuve.observe.tls.prober import Endpoint, run_here

    with https_server(tmp_path) as port:
        ep = Endpoint(LOOPBACK, port, "localhost", "/", 5.0)
        here = run_here(ep)
        reactor = Reactor()
        reactor.thread.start()
        helper = _helper_ready(reactor)
        there = reactor.submit(_request("run_here", ep)).result(30)
    assert next(helper._ids) == 1
    assert isinstance(here, tuple) and isinstance(there, tuple), (here, there)
    assert here[0] == there[0]
    assert here[0]["versions"]["TLSv1.2"] and here[0]["hsts"]["max_age"] == 31536000
    assert sorted(p["probe"] for p in here[1]["probes"]) == sorted(p["probe"] for p in there[1]["probes"])


async def _request(name: str, *args: Any) -> dict:
    return await handshaker.Handshake(name, *args, slots=None)  # type: ignore[no-any-return]


@contextlib.contextmanager
def silent_tls_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handshaker, "ENABLED", True)
