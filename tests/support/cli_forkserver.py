"""The `preuve` command line for tests/unit, forked from a process that already imported it.

Starting `python -m preuve` costs about 0.4 s of CPU in imports (pydantic models, pytest, yaml) before the command
runs: two thirds of tests/unit's time went there (154 invocations). The server below imports those modules once; each
call forks it, and the child runs the same entry point as `python -m preuve` (`preuve.cli.main`) in a separate
process with the caller's argv, environment and working directory, stdin from /dev/null, stdout and stderr
captured: what the command sees is what a fresh process sees, minus the import time. tests/lab keeps spawning real
interpreters (tests/conftest.py `preuve`), so the real start-up stays tested.
"""

from __future__ import annotations

import atexit
import io
import json
import locale
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SERVER = r"""
import json, os, sys, time, traceback
import preuve.cli, preuve.inputs.inventory, preuve.inputs.profile, preuve.inputs.waivers, preuve.judge.catalogue
import pytest, yaml
from preuve.cli import main

MAIN = os.path.join(os.path.dirname(preuve.cli.__file__), "__main__.py")
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setsid()
            streams = ((0, os.devnull, os.O_RDONLY), (1, req["out"], os.O_WRONLY), (2, req["err"], os.O_WRONLY))
            for fd, path, flags in streams:
                new = os.open(path, flags)
                os.dup2(new, fd)
                os.close(new)
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            sys.argv = [MAIN, *req["argv"]]
            try:
                code = main(req["argv"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, (int, type(None))):
                    print(exc.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
                code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(int(code) & 0xFF)
    deadline = time.monotonic() + req["timeout"]
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.005)
    else:
        os.killpg(pid, 9)
        os.waitpid(pid, 0)
        status = None
    reply = {"code": None if status is None else os.waitstatus_to_exitcode(status)}
    sys.__stdout__.write(json.dumps(reply) + "\n")
    sys.__stdout__.flush()
"""


class ForkServer:
    """One server per test process (each pytest-xdist worker has its own), started on first use."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.proc: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=self.repo,
            )
            atexit.register(self.stop)
        return self.proc

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        """Like subprocess.run([python, -m, preuve, *argv], capture_output=True, text=True, timeout=...)."""
        with tempfile.TemporaryDirectory() as tmp, self.lock:
            out, err = Path(tmp) / "out", Path(tmp) / "err"
            out.touch()
            err.touch()
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            req = {"argv": argv, "env": env, "cwd": str(cwd), "out": str(out), "err": str(err), "timeout": timeout}
            proc.stdin.write(json.dumps(req) + "\n")
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
            stdout, stderr = _text(out.read_bytes()), _text(err.read_bytes())
        args = [sys.executable, "-m", "preuve", *argv]
        if reply["code"] is None:
            raise subprocess.TimeoutExpired(args, timeout, stdout, stderr)
        return subprocess.CompletedProcess(args, reply["code"], stdout, stderr)


def _text(data: bytes) -> str:
    """Decoded as subprocess.run(text=True) does: the locale's encoding, universal newlines."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()
