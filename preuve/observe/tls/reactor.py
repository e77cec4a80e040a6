"""The wire: one epoll loop per process and network namespace, driving every probe connection of the prober.

Why not asyncio: a probe is a short connection (connect, send one ClientHello, read the server's first flight,
hang up) and an endpoint needs ~25 of them. asyncio's socket API pays, per probe, a future and a pair of
epoll registrations per step, a timer handle per read and a dozen callbacks: measured at 100 endpoints, ~0.3 ms
of CPU per probe, 0.75 s in all, against ~0.07 ms for the same probes driven by a bare epoll loop (uvloop changed
nothing: the cost is in the per-call futures, not the loop). This module keeps what asyncio gave the prober,
and nothing else:

- probe plans stay ``async def`` coroutines; what they await is one of three requests: :class:`Exchange` (one
  connection, resolved with what the server answered), :func:`gather` (run coroutines concurrently, at most
  ``limit`` at once; the first error cancels the rest and is raised) and :class:`Blocking` (a function run on a
  worker thread: nassl's full handshakes, name resolution);
- each connection is a small state machine (connecting, sending, reading) on one epoll, bounded by its own
  deadline (reset by each answer, as a read timeout) kept on a heap;
- at most ``Slots.limit`` connections per endpoint are open at once; the others wait their turn in order.

Thread-safe entry point: :meth:`Reactor.submit` (returns a ``concurrent.futures.Future``); :func:`shared`
gives the calling thread's reactor (one per process and network namespace: sockets are created by the
reactor's thread, which lives in the namespace of the thread that started it).
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

# Full handshakes (nassl, blocking) of every endpoint in flight run on worker threads: at most Slots.limit per
# endpoint already; this is only the ceiling of the pool.
BLOCKING_WORKERS = 32
_READ = select.EPOLLIN | select.EPOLLRDHUP
_ORDER = itertools.count()  # ties on the timer heap
# What a first send can report when the connection itself failed (the socket says it no earlier).
_CONNECT_ERRORS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EADDRNOTAVAIL}
_WRITE = select.EPOLLOUT


class Slots:
    """At most ``limit`` connections (or blocking calls) of one endpoint at a time; the rest wait in order."""

    __slots__ = ("limit", "used", "waiting")

    def __init__(self, limit: int) -> None:
        self.limit, self.used = max(1, limit), 0
        self.waiting: deque[Callable[[], None]] = deque()

    def acquire(self, start: Callable[[], None]) -> None:
        if self.used < self.limit:
            self.used += 1
            start()
        else:
            self.waiting.append(start)

    def release(self) -> None:
        if self.waiting:
            self.waiting.popleft()()  # the slot passes on
        else:
            self.used -= 1

    def forget(self, start: Callable[[], None]) -> None:
        """Drop a request still waiting for a slot (its task was cancelled); nothing if it is not waiting."""
        with contextlib.suppress(ValueError):
            self.waiting.remove(start)


class Request:
    """Something a probe coroutine awaits; the reactor resumes it with the outcome."""

    def __await__(self) -> Generator[Request, Any, Any]:
        return (yield self)

    def start(self, reactor: Reactor, task: _Task) -> None:
        raise NotImplementedError

    def cancel(self, reactor: Reactor) -> None:
        """The awaiting task was cancelled: release what the request holds."""


class ConnectFailed(Exception):
    """The TCP connection could not be made: ``reason`` is "timeout", "refused", or the system's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadTimeout(Exception):
    """Connected, but the server stayed silent for a whole timeout."""


class Exchange(Request):
    """Connect to ``address``, send ``payload``, feed what comes back to ``sink`` until it says it is done or the
    server hangs up. Resolved with ``None`` (the sink holds the answer); raises ConnectFailed, ReadTimeout.
    ``sink(data)`` gets each chunk and ``b""`` at end of stream, ``None`` on a reset; it returns True when done."""

    __slots__ = (
        "_go",
        "address",
        "deadline",
        "family",
        "fd",
        "mask",
        "payload",
        "sink",
        "slots",
        "sock",
        "task",
        "timeout",
    )

    def __init__(
        self,
        address: tuple[str, int],
        payload: bytes,
        sink: Callable[[bytes | None], bool],
        timeout: float,
        slots: Slots,
    ) -> None:
        self.address, self.payload, self.sink, self.timeout, self.slots = address, payload, sink, timeout, slots
        self.family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sock: socket.socket | None = None
        self.fd = -1
        self.mask = 0  # the events epoll watches for (0: not registered)
        self.deadline = 0.0
        self._go: Callable[[], None] | None = None

    def start(self, reactor: Reactor, task: _Task) -> None:
        self.task = task
        self._go = lambda: reactor._connect(self)
        self.slots.acquire(self._go)

    def cancel(self, reactor: Reactor) -> None:
        if self.sock is not None:
            reactor._close(self)
        elif self._go is not None:
            self.slots.forget(self._go)  # still waiting for a slot (or already finished: nothing to release)


class Blocking(Request):
    """Run ``fn(*args)`` on a worker thread (holding one of the endpoint's slots when ``slots`` is given)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, slots: Slots | None = None) -> None:
        self.fn, self.args, self.slots = fn, args, slots
        self.cancelled = False

    def start(self, reactor: Reactor, task: _Task) -> None:
        def go() -> None:
            reactor._pool.submit(self._call, reactor, task)

        if self.slots is not None:
            self.slots.acquire(go)
        else:
            go()

    def _call(self, reactor: Reactor, task: _Task) -> None:
        try:
            outcome: tuple[Any, BaseException | None] = (self.fn(*self.args), None)
        except BaseException as exc:  # delivered to the awaiting coroutine
            outcome = (None, exc)
        reactor._post(lambda: self._done(reactor, task, *outcome))

    def _done(self, reactor: Reactor, task: _Task, value: Any, exc: BaseException | None) -> None:
        if self.slots is not None:
            self.slots.release()
        if not self.cancelled:
            reactor._resume(task, value, exc)

    def cancel(self, reactor: Reactor) -> None:
        self.cancelled = True  # the thread cannot be stopped: its outcome is dropped, its slot released then


class _Gather(Request):
    def __init__(self, coros: Iterable[Coroutine[Any, Any, Any]], limit: int | None) -> None:
        self.coros = list(coros)
        self.limit = limit or len(self.coros) or 1
        self.results: list[Any] = [None] * len(self.coros)
        self.running: set[_Task] = set()
        self.next = 0
        self.pending = len(self.coros)
        self.over = False

    def start(self, reactor: Reactor, task: _Task) -> None:
        self.parent = task
        if not self.coros:
            reactor._resume(task, [], None)
            return
        while self.next < len(self.coros) and len(self.running) < self.limit:
            self._launch(reactor)

    def _launch(self, reactor: Reactor) -> None:
        index = self.next
        self.next += 1
        child = _Task(self.coros[index], lambda value, exc: self._child_done(reactor, child, index, value, exc))
        self.running.add(child)
        reactor._resume(child, None, None)

    def _child_done(self, reactor: Reactor, child: _Task, index: int, value: Any, exc: BaseException | None) -> None:
        self.running.discard(child)
        if self.over:
            return
        if exc is not None:
            self.over = True
            self._cancel_rest(reactor)
            reactor._resume(self.parent, None, exc)
            return
        self.results[index] = value
        self.pending -= 1
        if self.next < len(self.coros):
            self._launch(reactor)
        elif self.pending == 0:
            self.over = True
            reactor._resume(self.parent, self.results, None)

    def _cancel_rest(self, reactor: Reactor) -> None:
        for child in list(self.running):
            child.cancel(reactor)
        self.running.clear()
        for coro in self.coros[self.next :]:
            coro.close()  # never started
        self.next = len(self.coros)

    def cancel(self, reactor: Reactor) -> None:
        self.over = True
        self._cancel_rest(reactor)


def gather(*coros: Coroutine[Any, Any, Any], limit: int | None = None) -> _Gather:
    """Await every coroutine concurrently (at most ``limit`` at once); results in order. The first error
    cancels the others (their connections closed) and is raised."""
    return _Gather(coros, limit)


class _Task:
    __slots__ = ("coro", "finished", "on_done", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, Any], on_done: Callable[[Any, BaseException | None], None]) -> None:
        self.coro, self.on_done = coro, on_done
        self.waiting: Request | None = None
        self.finished = False

    def cancel(self, reactor: Reactor) -> None:
        if self.finished:
            return
        self.finished = True
        if self.waiting is not None:
            self.waiting.cancel(reactor)
            self.waiting = None
        self.coro.close()


class Reactor:
    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._wake = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._epoll.register(self._wake, select.EPOLLIN)
        self._inbox: deque[Callable[[], None]] = deque()
        self._ready: deque[tuple[_Task, Any, BaseException | None]] = deque()
        self._conns: dict[int, Exchange] = {}
        self._readers: dict[int, Callable[[], None]] = {}
        self._timers: list[tuple[float, int, Exchange]] = []
        self._pool = ThreadPoolExecutor(BLOCKING_WORKERS, thread_name_prefix="preuve-tls")
        self.thread = threading.Thread(target=self._run, daemon=True, name="preuve-tls-reactor")

    # --- from any thread ---

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        future: Future[Any] = Future()

        def settle(value: Any, exc: BaseException | None) -> None:
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(value)

        self._post(lambda: self._resume(_Task(coro, settle), None, None))
        return future

    def add_reader(self, fd: int, readable: Callable[[], None]) -> None:
        """Call ``readable()`` on the reactor's thread whenever ``fd`` has something to read (a pipe from a helper
        process); until remove_reader. Reactor thread only."""
        self._readers[fd] = readable
        self._epoll.register(fd, _READ)

    def remove_reader(self, fd: int) -> None:
        if self._readers.pop(fd, None) is not None:
            with contextlib.suppress(OSError, ValueError):
                self._epoll.unregister(fd)

    def _post(self, fn: Callable[[], None]) -> None:
        self._inbox.append(fn)
        os.eventfd_write(self._wake, 1)

    # --- on the reactor's thread ---

    def _resume(self, task: _Task, value: Any, exc: BaseException | None) -> None:
        self._ready.append((task, value, exc))

    def _step(self, task: _Task, value: Any, exc: BaseException | None) -> None:
        if task.finished:
            return
        task.waiting = None
        try:
            request = task.coro.throw(exc) if exc is not None else task.coro.send(value)
        except StopIteration as stop:
            task.finished = True
            task.on_done(stop.value, None)
            return
        except BaseException as error:
            task.finished = True
            task.on_done(None, error)
            return
        task.waiting = request
        try:
            request.start(self, task)
        except BaseException as error:
            self._resume(task, None, error)

    def _connect(self, ex: Exchange) -> None:
        """Connect and send at once: on a near server the connection is up before connect() even returns, so
        the hello goes out without a trip through epoll; elsewhere the send waits for the socket to be
        writable. Each connection costs socket, connect, send, one epoll registration, recv and close: the
        socket is non-blocking from birth, Nagle is left alone (one write per connection), and closing the
        descriptor takes it out of the epoll set."""
        try:
            sock = socket.socket(ex.family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        except OSError as exc:
            ex.slots.release()
            self._resume(ex.task, None, ConnectFailed(exc.strerror or type(exc).__name__))
            return
        ex.sock, ex.fd = sock, sock.fileno()
        self._conns[ex.fd] = ex
        err = sock.connect_ex(ex.address)
        if err not in (0, errno.EISCONN, errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
            self._finish(ex, ConnectFailed(_reason(err)))
            return
        self._push(ex, connecting=True)

    def _push(self, ex: Exchange, connecting: bool) -> None:
        """Send what is left of the hello; then wait for the answer."""
        assert ex.sock is not None
        try:
            sent = ex.sock.send(ex.payload)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            if exc.errno == errno.ENOTCONN:
                sent = 0  # still connecting
            elif connecting and exc.errno in _CONNECT_ERRORS:
                self._finish(ex, ConnectFailed(_reason(exc.errno)))
                return
            else:
                ex.sink(None)  # reset before the hello went out: the server hung up
                self._finish(ex, None)
                return
        if sent:
            ex.payload = ex.payload[sent:]
        self._watch(ex, _WRITE if ex.payload else _READ)
        self._arm(ex)

    def _watch(self, ex: Exchange, mask: int) -> None:
        if ex.mask == mask:
            return
        if ex.mask:
            self._epoll.modify(ex.fd, mask)
        else:
            self._epoll.register(ex.fd, mask)
        ex.mask = mask

    def _arm(self, ex: Exchange) -> None:
        ex.deadline = time.monotonic() + ex.timeout
        heapq.heappush(self._timers, (ex.deadline, next(_ORDER), ex))

    def _event(self, ex: Exchange, events: int) -> None:
        assert ex.sock is not None
        if ex.payload:  # connecting, or the hello not fully sent
            err = ex.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._finish(ex, ConnectFailed(_reason(err)))
                return
            self._push(ex, connecting=False)
            return
        try:
            data: bytes | None = ex.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = None  # reset
        if ex.sink(data) or not data:
            self._finish(ex, None)
        else:
            self._arm(ex)

    def _finish(self, ex: Exchange, exc: BaseException | None) -> None:
        self._close(ex)
        self._resume(ex.task, None, exc)

    def _close(self, ex: Exchange) -> None:
        sock, ex.sock = ex.sock, None
        if sock is None:
            return
        self._conns.pop(ex.fd, None)
        sock.close()  # also leaves the epoll set (the descriptor is never duplicated)
        ex.slots.release()

    def _expire(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            deadline, _, ex = heapq.heappop(timers)
            if ex.sock is None or deadline != ex.deadline:
                continue  # closed, or re-armed since
            self._finish(ex, ConnectFailed("timeout") if ex.payload else ReadTimeout())

    def _run(self) -> None:
        epoll, ready, inbox, conns = self._epoll, self._ready, self._inbox, self._conns
        while True:
            while inbox:
                inbox.popleft()()
            while ready:
                self._step(*ready.popleft())
            if inbox:
                continue
            wait = -1.0
            if self._timers:
                wait = max(0.0, self._timers[0][0] - time.monotonic())
            for fd, events in epoll.poll(wait):
                if fd == self._wake:
                    with contextlib.suppress(BlockingIOError):
                        os.eventfd_read(self._wake)
                    continue
                ex = conns.get(fd)
                if ex is not None:
                    try:
                        self._event(ex, events)
                    except Exception as exc:  # a bug must reach the probe, never stop the reactor
                        self._finish(ex, exc)
                elif fd in self._readers:
                    try:
                        self._readers[fd]()
                    except Exception:  # a broken helper pipe must not stop the reactor: stop reading it
                        self.remove_reader(fd)
            if self._timers:
                self._expire(time.monotonic())


def _reason(err: int) -> str:
    if err == errno.ECONNREFUSED:
        return "refused"
    if err == errno.ETIMEDOUT:
        return "timeout"
    return os.strerror(err)


_REACTORS: dict[tuple[int, int], Reactor] = {}
_LOCK = threading.Lock()


def _netns_inode() -> int:
    try:
        return os.stat("/proc/thread-self/ns/net").st_ino
    except OSError:  # no /proc (not Linux): one namespace
        return 0


def shared() -> Reactor:
    """The reactor of the calling thread's network namespace (started on first use; a forked child gets its
    own: the parent's thread is not in it)."""
    key = (os.getpid(), _netns_inode())
    with _LOCK:
        reactor = _REACTORS.get(key)
        if reactor is None:
            reactor = _REACTORS[key] = Reactor()
            reactor.thread.start()
        return reactor
