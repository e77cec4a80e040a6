"""Host facts (effective sshd config, OS, identity) gathered over ONE SSH connection.

Every requested fact runs in a single framed `sh` script sent through one `exec_command`, so a
host costs one TCP connection, one key exchange, one authentication and one round trip however
many facts the checks need. Host keys are checked strictly against a known_hosts file: a
compliance scan that logs into an impostor would certify the impostor.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import paramiko

from preuve.observe import baseline_facts

from preuve.observe.logs import journal as journal_facts

from preuve.observe.network import listening

from preuve.observe.ssh import sshd_effective

from preuve.observe.logs import syslog_ng

from preuve.observe.logs import timesync as timesync_facts
from preuve.observe.errors import HostKeyMismatch, ObservationError
from preuve.observe.ssh.protocol import describe_key_blob


@dataclass
class SshTarget:
    """Where and how to log in; holds the *name* of the password variable, never a password."""

    host: str
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    jump: SshTarget | None = None
    password_env: str | None = None
    sshd_config_path: str | None = None


# Fact name -> POSIX sh snippet. Snippets run in a subshell with stdin from /dev/null; the
# sshd_config path, when given, arrives in $PREUVE_SSHD_CONFIG (set once, shell-quoted).
FACT_COMMANDS: dict[str, str] = {
    "sshd_config": (
        'PATH="$PATH:/usr/sbin:/sbin"; set --; '
        'if [ -n "$PREUVE_SSHD_CONFIG" ]; then set -- -f "$PREUVE_SSHD_CONFIG"; fi; '
        'if [ "$(id -u)" -eq 0 ]; then sshd -T "$@"; else sudo -n sshd -T "$@"; fi'
    ),
    "sshd_effective": sshd_effective.SNIPPET,
    "os_release": "cat /etc/os-release",
    "uname": "uname -srm",
    "id": "id",
    "sshd_admin": baseline_facts.SSHD_ADMIN,
    "shadow": baseline_facts.SHADOW,
    "password_hashing": baseline_facts.PASSWORD_HASHING,
    "journald": baseline_facts.JOURNALD,
    "journal": journal_facts.JOURNAL,
    "logrotate": baseline_facts.LOGROTATE,
    "timesync": timesync_facts.TIMESYNC,
    "rsyslog": baseline_facts.RSYSLOG,
    "syslog_ng": syslog_ng.SNIPPET,
    "faillock": baseline_facts.FAILLOCK,
    "log_timestamps": baseline_facts.LOG_TIMESTAMPS,
    "listening": 'PATH="$PATH:/usr/sbin:/sbin"; ss -H -ltn',
    # nft first; a host without it may filter with iptables (legacy); neither installed is a finding, not an error
    "nft_ruleset": (
        'PATH="$PATH:/usr/sbin:/sbin"; as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; '
        'else sudo -n "$@"; fi; }; if command -v nft >/dev/null 2>&1; then as_root nft -j list ruleset; '
        'elif command -v iptables-save >/dev/null 2>&1; then echo "# iptables-save"; '
        'as_root iptables-save -t filter; else echo \'{"preuve_absent": "neither nft nor iptables-save '
        "is installed on the host\"}'; fi"
    ),
}

# Facts that run one privileged process per connection context (sudo + sshd -T, dozens on a host with Match
# blocks): the script gets three times the timeout when it carries one of them.
MANY_PROCESSES = frozenset({"sshd_effective", "sshd_admin"})

# sshd -T keywords whose single value is a comma-separated algorithm list.
_COMMA_LISTS = frozenset(
    {
        "ciphers",
        "macs",
        "kexalgorithms",
        "hostkeyalgorithms",
        "pubkeyacceptedalgorithms",
        "pubkeyacceptedkeytypes",
        "hostbasedacceptedalgorithms",
        "hostbasedacceptedkeytypes",
        "casignaturealgorithms",
        "gssapikexalgorithms",
    }
)

# How many connections and exec_command round trips this process made (tests and benchmarks).
counters: dict[str, int] = {"connections": 0, "exec_commands": 0}

# target identity -> {"at": monotonic time, "host_key": fact, "facts": {name: (value, raw)}}.
# Observe once per run: a fact asked again within MEMO_SECONDS is not fetched again; older
# entries are dropped so a long-lived process never serves stale evidence.
MEMO_SECONDS = 60.0
_memo: dict[tuple, dict] = {}
_lock = threading.Lock()  # collectors run in worker threads


def forget() -> None:
    """Drop memoized observations (a new run, or a test that wants a fresh connection)."""
    with _lock:
        _memo.clear()


def _count(what: str) -> None:
    with _lock:
        counters[what] += 1


def collect(
    target: SshTarget,
    facts: list[str],
    *,
    timeout: float = 10.0,
    sshd_config_path: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[dict, dict]:
    """Return (facts, raw) for `facts` of `target`, fetching the ones not memoized in one exec.

    facts always carries "host_key"; a fact whose command failed is {"error": "..."} rather
    than an exception, so one refused `sudo` does not hide the other facts of the host. `env` sets
    script variables the snippets read (sshd_effective: the addresses and accounts to evaluate).
    The `sshd_effective` fact also carries "offered": the methods the server offered this client after
    an RFC 4252 `none` request, on the same connection (protocol corroboration of the configuration).
    """
    unknown = [f for f in facts if f not in FACT_COMMANDS]
    if unknown:
        raise ValueError(f"unknown SSH host facts {unknown}; known: {sorted(FACT_COMMANDS)}")
    names = list(dict.fromkeys(facts))
    key = _target_key(target, sshd_config_path or target.sshd_config_path, env)
    with _lock:
        cached = _memo.get(key)
    if cached is not None and time.monotonic() - cached["at"] > MEMO_SECONDS:
        cached = None
    known = dict(cached["facts"]) if cached else {}
    missing = [f for f in names if f not in known]
    if cached is None or missing:
        host_key, results, offered = _observe(target, missing, timeout, key[1], env)
        known.update({f: (_fact_value(f, results[f]), results[f]) for f in missing})
        effective = known.get("sshd_effective")
        if "sshd_effective" in missing and effective and isinstance(effective[0], dict) and "base" in effective[0]:
            effective[0]["offered"] = offered
        at = cached["at"] if cached else time.monotonic()  # the oldest fact sets the expiry
        cached = {"at": at, "host_key": host_key, "facts": known}
        with _lock:
            _memo[key] = cached
    out: dict = {"host_key": cached["host_key"]}
    out.update({f: known[f][0] for f in names})
    return out, {f: known[f][1] for f in names}


def _target_key(target: SshTarget, config_path: str | None, env: dict[str, str] | None = None) -> tuple:
    """Identity of an observation: where we looked, as whom, trusting what, asking what (no secrets)."""
    chain = []
    hop: SshTarget | None = target
    while hop is not None:
        chain.append((hop.host, hop.port, hop.user, hop.known_hosts, hop.trust_on_first_use))
        hop = hop.jump
    return (tuple(chain), config_path, tuple(sorted((env or {}).items())))


def _observe(
    target: SshTarget, names: list[str], timeout: float, config_path: str | None, env: dict[str, str] | None = None
) -> tuple[dict, dict[str, dict], dict]:
    """One connection, one exec: return (host_key fact, raw results of `names`, the `none` reply)."""
    transports: list[paramiko.Transport] = []
    offered: dict = {}
    try:
        transport, host_key = _connect(target, timeout, transports, offered)
        results = _run_facts(transport, names, config_path, timeout, _where(target), env) if names else {}
    finally:
        for t in reversed(transports):
            t.close()
    return host_key, results, offered


# --- connection ----------------------------------------------------------------------------------


def _where(target: SshTarget) -> str:
    return f"{target.user}@{target.host}:{target.port}"


def _known_hosts_name(target: SshTarget) -> str:
    """known_hosts spells non-default ports as [host]:port."""
    return target.host if target.port == 22 else f"[{target.host}]:{target.port}"


def _connect(
    target: SshTarget, timeout: float, transports: list[paramiko.Transport], offered: dict | None = None
) -> tuple[paramiko.Transport, dict]:
    """Open an authenticated transport to target (through its jump hosts); verify its host key. With `offered`,
    first send an RFC 4252 `none` request and record the methods the server offers (no extra connection)."""
    sock = _open_socket(target, timeout, transports)
    transport = paramiko.Transport(sock)
    transports.append(transport)
    _count("connections")
    transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
    known = _load_known_hosts(target)
    entries = known.lookup(_known_hosts_name(target))
    _prefer_known_key_types(transport, entries)
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise ObservationError(f"ssh {_where(target)}: SSH handshake failed: {_reason(e)}") from None
    if not (transport.is_active() and transport.initial_kex_done):  # start_client gives up silently
        raise ObservationError(f"ssh {_where(target)}: timeout: no SSH handshake within {timeout:g}s")
    host_key = _verify_host_key(target, transport.get_remote_server_key(), entries)
    if offered is not None:
        offered.update(auth_none(transport, target.user, target.port))
    if not transport.is_authenticated():
        _authenticate(target, transport)
    return transport, host_key


def none_from_vantages(
    target: SshTarget, vantages: list[tuple[str, str]], timeout: float, connect_timeout: float = 1.0
) -> list[dict]:
    """The same RFC 4252 `none` request sent from each (name, network namespace) vantage point, in parallel: what
    the server offers a client of that zone. The host key is checked against known_hosts (no trust on first use);
    a vantage the firewall keeps out is recorded as unreachable, not as an error of the host."""
    from preuve.observe.network import netns

    results: list[dict] = [{"vantage": name, "netns": ns, "error": "no answer"} for name, ns in vantages]
    direct = replace(target, jump=None, trust_on_first_use=False)

    def probe(i: int, ns: str) -> None:
        transports: list[paramiko.Transport] = []
        out = {"vantage": vantages[i][0], "netns": ns}
        where = f"{_where(target)} from {ns}"
        try:
            with netns.enter(ns):  # the socket stays in the namespace it was made in
                try:
                    sock = socket.create_connection((target.host, target.port), timeout=connect_timeout)
                except OSError as e:
                    out["unreachable"] = f"{where}: {e.strerror or _reason(e)}"
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
            out["error"] = f"{where}: {_reason(e)}"
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


def auth_none(transport: paramiko.Transport, user: str, port: int) -> dict:
    """RFC 4252 §5.2: the methods that can continue after a `none` request (what the server really offers).

    OpenSSH does not count this first `none` request as a failed attempt (MaxAuthTries).
    """
    out: dict = {"user": user, "port": port, "request": "none"}
    try:
        transport.auth_none(user)
    except paramiko.BadAuthenticationType as e:
        return {**out, "none_accepted": False, "methods": list(e.allowed_types)}
    except (paramiko.SSHException, OSError, EOFError) as e:
        return {**out, "error": _reason(e)}
    return {**out, "none_accepted": transport.is_authenticated(), "methods": []}


def _open_socket(
    target: SshTarget, timeout: float, transports: list[paramiko.Transport]
) -> socket.socket | paramiko.Channel:
    """A TCP socket, or a direct-tcpip channel through the (recursively verified) jump host."""
    if target.jump is not None:
        jump, _ = _connect(target.jump, timeout, transports)
        try:
            return jump.open_channel("direct-tcpip", (target.host, target.port), ("127.0.0.1", 0), timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(
                f"ssh {_where(target)}: jump host {target.jump.host} could not reach it: {_reason(e)}"
            ) from None
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except ConnectionRefusedError:
        raise ObservationError(f"ssh {_where(target)}: connection refused") from None
    except TimeoutError:
        raise ObservationError(f"ssh {_where(target)}: timeout connecting after {timeout:g}s") from None
    except OSError as e:
        raise ObservationError(f"ssh {_where(target)}: cannot connect: {e.strerror or e}") from None
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


def _reason(e: BaseException) -> str:
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
        raise ObservationError(f"ssh {_where(target)}: known_hosts file {path} does not exist")
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
        raise ObservationError(f"ssh {_where(target)}: cannot read known_hosts {path}: {_reason(e)}") from None
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


def _verify_host_key(target: SshTarget, key: paramiko.PKey, entries: dict | None) -> dict:
    """Strict check against known_hosts; trust-on-first-use only when asked (accept-new semantics)."""
    fact = {"type": key.get_name(), "fingerprint_sha256": _fingerprint(key)}
    name = _known_hosts_name(target)
    if entries:
        expected = entries.get(key.get_name())
        if expected is not None and expected.asbytes() == key.asbytes():
            return {**fact, "trusted": "known_hosts"}
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
            f"ssh {_where(target)}: host key unknown for {name} "
            f"({fact['type']} {fact['fingerprint_sha256']}) in known_hosts "
            f"{target.known_hosts or '(none given)'}; add it to known_hosts or enable trust_on_first_use"
        )
    if target.known_hosts:  # remember it, so that the next run checks strictly (accept-new)
        try:
            with open(target.known_hosts, "a", encoding="ascii") as f:
                f.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        except OSError as e:
            raise ObservationError(
                f"ssh {_where(target)}: cannot record the first-use host key in {target.known_hosts}: {e}"
            ) from None
    return {**fact, "trusted": "tofu"}


def handshake(target: SshTarget, timeout: float, transports: list, where: str) -> tuple[paramiko.Transport, dict]:
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
        raise ObservationError(f"ssh {where}: SSH handshake failed: {_reason(e)}") from None
    if not (transport.is_active() and transport.initial_kex_done):
        raise ObservationError(f"ssh {where}: timeout: no SSH handshake within {timeout:g}s")
    return transport, _verify_host_key(target, transport.get_remote_server_key(), entries)


def _authenticate(target: SshTarget, transport: paramiko.Transport) -> None:
    """Public key, then password from the named environment variable; never the agent or ~/.ssh."""
    attempts: list[tuple[str, Callable[[], object]]] = []
    if target.key_file:
        attempts.append(("publickey", lambda: transport.auth_publickey(target.user, _load_key(target))))
    if target.password_env:
        attempts.append(("password", lambda: transport.auth_password(target.user, _password(target))))
    if not attempts:
        raise ObservationError(f"ssh {_where(target)}: no credentials (set key_file or password_env)")
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
            raise ObservationError(f"ssh {_where(target)}: authentication error: {_reason(e)}") from None
        if transport.is_authenticated():
            return
        failures.append(f"{method} accepted but the server requires more")
    raise ObservationError(f"ssh {_where(target)}: authentication failed: {'; '.join(failures)}")


def _load_key(target: SshTarget) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(target.key_file)
    except paramiko.PasswordRequiredException:
        raise ObservationError(f"ssh {_where(target)}: key file {target.key_file} is encrypted") from None
    except (OSError, paramiko.SSHException, ValueError) as e:
        raise ObservationError(f"ssh {_where(target)}: cannot load key file {target.key_file}: {_reason(e)}") from None


def _password(target: SshTarget) -> str:
    value = os.environ.get(target.password_env or "")
    if not value:
        raise ObservationError(f"ssh {_where(target)}: environment variable {target.password_env} is not set")
    return value


# --- the framed script ---------------------------------------------------------------------------


def build_script(names: list[str], nonce: str, config_path: str | None, env: dict[str, str] | None = None) -> str:
    """POSIX sh that runs each fact's snippet and frames stdout, stderr and exit status with a nonce.

    The nonce is random per run, so no command output can forge a frame boundary.
    """
    bad = [n for n in names if not re.fullmatch(r"\w+", n)]
    if bad:
        raise ValueError(f"fact names must be identifiers: {bad}")
    lines = [
        "umask 077",
        'd=$(mktemp -d 2>/dev/null) || { d="${TMPDIR:-/tmp}/preuve.$$"; mkdir "$d" || exit 97; }',
        "trap 'rm -rf \"$d\"' EXIT",
        f"PREUVE_SSHD_CONFIG={shlex.quote(config_path or '')}",
    ]
    for var, value in sorted((env or {}).items()):
        if not re.fullmatch(r"PREUVE_[A-Z_]+", var):
            raise ValueError(f"script variable names must be PREUVE_*: {var!r}")
        lines.append(f"{var}={shlex.quote(value)}")
    for name in names:
        mark = f"=={nonce} {name}"
        lines += [
            f'( {FACT_COMMANDS[name]}\n) </dev/null >"$d/o" 2>"$d/e"; r=$?',
            f"printf '%s\\n' '{mark} stdout'; cat \"$d/o\"",
            f"printf '\\n%s\\n' '{mark} stderr'; cat \"$d/e\"",
            f"printf '\\n%s %d\\n' '{mark} rc' \"$r\"",
        ]
    return "\n".join(lines) + "\n"


def parse_framed(output: bytes, nonce: str) -> dict[str, dict]:
    """Inverse of build_script: {fact: {"rc", "stdout", "stderr"}} for every complete frame."""
    n = re.escape(nonce)
    frame = re.compile(
        rb"=="
        + n.encode()
        + rb" (\w+) stdout\n(.*?)\n=="
        + n.encode()
        + rb" \1 stderr\n(.*?)\n=="
        + n.encode()
        + rb" \1 rc (\d+)\n",
        re.DOTALL,
    )
    return {
        m[1].decode(): {"rc": int(m[4]), "stdout": _text(m[2]), "stderr": _text(m[3])} for m in frame.finditer(output)
    }


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _run_facts(
    transport: paramiko.Transport,
    names: list[str],
    config_path: str | None,
    timeout: float,
    where: str,
    env: dict[str, str] | None = None,
) -> dict[str, dict]:
    """Send the script to `sh -s` on stdin (no login-shell quoting, no ARG_MAX) and read it back."""
    nonce = secrets.token_hex(8)
    if set(names) & MANY_PROCESSES:
        timeout *= 3
    deadline = time.monotonic() + timeout
    try:
        channel = transport.open_session(timeout=timeout)
        _count("exec_commands")
        channel.exec_command("sh -s")
        channel.sendall(build_script(names, nonce, config_path, env).encode())
        channel.shutdown_write()
        output, stalled = _read_all(channel, deadline)
        channel.status_event.wait(0 if stalled else max(deadline - time.monotonic(), 0.1))
        status = channel.exit_status if channel.exit_status_ready() else None
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise ObservationError(f"ssh {where}: running fact commands failed: {_reason(e)}") from None
    results = parse_framed(output, nonce)
    for name in names:
        if name not in results:
            why = f"timed out after {timeout:g}s" if stalled else f"script ended with status {status} first"
            results[name] = {"rc": None, "stdout": "", "stderr": f"preuve: no result ({why})"}
    return results


def _read_all(channel: paramiko.Channel, deadline: float) -> tuple[bytes, bool]:
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


# --- fact parsers --------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _fact_value(name: str, result: dict) -> object:
    """Parsed fact, or {"error": first stderr line} when its command failed."""
    if result["rc"] != 0:
        reason = _first_line(result["stderr"]) or _first_line(result["stdout"]) or f"exit status {result['rc']}"
        from preuve.observe.privileged import explain_refusal  # a refused sudo names the rule to add

        return {"error": explain_refusal(name, reason)}
    return PARSERS.get(name, str.strip)(result["stdout"])


def parse_sshd_config(text: str) -> dict[str, list[str]]:
    """`sshd -T` output -> {keyword: [values]}: repeated keywords accumulate, algorithm lists split."""
    config: dict[str, list[str]] = {}
    for line in text.splitlines():
        keyword, _, value = line.strip().partition(" ")
        if not keyword or keyword.startswith("#"):
            continue
        keyword = keyword.lower()
        value = value.strip()
        values = [v for v in value.split(",") if v] if keyword in _COMMA_LISTS else [value]
        config.setdefault(keyword, []).extend(values)
    return config


def parse_os_release(text: str) -> dict[str, str]:
    """os-release(5): KEY=value lines with shell-style quoting."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value]
        out[key] = " ".join(words)
    return out


PARSERS: dict[str, Callable[[str], object]] = {
    "sshd_config": parse_sshd_config,
    "sshd_effective": sshd_effective.parse,
    "os_release": parse_os_release,
    "uname": str.strip,
    "id": str.strip,
    "sshd_admin": baseline_facts.parse_sshd_admin,
    "shadow": baseline_facts.parse_shadow,
    "password_hashing": baseline_facts.parse_password_hashing,
    "journald": baseline_facts.parse_journald,
    "journal": journal_facts.parse_journal,
    "logrotate": baseline_facts.parse_logrotate,
    "timesync": timesync_facts.parse_timesync,
    "rsyslog": baseline_facts.parse_rsyslog,
    "syslog_ng": syslog_ng.parse,
    "faillock": baseline_facts.parse_faillock,
    "log_timestamps": baseline_facts.parse_log_timestamps,
    "listening": listening.parse_ss,
    "nft_ruleset": listening.parse_nft,
}
