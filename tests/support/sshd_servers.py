"""Real OpenSSH servers on 127.0.0.1 for tests, plus sockets that misbehave on purpose.

Everything here binds loopback only. Use it from a session fixture::

    with SshdLab(tmp_dir) as lab:
        good, weak = lab.start("good"), lab.start("weak")

`good` follows the ANSSI OpenSSH guide (ECDSA-256 + Ed25519 host keys, modern lists only);
`weak` keeps OpenSSH's defaults and adds legacy algorithms and RSA-1024 / DSA host keys.
Both let root log in with a generated Ed25519 client key (the lab runs as root).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
SSHD = "/usr/sbin/sshd"  # sshd re-executes itself and insists on an absolute path
PRIVSEP_DIR = Path("/run/sshd")

GOOD_KEX = [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
]
GOOD_CIPHERS = [
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
]
GOOD_MACS = [
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512",
    "hmac-sha2-256",
]
GOOD_HOST_KEY_ALGORITHMS = ["ecdsa-sha2-nistp256", "ssh-ed25519"]

PROFILES: dict[str, dict] = {
    "good": {
        "keys": {"ecdsa": ["-t", "ecdsa", "-b", "256"], "ed25519": ["-t", "ed25519"]},
        "options": [
            f"KexAlgorithms {','.join(GOOD_KEX)}",
            f"Ciphers {','.join(GOOD_CIPHERS)}",
            f"MACs {','.join(GOOD_MACS)}",
            f"HostKeyAlgorithms {','.join(GOOD_HOST_KEY_ALGORITHMS)}",
        ],
    },
    "weak": {
        "keys": {"rsa": ["-t", "rsa", "-b", "1024"], "dsa": ["-t", "dsa"], "ed25519": ["-t", "ed25519"]},
        "options": [
            "KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1",
            "Ciphers +aes128-cbc,3des-cbc",
            "MACs +hmac-sha1,hmac-md5",
            "HostKeyAlgorithms +ssh-rsa,ssh-dss",
        ],
    },
}


def keygen(path: Path, args: list[str]) -> Path:
    """A passphrase-less key pair at path / path.pub."""
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", "preuve-test", "-f", str(path)], check=True)
    return path


def ssh_keygen_fingerprint(pub: Path) -> tuple[int, str]:
    """(bits, 'SHA256:...') as ssh-keygen itself reports them: the oracle the collectors must match."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)], capture_output=True, text=True)
    bits, fingerprint = out.stdout.split()[:2]
    return int(bits), fingerprint


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@dataclass
class SshdServer:
    """A running sshd and the files that describe it."""

    profile: str
    port: int
    config: Path
    host_keys: list[Path]
    log: Path
    process: subprocess.Popen = field(repr=False)

    def public_keys(self) -> list[tuple[str, str]]:
        """[(type, base64)] of the host keys."""
        return [tuple(Path(f"{k}.pub").read_text().split()[:2]) for k in self.host_keys]  # type: ignore[misc]

    def known_hosts_lines(self, port: int | None = None) -> str:
        """known_hosts text for this server's keys, optionally claimed for another port."""
        name = f"[{LOOPBACK}]:{port or self.port}"
        return "".join(f"{name} {kind} {b64}\n" for kind, b64 in self.public_keys())

    def fingerprints(self) -> dict[str, tuple[int, str]]:
        """{key type: (bits, fingerprint)} from ssh-keygen."""
        return {
            kind: ssh_keygen_fingerprint(Path(f"{k}.pub"))
            for k, (kind, _) in zip(self.host_keys, self.public_keys(), strict=True)
        }

    def effective_config(self) -> dict[str, str]:
        """`sshd -T` of this server, read locally: an independent oracle for what it offers."""
        out = subprocess.run([SSHD, "-T", "-f", str(self.config)], capture_output=True, text=True, check=True)
        return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)

    def accepted_logins(self) -> int:
        return self.log.read_text(errors="replace").count("Accepted publickey")


class SshdLab:
    """Host keys, a client key and sshd processes in one temporary directory; stops what it started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[SshdServer] = []
        self.client_key = keygen(root / "client_ed25519", ["-t", "ed25519"])
        self.authorized_keys = root / "authorized_keys"
        self.authorized_keys.write_text(Path(f"{self.client_key}.pub").read_text())

    def __enter__(self) -> SshdLab:
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            stop(server.process)

    def start(self, profile: str) -> SshdServer:
        """Generate the profile's host keys, write its config and wait until sshd answers."""
        spec = PROFILES[profile]
        keys = [keygen(self.root / f"{profile}_host_{name}", args) for name, args in spec["keys"].items()]
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        for _ in range(3):  # free_port() can race with another process: retry on a new port
            port = free_port()
            config = self.root / f"sshd_{profile}.conf"
            config.write_text(self._config(port, keys, spec["options"]))
            log = self.root / f"sshd_{profile}.log"
            with log.open("wb") as out:
                cmd = [SSHD, "-D", "-e", "-f", str(config), "-p", str(port)]
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if _wait_for_banner(port, proc):
                server = SshdServer(profile, port, config, keys, log, proc)
                self.servers.append(server)
                return server
            stop(proc)
        raise RuntimeError(f"sshd {profile} did not start: {log.read_text(errors='replace')}")

    def _config(self, port: int, keys: list[Path], options: list[str]) -> str:
        lines = [
            f"ListenAddress {LOOPBACK}",
            f"Port {port}",
            *(f"HostKey {k}" for k in keys),
            "PidFile none",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication yes",
            "AllowTcpForwarding yes",
            "LogLevel VERBOSE",
            *options,
        ]
        return "\n".join(lines) + "\n"


def _wait_for_banner(port: int, proc: subprocess.Popen, limit: float = 5.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.02)
    return False


def stop(proc: subprocess.Popen) -> None:
    """Stop one process we started, by its own handle."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(3)


# --- misbehaving peers ---------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    return free_port()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """Accepts TCP (the kernel completes the handshake from the backlog) and never says a word."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        s.listen(8)
        yield s.getsockname()[1]


@contextlib.contextmanager
def scripted_server(payload: bytes) -> Iterator[int]:
    """Sends `payload` to each client, reads a little, then closes: fake banners and packets."""
    server = socket.socket()
    server.bind((LOOPBACK, 0))
    server.listen(8)
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(payload)
                conn.settimeout(0.2)
                with contextlib.suppress(OSError):
                    conn.recv(256)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(2)
        server.close()


def kexinit_packet(lists: list[list[str]]) -> bytes:
    """An unencrypted SSH_MSG_KEXINIT binary packet carrying the 10 given name-lists."""
    payload = bytes([20]) + os.urandom(16)
    for names in lists:
        text = ",".join(names).encode()
        payload += struct.pack(">I", len(text)) + text
    payload += b"\x00" + b"\x00\x00\x00\x00"
    padding = 8 - (len(payload) + 5) % 8
    padding += 8 if padding < 4 else 0
    return struct.pack(">IB", len(payload) + padding + 1, padding) + payload + b"\x00" * padding


# --- host facts without SSH, and an SSH server whose words and facts are chosen ------------------


def host_facts_locally(
    names: list[str],
    config: Path | None,
    env: dict[str, str] | None = None,
    ssh_connection: str = "198.51.100.7 40000 127.0.0.1 22",
) -> tuple[dict, dict]:
    """Run the very script ssh_host sends (build_script) with `sh -s` here, as sshd would run it for a client at
    the first address of `ssh_connection`: the real snippets and the real `sshd -T -C`, no connection."""
    from preuve.observe.ssh import host as ssh_host

    nonce = "0123456789abcdef"
    script = ssh_host.build_script(names, nonce, str(config) if config else None, env)
    proc = subprocess.run(
        ["sh", "-s"],
        input=script.encode(),
        capture_output=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SSH_CONNECTION": ssh_connection},
    )
    results = ssh_host.parse_framed(proc.stdout, nonce)
    return {n: ssh_host.fact_value(n, results[n]) for n in names}, results


class ScriptedSshServer:
    """A paramiko SSH server on loopback that offers the authentication methods it is told to (in its answer to
    a `none` request), accepts one public key, and runs an exec'd `sh -s` HERE with SSH_CONNECTION set: a host
    whose facts are real but whose protocol answer can disagree with them."""

    def __init__(self, root: Path, methods: str, client_pub: Path) -> None:
        import paramiko

        self.methods = methods
        self.host_key = paramiko.ECDSAKey.generate(bits=256)
        self.client_key = paramiko.PKey.from_path(str(client_pub).removesuffix(".pub"))
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.known_hosts = root / f"known_hosts_{self.port}"
        self.known_hosts.write_text(
            f"[{LOOPBACK}]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"
        )
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedSshServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._done.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with contextlib.suppress(Exception):
                self._session(conn, peer)

    def _session(self, conn: socket.socket, peer: tuple) -> None:
        import paramiko

        outer = self
        ran = threading.Event()

        class Interface(paramiko.ServerInterface):
            def get_allowed_auths(self, username: str) -> str:
                return outer.methods

            def check_auth_none(self, username: str) -> int:
                return paramiko.AUTH_FAILED

            def check_auth_password(self, username: str, password: str) -> int:
                return paramiko.AUTH_FAILED

            def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
                same = key.asbytes() == outer.client_key.asbytes()
                return paramiko.AUTH_SUCCESSFUL if same else paramiko.AUTH_FAILED

            def check_channel_request(self, kind: str, chanid: int) -> int:
                refused = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
                return paramiko.OPEN_SUCCEEDED if kind == "session" else refused

            def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
                ran.set()
                return command == b"sh -s"

        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        try:
            transport.start_server(server=Interface())
            channel = transport.accept(10)
            if channel is None or not ran.wait(10):
                return
            script = b""
            while chunk := channel.recv(65536):
                script += chunk
            local = conn.getsockname()
            proc = subprocess.run(
                ["sh", "-s"],
                input=script,
                capture_output=True,
                timeout=120,
                check=False,
                env={
                    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                    "SSH_CONNECTION": f"{peer[0]} {peer[1]} {local[0]} {local[1]}",
                },
            )
            channel.sendall(proc.stdout)
            channel.send_exit_status(proc.returncode)
            channel.close()
        finally:
            time.sleep(0.1)
            transport.close()
