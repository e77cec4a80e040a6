"""Start the TLS handshakes of a small scan while pytest is still starting.

A scan of a few TLS endpoints is dominated by fixed costs (interpreter, pytest, imports) that run on one core;
the handshakes can run meanwhile on the other. `preuve run` starts one helper process that observes the
inventory's TLS endpoints with the same collector and the same parameters; the engine then takes each
prefetched observation (with its own start time and duration) instead of collecting it again, or collects it
itself if the helper failed or asked something else. Only for small, unrestricted runs whose profile selects
TLS checks: a prefetch never observes a target the run would not have observed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MAX_ENDPOINTS = 4
_ACTIVE: Prefetch | None = None


def _key(host: str, port: int, sni: str | None, http_path: str | None, timeout: float) -> str:
    return json.dumps([host, port, sni, http_path, float(timeout)])


class Prefetch:
    def __init__(self, endpoints: list[dict[str, Any]], timeout: float, netns: str | None) -> None:
        self.out = Path(tempfile.mkdtemp(prefix="preuve-prefetch-")) / "tls.json"
        self.keys = {_key(e["host"], e["port"], e["sni"], e["http_path"], timeout) for e in endpoints}
        spec = {"endpoints": endpoints, "timeout": timeout, "netns": netns, "out": str(self.out)}
        self.proc = _Forked(spec)
        self.deadline = time.monotonic() + timeout * 6 + 30
        self._lock = threading.Lock()
        self._results: dict[str, Any] | None = None

    def take(self, host: str, port: int, sni: str | None, http_path: str | None, timeout: float) -> Any:
        """The helper's entry for this observation, or None (then the caller collects it itself)."""
        key = _key(host, port, sni, http_path, timeout)
        if key not in self.keys:
            return None
        with self._lock:
            if self._results is None:
                try:
                    ok = self.proc.wait(self.deadline) == 0
                    self._results = json.loads(self.out.read_text()) if ok else {}
                except (OSError, ValueError):
                    self._results = {}
                if self._results == {}:
                    self.proc.kill()
        return self._results.get(key)

    def close(self) -> None:
        self.proc.kill()
        for p in (self.out, self.out.parent):
            with contextlib.suppress(OSError):
                p.unlink() if p.is_file() else p.rmdir()


class _Forked:
    """The helper as a forked child: no second interpreter to start, nothing re-imported (the parent forks at
    the very start of `preuve run`, before any thread exists). The child writes its JSON and `_exit`s."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.status: int | None = None
        self.pid = os.fork()
        if self.pid == 0:  # the child
            code = 1
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                _child(spec)
                code = 0
            finally:
                os._exit(code)

    def wait(self, deadline: float) -> int | None:
        """The child's exit status, or None if it is still running at the deadline."""
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                return None
            else:
                time.sleep(0.005)
        return self.status

    def kill(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            self.status = -9


def active() -> Prefetch | None:
    return _ACTIVE


def _tls_catalogue() -> Path:
    """checks/tls/catalogue.yaml, found as preuve.judge.catalogue.checks_dir does but without importing pytest."""
    here = Path(__file__).resolve().parents[2] / "checks" / "tls" / "catalogue.yaml"
    if here.exists():
        return here
    import importlib.util

    spec = importlib.util.find_spec("preuve_checks")
    return Path(spec.origin).parent / "tls" / "catalogue.yaml"  # type: ignore[union-attr, arg-type]


def plan(inventory_path: str, profile_path: str, timeout: float | None, netns: str | None) -> list[dict[str, Any]]:
    """What to prefetch, read straight from the YAML files (the validated models cost the very time a prefetch
    wins back). Conservative: any doubt (a file that does not parse as expected, a profile that selects by
    tags or requirements, too many endpoints) returns nothing, and the run collects as usual."""
    from preuve import yamlio

    inv = yamlio.load(Path(inventory_path).read_text())
    raw = inv.get("tls_endpoints") or []
    if not raw or len(raw) > MAX_ENDPOINTS:
        return []
    tls_ids = set(yamlio.load(_tls_catalogue().read_text())["checks"])
    chain, path = [], Path(profile_path)
    while path and len(chain) < 8:
        prof = yamlio.load(path.read_text())
        chain.append(prof)
        path = path.parent / f"{prof['extends']}.yaml" if prof.get("extends") else None
    selected = set(tls_ids)
    for prof in chain:
        sel, exc = prof.get("select"), prof.get("exclude") or {}
        if sel is not None:
            if sel.get("tags") or sel.get("requirements"):
                return []
            selected &= {i for i in tls_ids if any(fnmatch.fnmatchcase(i, g) for g in sel.get("checks") or [])}
        if exc.get("tags") or exc.get("requirements"):
            return []
        selected -= {i for i in tls_ids if any(fnmatch.fnmatchcase(i, g) for g in exc.get("checks") or [])}
    if not selected:
        return []
    if timeout is None:
        timeout = next((p["params"]["timeout"] for p in reversed(chain) if "timeout" in (p.get("params") or {})),
                       5.0)
    return [{"host": e["address"], "port": e.get("port", 443), "sni": e.get("sni"),
             "http_path": "/" if e.get("http", True) else None, "timeout": float(timeout),
             "netns": netns or (inv.get("scanner") or {}).get("netns")} for e in raw]


def start(endpoints: list[dict[str, Any]]) -> Prefetch | None:
    """Start the helper process for these endpoints (from `plan`), or return None."""
    global _ACTIVE
    if not endpoints or os.environ.get("PREUVE_NO_PREFETCH") == "1":
        return None
    netns = endpoints[0]["netns"]
    if netns and not Path("/run/netns", netns).exists():
        return None
    _ACTIVE = Prefetch([{k: e[k] for k in ("host", "port", "sni", "http_path")} for e in endpoints],
                       endpoints[0]["timeout"], netns)
    return _ACTIVE


def stop() -> None:
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.close()
        _ACTIVE = None


def _child(spec: dict[str, Any]) -> None:
    """Observe every endpoint concurrently and write one JSON file (atomically) for the parent."""
    import datetime as dt

    from preuve.evidence.canonical import write_atomic
    from preuve.observe import tls
    from preuve.observe.errors import ObservationError

    def utc_now() -> str:  # as preuve.evidence.record.utc_now, without importing pydantic here
        return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    if spec["netns"]:
        from preuve.observe.netns import enter_process

        enter_process(spec["netns"])
    results: dict[str, Any] = {}

    def one(e: dict[str, Any]) -> None:
        started, t0 = utc_now(), time.perf_counter()
        entry: dict[str, Any] = {"started_at": started}
        try:
            facts, raw = tls.collect(e["host"], e["port"], sni=e["sni"], timeout=spec["timeout"],
                                     http_path=e["http_path"])
            entry.update(ok=True, facts=facts, raw=raw)
        except ObservationError as exc:
            entry.update(ok=False, error=str(exc))
        entry["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        results[_key(e["host"], e["port"], e["sni"], e["http_path"], spec["timeout"])] = entry

    threads = [threading.Thread(target=one, args=(e,)) for e in spec["endpoints"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    write_atomic(Path(spec["out"]), json.dumps(results).encode())


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
