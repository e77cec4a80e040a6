"""restic / borg run on the backup host over SSH (one authenticated connection per repository observation).

Secrets (repository password, backend keys) never appear on a command line: the remote shell reads them from
the channel's stdin (`IFS= read -r`) and exports them to the tool only. The restore drill's scratch directory is
created, hashed, listed and removed on that host with plain POSIX tools (mktemp, sha256sum, find, rm).
"""

from __future__ import annotations

import shlex
import subprocess
import time
from typing import Any

import paramiko

from preuve.observe.backup.repository import Job, Runner, _env
from preuve.observe.errors import ObservationError

SECRET_KEYS = ("RESTIC_PASSWORD", "BORG_PASSPHRASE", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")


class RemoteRunner(Runner):
    def __init__(self, job: Job, target: Any) -> None:
        from preuve.observe.ssh.connection import connect as _connect

        self.job = job
        self.deadline = time.monotonic() + job.timeout
        self.log: list[dict[str, Any]] = []
        self.target = target
        self._transports: list[paramiko.Transport] = []
        self.home = ""
        try:
            self.transport, _ = _connect(target, min(job.timeout, 30.0), self._transports)
        except BaseException:
            self.close()
            raise
        home = self._sh("mktemp -d /tmp/preuve-backup-home-XXXXXX").stdout.strip()
        if not home.startswith("/tmp/preuve-backup-home-"):
            raise ObservationError(f"ssh {target.host}: cannot create a working directory")
        self.home = home
        env = _env(job, home)
        env.pop("RESTIC_PASSWORD_FILE", None)  # a file of the scanner: its value goes over stdin instead
        if job.tool == "restic" and job.password is not None:
            env["RESTIC_PASSWORD"] = job.password
        env.pop("PATH", None)
        self.secrets = {k: v for k, v in env.items() if k in SECRET_KEYS or k in dict(job.backend_env)}
        self.env = {k: v for k, v in env.items() if k not in self.secrets}

    def _sh(self, script: str, stdin: str = "", timeout: float | None = None) -> subprocess.CompletedProcess:
        """One command on the host; returns like subprocess.run (text)."""
        left = self.deadline - time.monotonic() if timeout is None else timeout
        if left <= 0:
            raise ObservationError(f"{self.job.tool}: time budget of {self.job.timeout:.0f} s exhausted")
        try:
            chan = self.transport.open_session(timeout=min(left, 30.0))
            chan.settimeout(left)
            chan.exec_command(script)
            if stdin:
                chan.sendall(stdin.encode())
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            end = time.monotonic() + left
            while not (chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready()):
                if time.monotonic() > end:
                    chan.close()
                    raise ObservationError(f"ssh {self.target.host}: no answer within {left:.0f} s")
                if chan.recv_ready():
                    out += chan.recv(1 << 16)
                elif chan.recv_stderr_ready():
                    err += chan.recv_stderr(1 << 16)
                else:
                    time.sleep(0.01)
            rc = chan.recv_exit_status()
            chan.close()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ObservationError(f"ssh {self.target.host}: {type(exc).__name__}: {exc}") from None
        return subprocess.CompletedProcess(script, rc, out.decode(errors="replace"), err.decode(errors="replace"))

    def __call__(self, argv: list[str], cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        reads = "".join(f"IFS= read -r {k}; export {k}; " for k in self.secrets)
        exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in self.env.items())
        chdir = f"cd {shlex.quote(cwd)} && " if cwd else ""
        script = f"{reads}{exports}{chdir}exec {shlex.join(argv)}"
        stdin = "".join(v + "\n" for v in self.secrets.values())
        t0 = time.perf_counter()
        proc = self._sh(script, stdin)
        self.log.append(
            {
                "argv": argv,
                "host": self.target.host,
                "rc": proc.returncode,
                "seconds": round(time.perf_counter() - t0, 3),
                "stderr": proc.stderr[-600:],
            }
        )
        if check and proc.returncode != 0:
            lines = [x for x in proc.stderr.strip().splitlines() if x.strip()]
            raise ObservationError(
                f"{' '.join(argv[:2])} on {self.target.host} failed (exit {proc.returncode}): "
                f"{lines[-1][:300] if lines else 'no message'}"
            )
        return proc

    def make_scratch(self, base: str) -> str:
        q = shlex.quote(base.rstrip("/"))
        proc = self._sh(f"mkdir -p {q} && mktemp -d {q}/preuve-drill-remote-XXXXXX")
        scratch = proc.stdout.strip()
        if proc.returncode != 0 or not scratch.startswith(base.rstrip("/") + "/preuve-drill-"):
            raise ObservationError(f"ssh {self.target.host}: cannot create a scratch dir under {base}: {proc.stderr}")
        return scratch

    def file_sha256(self, path: str) -> str | None:
        proc = self._sh(f"test -f {shlex.quote(path)} && sha256sum -- {shlex.quote(path)}")
        return proc.stdout.split()[0] if proc.returncode == 0 and proc.stdout else None

    def file_sizes(self, root: str) -> dict[str, int]:
        proc = self._sh(f"find {shlex.quote(root)} -type f -printf '%s %p\\n'")
        sizes = {}
        for line in proc.stdout.splitlines():
            size, _, path = line.partition(" ")
            if size.isdigit():
                sizes[path] = int(size)
        return sizes

    def remove(self, path: str) -> bool:
        q = shlex.quote(path)
        proc = self._sh(f"rm -rf -- {q}; test ! -e {q}", timeout=30.0)  # even when the budget is spent
        return proc.returncode == 0

    def close(self) -> None:
        try:
            if self.home:
                self._sh(f"rm -rf -- {shlex.quote(self.home)}", timeout=10.0)
        except ObservationError:
            pass
        for t in reversed(self._transports):
            t.close()
