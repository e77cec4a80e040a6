"""Run the planned observations concurrently, each bounded in time, each recorded as evidence.

Workers are daemon threads pulling from a queue: a collector that overstays its own timeouts is abandoned at
the run deadline and recorded as an error instead of holding the whole sweep hostage.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from preuve.evidence.record import Observation, utc_now
from preuve.evidence.store import EvidenceStore
from preuve.inputs.targets import Target
from preuve.observe.errors import ObservationError
from preuve.observe.registry import registry


@dataclass(frozen=True)
class Request:
    collector: str
    target: Target
    facts: tuple[str, ...] = ()


def _observe_one(req: Request, timeout: float, hosts: dict[str, Target]) -> Observation:
    started, t0 = utc_now(), time.perf_counter()
    query: dict = {"host": req.target.address, "port": req.target.port}
    try:
        outcome = registry().collectors[req.collector].collect(req.target, req.facts, timeout, hosts)
        query, facts, raw, tool = outcome[:4]
        timing = {"started_at": started, "duration_ms": round((time.perf_counter() - t0) * 1000, 1)}
        return Observation(
            collector=req.collector,
            target=req.target.name,
            query=query,
            started_at=timing["started_at"],
            duration_ms=timing["duration_ms"],
            ok=True,
            facts=facts,
            raw=raw,
            tool=tool,
        )
    except ObservationError as exc:
        kind, msg = type(exc).__name__, str(exc)
    except Exception as exc:  # a collector bug must not become a pass: record it as an error
        kind, msg = "CollectorCrash", f"collector {req.collector} failed: {type(exc).__name__}: {exc}"
    return Observation(
        collector=req.collector,
        target=req.target.name,
        query=query,
        started_at=started,
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        ok=False,
        error=msg,
        error_kind=kind,
    )


def observe(
    requests: list[Request],
    store: EvidenceStore,
    *,
    timeout: float,
    concurrency: int = 16,
    hosts: dict[str, Target] | None = None,
    on_done: Callable[[Observation], None] | None = None,
    overstay: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Observe everything. An observation still running `overstay` seconds after it started (each collector
    bounds its own network operations; this is the backstop) is recorded as an error, its worker replaced.
    `stop` set (from another thread): return within 0.2 s, leaving the rest unobserved."""
    hosts = hosts or {}
    overstay = overstay if overstay is not None else timeout * 6 + 30
    todo: queue.Queue[Request] = queue.Queue()
    for r in requests:
        todo.put(r)
    limits = {name: threading.Semaphore(c.limit) for name, c in registry().collectors.items()}  # per collector
    spare = threading.Semaphore(concurrency)
    finished: set[tuple[str, str]] = set()
    stopped = threading.Event()  # set when observe() returns or is interrupted: late workers record nothing
    in_flight: dict[tuple[str, str], tuple[Request, float]] = {}
    lock = threading.Condition()

    def record(key: tuple[str, str], obs: Observation, target: Target) -> None:
        finished.add(key)
        in_flight.pop(key, None)
        store.put(obs, target)  # the observation records the target's full identity (kind, name, address, port)
        if on_done:
            on_done(obs)
        lock.notify_all()

    def worker() -> None:
        while not stopped.is_set():
            try:
                req = todo.get_nowait()
            except queue.Empty:
                return
            key = (req.collector, req.target.name)
            with limits.get(req.collector, spare):
                with lock:  # the overstay clock starts when the observation runs, not while it queues
                    in_flight[key] = (req, time.monotonic())
                obs = _observe_one(req, timeout, hosts)
            with lock:
                if key in finished or stopped.is_set():  # abandoned as overdue, or the run was stopped
                    return
                record(key, obs, req.target)

    def start_worker() -> None:
        threading.Thread(target=worker, daemon=True, name="preuve-observe").start()

    for _ in range(max(1, min(concurrency, len(requests)))):
        start_worker()
    try:
        with lock:
            while len(finished) < len(requests) and not (stop is not None and stop.is_set()):
                lock.wait(0.2)
                now = time.monotonic()
                for key, (req, t0) in list(in_flight.items()):
                    if now - t0 > overstay:
                        record(key, _overdue(req, now - t0, overstay), req.target)
                        start_worker()
    finally:  # also on KeyboardInterrupt (SIGINT/SIGTERM) or `stop`: no evidence file may appear after this returns
        with lock:
            stopped.set()


def _overdue(req: Request, seconds: float, overstay: float) -> Observation:
    return Observation(
        collector=req.collector,
        target=req.target.name,
        query={"host": req.target.address, "port": req.target.port},
        started_at=utc_now(),
        duration_ms=round(seconds * 1000, 1),
        ok=False,
        error=f"no answer within {overstay:.0f} s: observation abandoned",
        error_kind="Overstay",
    )
