"""One nginx master on 127.0.0.1 serving TLS server blocks from a scratch directory, no namespace.

Shared by the test servers (tests/support/tls_servers.py) and the TLS fleet bench (bench/tls_fleet.py), which
used to write the same http{} wrapper, server block and start-then-wait loop each: one copy, so both serve what
the same nginx config says. Loopback only; the caller owns the process it gets back.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

LOOPBACK = "127.0.0.1"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def server_block(port: int, cert: Path, key: Path, directives: str, host: str = LOOPBACK) -> str:
    """A TLS server{} answering "ok" on host:port with the given ssl_* directive lines (already indented)."""
    return f"""    server {{
        listen {host}:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
{directives}
        location / {{ return 200 "ok\\n"; }}
    }}
"""


def config(
    root: Path, blocks: Iterable[str], workers: int = 1, connections: int = 1024, log_level: str = "warn"
) -> str:
    """nginx.conf text: every temp path and the error log under `root`, no access log."""
    temp = "\n".join(f"    {d}_temp_path {root}/tmp/{d};" for d in TEMP_DIRS)
    limit = f"worker_rlimit_nofile {connections * 2};\n" if connections > 1024 else ""
    return f"""worker_processes {workers};
{limit}error_log {root}/error.log {log_level};
events {{ worker_connections {connections}; }}
http {{
    access_log off;
{temp}
    default_type text/plain;
{"".join(blocks)}
}}
"""


def start(
    root: Path, conf_text: str, ports: Iterable[int], timeout: float = 5.0, user: str | None = None
) -> subprocess.Popen:
    """Write root/nginx.conf, run nginx in the foreground and wait until every port accepts TCP; on failure stop
    it and raise with the end of its error log. With `user` (started by root), nginx runs as that account from
    the start: `root` must then be writable by it."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(conf_text)
    if user:
        for path in (root, root / "tmp", conf):
            shutil.chown(path, user, user)
    argv = [NGINX, "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)]
    as_user = {"user": user, "group": user, "extra_groups": []} if user else {}
    proc = subprocess.Popen(
        [*argv, "-g", f"daemon off; pid {root / 'nginx.pid'};"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **as_user,  # type: ignore[call-overload]
    )
    deadline = time.monotonic() + timeout
    try:
        for port in ports:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited early with code {proc.returncode}")
                with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"nothing listening on {LOOPBACK}:{port} after {timeout}s")
                time.sleep(0.02)
    except Exception as exc:
        stop(proc)
        log = root / "error.log"
        raise RuntimeError(
            f"nginx did not start: {exc}\n{log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
        ) from exc
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Stop the nginx this module started, by its own handle."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
