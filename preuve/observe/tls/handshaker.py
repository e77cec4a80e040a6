"""Full handshakes (nassl) and chain judging (cryptography) in a helper process, so that they use another core
than the probes, and their libraries load there.

Why: a full handshake costs 0.5-2 ms of CPU (key exchange, signature check, a second handshake when a server
renegotiates), and nassl holds the interpreter lock while OpenSSL computes. At 100 endpoints the 200 full
handshakes took ~0.28 s of CPU and ~0.25 s of wall time away from the probes on the same lock (measured: the
same observation without them, 0.36-0.45 s instead of 0.62-0.64 s). In a process of their own they run beside
the probes. Judging each presented chain (:mod:`.chain`, ~0.2 ms) goes there too: importing nassl and
``cryptography.x509`` with its verifier (~90 ms) then never takes the run's interpreter lock from the probes.

One helper per reactor (per process and network namespace: it is started from a thread of that namespace, so its
sockets are there too), started when a run plans more than one endpoint. It runs the functions of ``_WHERE`` on
its own threads (up to ``reactor.BLOCKING_WORKERS`` at once, as in-process: the handshakes mostly wait on the
network) and answers each request as soon as it is done. Requests made while it starts wait in its pipe (it says
``R`` once nassl is loaded, then loads cryptography). With no helper, or once it has ended, :class:`Handshake`
runs the same function on a thread of this process; requests queued to a helper that ended before it said ready
run here too (it had started none of them). What a helper that was running still owed becomes an error of those
requests, never a pass: it may be what ended it.

Protocol on the helper's stdin/stdout: frames of a 4-byte length and a pickle, ``(id, name, args)`` one way and
``(id, result)`` back; the helper writes ``R`` once ready. pickle is safe here: both ends are this module.
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from preuve.observe.tls import reactor as R

# Off in tests that compare both paths; on everywhere else.
ENABLED = os.environ.get("PREUVE_TLS_HANDSHAKER", "1") != "0"
# What a Handshake request runs (in the helper, or on a thread here), by name: the module holding it, and what that
# module needs loaded first. run_here is a whole endpoint's observation (the helper's own reactor).
_WHERE = {
    "full_session": "preuve.observe.tls.session",
    "renegotiation": "preuve.observe.tls.session",
    "certificate": "preuve.observe.tls.chain",
    "run_here": "preuve.observe.tls.prober",
}
_NEEDS = {
    "preuve.observe.tls.session": ("nassl.ssl_client", "nassl.legacy_ssl_client"),
    "preuve.observe.tls.chain": ("cryptography.x509", "cryptography.x509.verification"),
    "preuve.observe.tls.prober": (),  # what its probes need loads on first use, under the same lock
}
# Loaded by one thread at a time (whichever needs them first: the run's main thread warming up, or a thread of
# the prober): CPython 3.11's import deadlock detection can hand a thread a half-initialised module when several
# threads import intertwined packages (cryptography, nassl) at once.
_IMPORTS = threading.Lock()
_LOADED: dict[str, Callable[..., Any]] = {}


def function(name: str) -> Callable[..., Any]:
    """The function ``name`` of ``_WHERE``, its module and libraries loaded (once, under the import lock)."""
    fn = _LOADED.get(name)
    if fn is None:
        with _IMPORTS:
            module = _WHERE[name]
            for needed in _NEEDS[module]:
                importlib.import_module(needed)
            fn = _LOADED[name] = getattr(importlib.import_module(module), name)
    return fn


def load_here() -> None:
    """Load what this process needs to run the handshakes and judge chains itself (nassl, cryptography: ~90 ms):
    a run without a helper calls it from its main thread (the collector's warm hook, the first probes on the
    wire)."""
    for name in ("full_session", "certificate"):
        function(name)


def _failed(name: str, args: tuple, message: str) -> dict:
    """What a request that failed returns: the session functions' own failure shape (their third argument is
    the version), an ``error`` alone otherwise."""
    if _WHERE.get(name) == "preuve.observe.tls.session":
        return {"version": args[2], "error": message[:300]}
    return {"error": message[:300]}


class Helper:
    """This process's end of the helper: start it, send requests, route answers (reactor thread only, after
    construction)."""

    def __init__(self, reactor: R.Reactor) -> None:
        self.reactor = reactor
        self.ready = False
        self.ended = False
        # per request id: what to do with its answer, and how to run it here if the helper never started it
        self._pending: dict[int, tuple[Callable[[dict], None], Callable[[], None]]] = {}
        self._ids = itertools.count()
        self._buffer = bytearray()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "preuve.observe.tls.handshaker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        reactor._post(lambda: reactor.add_reader(self._fd, self._readable))

    def send(self, name: str, args: tuple, answer: Callable[[dict], None], here: Callable[[], None]) -> None:
        """Queue a request (read by the helper once ready); ``here`` runs it in this process instead if the helper
        ends before it ever said it was ready."""
        if self.ended:
            here()
            return
        rid = next(self._ids)
        data = pickle.dumps((rid, name, args))
        self._pending[rid] = (answer, here)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(struct.pack("!I", len(data)) + data)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            self._end()

    def _readable(self) -> None:
        try:
            chunk = os.read(self._fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._end()
            return
        self._buffer += chunk
        if not self.ready and self._buffer[:1] == b"R":
            self.ready = True
            del self._buffer[:1]
        while len(self._buffer) >= 4:
            (size,) = struct.unpack("!I", self._buffer[:4])
            if len(self._buffer) < 4 + size:
                break
            try:
                rid, result = pickle.loads(bytes(self._buffer[4 : 4 + size]))
            except Exception:  # a frame that does not decode: nothing it says can be trusted any more
                self.proc.kill()
                self._end()
                return
            del self._buffer[: 4 + size]
            pending = self._pending.pop(rid, None)
            if pending is not None:
                pending[0](result)

    def _end(self) -> None:
        """The helper is gone. Before it said ready it had started nothing: what was queued runs here. After, what
        it still owed becomes an error of those requests (never a pass)."""
        if self.ended:
            return
        was_ready = self.ready
        self.ended, self.ready = True, False
        self.reactor.remove_reader(self._fd)
        code = self.proc.poll()
        pending, self._pending = self._pending, {}
        for answer, here in pending.values():
            if was_ready:
                answer({"error": f"the handshake helper process ended (exit code {code})"})
            else:
                here()


_HELPERS: dict[int, Helper] = {}
_LOCK = threading.Lock()


def _reap() -> None:
    """At exit: end each helper (its stdin closed, it exits) and wait for it, so that its CPU time counts in this
    process's own accounting (/usr/bin/time, a CI runner's) instead of being left to whoever reaps it."""
    for helper in list(_HELPERS.values()):
        try:
            if helper.proc.stdin is not None:
                helper.proc.stdin.close()
            helper.proc.wait(timeout=2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            helper.proc.kill()


atexit.register(_reap)


def start(reactor: R.Reactor) -> Helper | None:
    """The reactor's helper, started on first call (from a thread of the reactor's network namespace)."""
    if not ENABLED:
        return None
    with _LOCK:
        helper = _HELPERS.get(id(reactor))
        if helper is None:
            try:
                helper = _HELPERS[id(reactor)] = Helper(reactor)
            except OSError:
                return None
        return helper


def running(reactor: R.Reactor) -> bool:
    """Has this reactor a helper that has not ended (ready, or still starting)?"""
    helper = _HELPERS.get(id(reactor))
    return helper is not None and not helper.ended


class Handshake(R.Request):
    """``<name>(*args)`` (one of ``_WHERE``) in the helper when this reactor has one that has not ended (queued
    while it starts), else on a thread here; holds one of the endpoint's slots while it runs, when given some."""

    def __init__(self, name: str, *args: Any, slots: R.Slots | None) -> None:
        self.name, self.args, self.slots = name, args, slots
        self.inner: R.Request | None = None
        self.cancelled = False

    def start(self, reactor: R.Reactor, task: Any) -> None:
        helper = _HELPERS.get(id(reactor))
        if helper is None or helper.ended:
            self._here(reactor, task)
            return

        def answer(result: dict) -> None:
            self._release()
            if not self.cancelled:
                if isinstance(result, dict) and set(result) == {"error"}:  # the helper failed: the request's shape
                    result = _failed(self.name, self.args, result["error"])
                reactor._resume(task, result, None)

        def here() -> None:
            self._release()
            if not self.cancelled:
                self._here(reactor, task)

        if self.slots is None:
            helper.send(self.name, self.args, answer, here)
        else:
            self.slots.acquire(lambda: helper.send(self.name, self.args, answer, here))

    def _here(self, reactor: R.Reactor, task: Any) -> None:
        name = self.name  # loaded on the worker thread, not the reactor's
        self.inner = R.Blocking(lambda *args: function(name)(*args), *self.args, slots=self.slots)
        self.inner.start(reactor, task)

    def _release(self) -> None:
        if self.slots is not None:
            self.slots.release()

    def cancel(self, reactor: R.Reactor) -> None:
        self.cancelled = True  # the helper cannot be stopped mid-request: its answer is dropped, the slot freed
        if self.inner is not None:
            self.inner.cancel(reactor)


# --- the helper process -----------------------------------------------------------------------


def _serve() -> None:
    from concurrent.futures import ThreadPoolExecutor

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    lock = threading.Lock()
    pool = ThreadPoolExecutor(R.BLOCKING_WORKERS, thread_name_prefix="preuve-handshake")

    from preuve.observe.errors import ObservationError

    def run(rid: int, name: str, args: tuple) -> None:
        try:
            if name not in _WHERE:
                raise ValueError(f"no such request: {name}")
            result = function(name)(*args)
        except ObservationError as exc:  # what the target showed cannot be judged: raised again in the run
            result = {"observation_error": str(exc)}
        except BaseException as exc:  # the session functions return their failures; anything else is a bug
            result = _failed(name, args, f"{type(exc).__name__}: {exc}")
        data = pickle.dumps((rid, result))
        with lock:
            sink.write(struct.pack("!I", len(data)) + data)
            sink.flush()

    function("full_session")  # nassl loaded before saying ready
    sink.write(b"R")
    sink.flush()
    pool.submit(function, "certificate")  # cryptography next (a chain to judge waits for it, under the lock)
    while True:
        head = source.read(4)
        if len(head) < 4:
            os._exit(0)  # the run is over (or gone): handshakes in flight are of no use to anyone
        (size,) = struct.unpack("!I", head)
        rid, name, args = pickle.loads(source.read(size))
        pool.submit(run, rid, name, args)


if __name__ == "__main__":
    _serve()
