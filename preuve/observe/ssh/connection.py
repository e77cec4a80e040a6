"""One SSH connection, verified and authenticated: the public API every SSH-speaking collector uses.

Host keys are checked strictly against a known_hosts file (trust on first use only when asked): a compliance scan
that logs into an impostor would certify the impostor. Credentials come from a key file or a named environment
variable, never from the agent or ~/.ssh. This is the only module of preuve.observe.ssh that imports paramiko.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import paramiko

from preuve.observe.errors import HostKeyMismatch, ObservationError
from preuve.observe.ssh.host import count
from preuve.observe.ssh.protocol import describe_key_blob
from preuve.observe.ssh.target import AuthNoneReply, HostKeyFact, SshTarget

__all__ = [
    "SshTarget",
    "auth_none",
    "authenticate",
    "connect",
    "handshake",
    "none_from_vantages",
    "read_all",
    "reason",
    "run_script",
    "where",
]

_lock = threading.Lock()


def where(target: SshTarget) -> str:
    return f"{target.user}@{target.host}:{target.port}"


def _known_hosts_name(target: SshTarget) -> str:
    """known_hosts spells non-default ports as [host]:port."""
    return target.host if target.port == 22 else f"[{target.host}]:{target.port}"


def connect(
    target: SshTarget, timeout: float, transports: list[paramiko.Transport], offered: AuthNoneReply | None = None
) -> tuple[paramiko.Transport, HostKeyFact]:
    """Open an authenticated transport to target (through its jump hosts); verify its host key. With `offered`,
    first send an RFC 4252 `none` request and record the methods the server offers (no extra connection)."""
    sock = _open_socket(target, timeout, transports)
    transport = paramiko.Transport(sock)
    transports.append(transport)
    count("connections")
    transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
    known = _load_known_hosts(target)
    entries = known.lookup(_known_hosts_name(target))
    _prefer_known_key_types(transport, entries)
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise ObservationError(f"ssh {where(target)}: SSH handshake failed: {reason(e)}") from None
    if not (transport.is_active() and transport.initial_kex_done):  # start_client gives up silently
        raise ObservationError(f"ssh {where(target)}: timeout: no SSH handshake within {timeout:g}s")
    host_key = _verify_host_key(target, transport.get_remote_server_key(), entries)
    if offered is not None:
        offered.update(auth_none(transport, target.user, target.port))
    if not transport.is_authenticated():
        authenticate(target, transport)
    return transport, host_key


def none_from_vantages(
    target: SshTarget, vantages: list[tuple[str, str]], timeout: float, connect_timeout: float = 1.0
) -> list[AuthNoneReply]:
    """The same RFC 4252 `none` request sent from each (name, network namespace) vantage point, in parallel: what
    the server offers a client of that zone. The host key is checked against known_hosts (no trust on first use);
    a vantage the firewall keeps out is recorded as unreachable, not as an error of the host."""
    from preuve.observe.network import netns

    results: list[AuthNoneReply] = [{"vantage": name, "netns": ns, "error": "no answer"} for name, ns in vantages]
    direct = replace(target, jump=None, trust_on_first_use=False)

    def probe(i: int, ns: str) -> None:
        transports: list[paramiko.Transport] = []
        out: AuthNoneReply = {"vantage": vantages[i][0], "netns": ns}
        place = f"{where(target)} from {ns}"
        try:
            with netns.enter(ns):  # the socket stays in the namespace it was made in
                try:
                    sock = socket.create_connection((target.host, target.port), timeout=connect_timeout)
                except OSError as e:
                    out["unreachable"] = f"{place}: {e.strerror or reason(e)}"
                    return
            transport = paramiko.Transport(_low_latency(sock))
            transports.append(transport)
            transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
            entries = _load_known_hosts(direct).lookup(_known_hosts_name(direct))
            _prefer_known_key_types(transport, entries)
            transport.start_client(timeout=timeout)
            _verify_host_key(direct, transport.get_remote_server_key(), entries)
            out.update(auth_none(transport, target.user, target.port))
        except ObservationError as e:  # host key unknown or changed, seen from this zone
            out["error"] = str(e)
        except (OSError, paramiko.SSHException, EOFError) as e:
            out["error"] = f"{place}: {reason(e)}"
        finally:
            for t in transports:
                t.close()
            results[i] = out

    threads = [
        threading.Thread(target=probe, args=(i, ns), daemon=True, name="preuve-none-probe")
        for i, (_, ns) in enumerate(vantages)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * 3 + 1)
    return results


def auth_none(transport: paramiko.Transport, user: str, port: int) -> AuthNoneReply:
    """RFC 4252 §5.2: the methods that can continue after a `none` request (what the server really offers).

    OpenSSH does not count this first `none` request as a failed attempt (MaxAuthTries).
    """
    out: AuthNoneReply = {"user": user, "port": port, "request": "none"}
    try:
        transport.auth_none(user)
    except paramiko.BadAuthenticationType as e:
        return {**out, "none_accepted": False, "methods": list(e.allowed_types)}
    except (paramiko.SSHException, OSError, EOFError) as e:
        return {**out, "error": reason(e)}
    return {**out, "none_accepted": transport.is_authenticated(), "methods": []}


def _open_socket(
    target: SshTarget, timeout: float, transports: list[paramiko.Transport]
) -> socket.socket | paramiko.Channel:
    """A TCP socket, or a direct-tcpip channel through the (recursively verified) jump host."""
    if target.jump is not None:
        jump, _ = connect(target.jump, timeout, transports)
        try:
            return jump.open_channel("direct-tcpip", (target.host, target.port), ("127.0.0.1", 0), timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(
                f"ssh {where(target)}: jump host {target.jump.host} could not reach it: {reason(e)}"
            ) from None
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except ConnectionRefusedError:
        raise ObservationError(f"ssh {where(target)}: connection refused") from None
    except TimeoutError:
        raise ObservationError(f"ssh {where(target)}: timeout connecting after {timeout:g}s") from None
    except OSError as e:
        raise ObservationError(f"ssh {where(target)}: cannot connect: {e.strerror or e}") from None
    return _low_latency(sock)


class _QuickAckSocket(socket.socket):
    """Acknowledge every segment at once (Linux TCP_QUICKACK, which the kernel keeps resetting)."""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        with contextlib.suppress(OSError):
            self.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data


def _low_latency(sock: socket.socket) -> socket.socket:
    """Avoid Nagle/delayed-ACK stalls: ~40 ms each on auth and channel open, measured on loopback.

    paramiko writes small packets back to back (TCP_NODELAY fixes our side); sshd keeps Nagle on
    for non-interactive sessions, so its second small packet waits for our delayed ACK.
    """
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not hasattr(socket, "TCP_QUICKACK"):
        return sock
    timeout = sock.gettimeout()
    quick = _QuickAckSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    quick.settimeout(timeout)
    return quick


def reason(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _load_known_hosts(target: SshTarget) -> paramiko.HostKeys:
    """Only the target's own known_hosts file: never ~/.ssh or /etc/ssh implicitly."""
    known = paramiko.HostKeys()
    path = target.known_hosts
    if path is None:
        return known
    if not os.path.exists(path):
        if target.trust_on_first_use:
            return known
        raise ObservationError(f"ssh {where(target)}: known_hosts file {path} does not exist")
    try:
        lines = _known_hosts_lines(path, _known_hosts_name(target))
        for lineno, line in lines:
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line, lineno)
            except paramiko.SSHException:
                continue
            for name in entry.hostnames if entry is not None else ():
                known.add(name, entry.key.get_name(), entry.key)
    except (OSError, paramiko.hostkeys.InvalidHostKey) as e:
        raise ObservationError(f"ssh {where(target)}: cannot read known_hosts {path}: {reason(e)}") from None
    return known


# path -> ((mtime_ns, size), {plain host name: [(lineno, line)]}, [hashed or @marker lines]). A fleet's known_hosts
# holds every host: parsing all of it for each host (paramiko's HostKeys.load, itself quadratic) made a sweep's cost
# grow with the square of the fleet size. Read once per file version; each host parses only its own lines.
_known_hosts_index: dict[str, tuple[tuple[int, int], dict[str, list[tuple[int, str]]], list[tuple[int, str]]]] = {}


def _known_hosts_lines(path: str, name: str) -> list[tuple[int, str]]:
    """The known_hosts lines that can match `name`: its own, plus hashed and marker lines (matched by paramiko)."""
    st = os.stat(path)
    version = (st.st_mtime_ns, st.st_size)
    with _lock:
        cached = _known_hosts_index.get(path)
    if cached is None or cached[0] != version:
        by_name: dict[str, list[tuple[int, str]]] = {}
        other: list[tuple[int, str]] = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, raw in enumerate(f, 1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                hosts = line.split(None, 1)[0]
                if hosts.startswith(("|", "@")):
                    other.append((lineno, line))
                    continue
                for host in hosts.split(","):
                    by_name.setdefault(host, []).append((lineno, line))
        cached = (version, by_name, other)
        with _lock:
            _known_hosts_index[path] = cached
    return cached[1].get(name, []) + cached[2]


def _prefer_known_key_types(transport: paramiko.Transport, entries: paramiko.hostkeys.SubDict | None) -> None:
    """Negotiate a host key type we already know, as OpenSSH does, so a second key is no 'mismatch'."""
    if not entries:
        return
    options = transport.get_security_options()
    offered = list(options.key_types)
    wanted: list[str] = []
    for known_type in entries:
        wanted += ["rsa-sha2-512", "rsa-sha2-256"] if known_type == "ssh-rsa" else [known_type]
    first = [t for t in wanted if t in offered]
    options.key_types = first + [t for t in offered if t not in first]


def _fingerprint(key: paramiko.PKey) -> str:
    return describe_key_blob(key.asbytes())["fingerprint_sha256"]


def _verify_host_key(target: SshTarget, key: paramiko.PKey, entries: dict | None) -> HostKeyFact:
    """Strict check against known_hosts; trust-on-first-use only when asked (accept-new semantics)."""
    fact = HostKeyFact(type=key.get_name(), fingerprint_sha256=_fingerprint(key), trusted="known_hosts")
    name = _known_hosts_name(target)
    if entries:
        expected = entries.get(key.get_name())
        if expected is not None and expected.asbytes() == key.asbytes():
            return fact
        known = ", ".join(f"{t} {_fingerprint(k)}" for t, k in entries.items())
        raise HostKeyMismatch(
            f"HOST KEY MISMATCH for {name} (user {target.user}): known_hosts {target.known_hosts} expects "
            f"{known}, but the server presented {fact['type']} {fact['fingerprint_sha256']}. "
            "Possible man-in-the-middle, or the host was reinstalled; it was NOT scanned. If the change is "
            "expected, verify the new key out of band, then run: "
            f"ssh-keygen -R '{name}' -f {target.known_hosts}"
        )
    if not target.trust_on_first_use:
        raise ObservationError(
            f"ssh {where(target)}: host key unknown for {name} "
            f"({fact['type']} {fact['fingerprint_sha256']}) in known_hosts "
            f"{target.known_hosts or '(none given)'}; add it to known_hosts or enable trust_on_first_use"
        )
    if target.known_hosts:  # remember it, so that the next run checks strictly (accept-new)
        try:
            with open(target.known_hosts, "a", encoding="ascii") as f:
                f.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        except OSError as e:
            raise ObservationError(
                f"ssh {where(target)}: cannot record the first-use host key in {target.known_hosts}: {e}"
            ) from None
    return HostKeyFact(type=fact["type"], fingerprint_sha256=fact["fingerprint_sha256"], trusted="tofu")


def handshake(
    target: SshTarget, timeout: float, transports: list, where: str
) -> tuple[paramiko.Transport, HostKeyFact]:
    """A transport whose host key was verified (known_hosts, else trust on first use), before any authentication:
    (transport, host-key fact). The transport is appended to `transports` at once, for the caller to close."""
    sock = _open_socket(target, timeout, transports)
    transport = paramiko.Transport(sock)
    transports.append(transport)
    transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
    entries = _load_known_hosts(target).lookup(_known_hosts_name(target))
    _prefer_known_key_types(transport, entries)
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise ObservationError(f"ssh {where}: SSH handshake failed: {reason(e)}") from None
    if not (transport.is_active() and transport.initial_kex_done):
        raise ObservationError(f"ssh {where}: timeout: no SSH handshake within {timeout:g}s")
    return transport, _verify_host_key(target, transport.get_remote_server_key(), entries)


def authenticate(target: SshTarget, transport: paramiko.Transport) -> None:
    """Public key, then password from the named environment variable; never the agent or ~/.ssh."""
    attempts: list[tuple[str, Callable[[], object]]] = []
    if target.key_file:
        attempts.append(("publickey", lambda: transport.auth_publickey(target.user, _load_key(target))))
    if target.password_env:
        attempts.append(("password", lambda: transport.auth_password(target.user, _password(target))))
    if not attempts:
        raise ObservationError(f"ssh {where(target)}: no credentials (set key_file or password_env)")
    failures = []
    for method, attempt in attempts:
        try:
            attempt()
        except paramiko.BadAuthenticationType as e:
            failures.append(f"{method} not allowed by the server (allowed: {', '.join(e.allowed_types)})")
            continue
        except paramiko.AuthenticationException:
            failures.append(f"{method} rejected")
            continue
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(f"ssh {where(target)}: authentication error: {reason(e)}") from None
        if transport.is_authenticated():
            return
        failures.append(f"{method} accepted but the server requires more")
    raise ObservationError(f"ssh {where(target)}: authentication failed: {'; '.join(failures)}")


def _load_key(target: SshTarget) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(target.key_file)
    except paramiko.PasswordRequiredException:
        raise ObservationError(f"ssh {where(target)}: key file {target.key_file} is encrypted") from None
    except (OSError, paramiko.SSHException, ValueError) as e:
        raise ObservationError(f"ssh {where(target)}: cannot load key file {target.key_file}: {reason(e)}") from None


def _password(target: SshTarget) -> str:
    value = os.environ.get(target.password_env or "")
    if not value:
        raise ObservationError(f"ssh {where(target)}: environment variable {target.password_env} is not set")
    return value


def read_all(channel: paramiko.Channel, deadline: float) -> tuple[bytes, bool]:
    """Read stdout until EOF or the deadline; return (bytes, stalled)."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True
        channel.settimeout(remaining)
        try:
            chunk = channel.recv(65536)
        except TimeoutError:
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def run_script(
    transport: paramiko.Transport, script: str, timeout: float, where: str
) -> tuple[bytes, bool, int | None]:
    """Send `script` to `sh -s` on stdin (no login-shell quoting, no ARG_MAX): (stdout, stalled, exit status)."""
    deadline = time.monotonic() + timeout
    try:
        channel = transport.open_session(timeout=timeout)
        count("exec_commands")
        channel.exec_command("sh -s")
        channel.sendall(script.encode())
        channel.shutdown_write()
        output, stalled = read_all(channel, deadline)
        channel.status_event.wait(0 if stalled else max(deadline - time.monotonic(), 0.1))
        status = channel.exit_status if channel.exit_status_ready() else None
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise ObservationError(f"ssh {where}: running fact commands failed: {reason(e)}") from None
    return output, stalled, status


def run_python(target: SshTarget, timeout: float, loader: str, source: bytes, request: bytes, limit: float) -> bytes:
    """Run `loader` with the vantage host's python3 over one SSH session, feeding it `len(source)`, `source` and
    `request` on stdin; return stdout. The probe scripts shipped this way are self-contained (stdlib only).

    A connection failure, or no end of output within `limit` seconds, is an ObservationError naming the vantage."""
    transports: list[paramiko.Transport] = []
    try:
        transport, _ = connect(target, timeout, transports)
        channel = transport.open_session(timeout=timeout)
        channel.exec_command(f"python3 -c {shlex.quote(loader)}")
        channel.sendall(f"{len(source)}\n".encode() + source + request)
        channel.shutdown_write()
        output, stalled = read_all(channel, time.monotonic() + limit)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise ObservationError(f"vantage {target.host}: {type(exc).__name__}: {exc}") from None
    finally:
        for t in reversed(transports):
            t.close()
    if stalled:
        raise ObservationError(f"vantage {target.host}: the probes did not finish within {limit:.0f}s")
    return output
