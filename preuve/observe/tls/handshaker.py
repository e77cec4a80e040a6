"""Full handshakes (nassl) in a helper process, so that they use another core than the probes.

Why: a full handshake costs 0.5-2 ms of CPU (key exchange, signature check, a second handshake when a server
renegotiates), and nassl holds the interpreter lock while OpenSSL computes. At 100 endpoints the 200 full
handshakes took ~0.28 s of CPU and ~0.25 s of wall time away from the probes on the same lock (measured: the
same observation without them, 0.36-0.45 s instead of 0.62-0.64 s). In a process of their own they run beside
the probes.

One helper per reactor (per process and network namespace: it is started from a thread of that namespace, so its
sockets are there too), started with the reactor. It runs ``session.full_session`` and ``session.renegotiation``
on its own threads (up to ``reactor.BLOCKING_WORKERS`` at once, as in-process: the handshakes mostly wait on the
network) and answers each request as soon as it is done. Until it has said it is ready, and if it ever ends,
:class:`Handshake` runs the same function on a thread of this process instead: a one-endpoint run never waits
for the helper to start, and a helper that dies costs speed, never an observation.

Protocol on the helper's stdin/stdout: frames of a 4-byte length and a pickle, ``(id, name, args)`` one way and
``(id, result)`` back; the helper writes ``R`` once ready. pickle is safe here: both ends are this module.
"""

from __future__ import annotations

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
# What the prober runs off its probes, by name: the module holding it, and what that module needs loaded first.
# The helper runs the handshakes (session); the chain (.chain) is judged in-process, cheaply, once loaded.
_WHERE = {
    "full_session": "preuve.observe.tls.session",
    "renegotiation": "preuve.observe.tls.session",
    "certificate": "preuve.observe.tls.chain",
}
_HANDSHAKES = ("full_session", "renegotiation")
_NEEDS = {
    "preuve.observe.tls.session": ("nassl.ssl_client", "nassl.legacy_ssl_client"),
    "preuve.observe.tls.chain": ("cryptography.x509", "cryptography.x509.verification"),
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
    """Load what this process needs to run the handshakes and judge chains itself (nassl, cryptography: ~90 ms).
    A run calls it from its main thread: ahead of a one-endpoint observation, or while a sweep waits on the
    network for its first answers."""
    for name in _WHERE:
        function(name)


def _function(name: str) -> Callable[..., dict]:
    if name not in _HANDSHAKES:
        raise ValueError(f"no such handshake: {name}")
    fn: Callable[..., dict] = function(name)
    return fn


def _failed(args: tuple, message: str) -> dict:
    """What both session functions return when they fail (the version is their third argument)."""
    return {"version": args[2], "error": message[:300]}


class Helper:
    """This process's end of the helper: start it, send requests, route answers (reactor thread only, after
    construction)."""

    def __init__(self, reactor: R.Reactor) -> None:
        self.reactor = reactor
        self.ready = False
        self.ended = False
        self._pending: dict[int, Callable[[dict], None]] = {}
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

    def send(self, name: str, args: tuple, answer: Callable[[dict], None]) -> None:
        if self.ended:
            answer({"error": "the handshake helper process ended"})
            return
        rid = next(self._ids)
        data = pickle.dumps((rid, name, args))
        self._pending[rid] = answer
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
            answer = self._pending.pop(rid, None)
            if answer is not None:
                answer(result)

    def _end(self) -> None:
        """The helper is gone: what it still owed becomes an error of those side requests (never a pass)."""
        if self.ended:
            return
        self.ended, self.ready = True, False
        self.reactor.remove_reader(self._fd)
        code = self.proc.poll()
        pending, self._pending = self._pending, {}
        for answer in pending.values():
            answer({"error": f"the handshake helper process ended (exit code {code})"})


_HELPERS: dict[int, Helper] = {}
_LOCK = threading.Lock()


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


class Handshake(R.Request):
    """``session.<name>(*args)`` in the helper once it is ready, else on a thread here; holds one of the
    endpoint's slots while it runs."""

    def __init__(self, name: str, *args: Any, slots: R.Slots) -> None:
        self.name, self.args, self.slots = name, args, slots
        self.inner: R.Request | None = None
        self.cancelled = False

    def start(self, reactor: R.Reactor, task: Any) -> None:
        helper = _HELPERS.get(id(reactor))
        if helper is None or not helper.ready:
            name = self.name  # loaded on the worker thread, not the reactor's
            self.inner = R.Blocking(lambda *args: _function(name)(*args), *self.args, slots=self.slots)
            self.inner.start(reactor, task)
            return

        def answer(result: dict) -> None:
            self.slots.release()
            if not self.cancelled:
                if "error" in result and "version" not in result:
                    result = _failed(self.args, result["error"])
                reactor._resume(task, result, None)

        self.slots.acquire(lambda: helper.send(self.name, self.args, answer))

    def cancel(self, reactor: R.Reactor) -> None:
        self.cancelled = True  # the helper cannot be stopped mid-handshake: its answer is dropped, the slot freed
        if self.inner is not None:
            self.inner.cancel(reactor)


# --- the helper process -----------------------------------------------------------------------


def _serve() -> None:
    from concurrent.futures import ThreadPoolExecutor

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    lock = threading.Lock()
    pool = ThreadPoolExecutor(R.BLOCKING_WORKERS, thread_name_prefix="preuve-handshake")

    def run(rid: int, name: str, args: tuple) -> None:
        try:
            result = _function(name)(*args)
        except BaseException as exc:  # the session functions return their failures; anything else is a bug
            result = _failed(args, f"{type(exc).__name__}: {exc}")
        data = pickle.dumps((rid, result))
        with lock:
            sink.write(struct.pack("!I", len(data)) + data)
            sink.flush()

    _function("full_session")  # nassl loaded before saying ready
    sink.write(b"R")
    sink.flush()
    while True:
        head = source.read(4)
        if len(head) < 4:
            os._exit(0)  # the run is over (or gone): handshakes in flight are of no use to anyone
        (size,) = struct.unpack("!I", head)
        rid, name, args = pickle.loads(source.read(size))
        pool.submit(run, rid, name, args)


if __name__ == "__main__":
    _serve()
