"""The `ssh_host` collector: host facts (effective sshd config, OS, identity, and every HostFact declared in the
family packages) gathered over ONE SSH connection.

Every requested fact runs in a single framed `sh` script sent through one `exec_command`, so a host costs one TCP
connection, one key exchange, one authentication and one round trip however many facts the checks need. The facts
come from the registry (preuve/observe/registry.py: `HostFact(name, command, parse)` in any family module); the
connection itself (host key checked against known_hosts, credentials) is preuve.observe.ssh.connection.
"""

from __future__ import annotations

import re
import secrets
import shlex
import threading
import time
from typing import TYPE_CHECKING, Any

from preuve.observe import registry
from preuve.observe.registry import Collector, HostFact
from preuve.observe.ssh.target import AuthNoneReply, FactError, HostKeyFact, ScriptResult, SshTarget, ssh_target

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

__all__ = ["COLLECTOR", "HOST_FACTS", "SshTarget", "build_script", "collect", "fact_value", "forget", "parse_framed"]

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


def count(what: str) -> None:
    """Count a connection or an exec_command round trip (tests and benchmarks read `counters`)."""
    with _lock:
        counters[what] += 1


def collect(
    target: SshTarget,
    facts: list[str],
    *,
    timeout: float = 10.0,
    sshd_config_path: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, ScriptResult]]:
    """Return (facts, raw) for `facts` of `target`, fetching the ones not memoized in one exec.

    facts always carries "host_key"; a fact whose command failed is {"error": "..."} rather
    than an exception, so one refused `sudo` does not hide the other facts of the host. `env` sets
    script variables the snippets read (sshd_effective: the addresses and accounts to evaluate).
    The `sshd_effective` fact also carries "offered": the methods the server offered this client after
    an RFC 4252 `none` request, on the same connection (protocol corroboration of the configuration).
    """
    for f in facts:
        registry.fact(f)  # ValueError naming the known facts
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
        known.update({f: (fact_value(f, results[f]), results[f]) for f in missing})
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
) -> tuple[HostKeyFact, dict[str, ScriptResult], AuthNoneReply]:
    """One connection, one exec: return (host_key fact, raw results of `names`, the `none` reply)."""
    from preuve.observe.ssh.connection import connect, where

    transports: list[Any] = []
    offered: AuthNoneReply = {}
    try:
        transport, host_key = connect(target, timeout, transports, offered)
        results = _run_facts(transport, names, config_path, timeout, where(target), env) if names else {}
    finally:
        for t in reversed(transports):
            t.close()
    return host_key, results, offered


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
            f'( {registry.fact(name).command}\n) </dev/null >"$d/o" 2>"$d/e"; r=$?',
            f"printf '%s\\n' '{mark} stdout'; cat \"$d/o\"",
            f"printf '\\n%s\\n' '{mark} stderr'; cat \"$d/e\"",
            f"printf '\\n%s %d\\n' '{mark} rc' \"$r\"",
        ]
    return "\n".join(lines) + "\n"


def parse_framed(output: bytes, nonce: str) -> dict[str, ScriptResult]:
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
    transport: Any,
    names: list[str],
    config_path: str | None,
    timeout: float,
    where: str,
    env: dict[str, str] | None = None,
) -> dict[str, ScriptResult]:
    """Run the facts' framed script over `transport` and read each fact's frame back."""
    from preuve.observe.ssh.connection import run_script

    nonce = secrets.token_hex(8)
    if any(registry.fact(n).many_processes for n in names):
        timeout *= 3
    output, stalled, status = run_script(transport, build_script(names, nonce, config_path, env), timeout, where)
    results = parse_framed(output, nonce)
    for name in names:
        if name not in results:
            why = f"timed out after {timeout:g}s" if stalled else f"script ended with status {status} first"
            results[name] = {"rc": None, "stdout": "", "stderr": f"preuve: no result ({why})"}
    return results


# --- fact parsers --------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def fact_value(name: str, result: ScriptResult) -> object | FactError:
    """Parsed fact, or {"error": first stderr line} when its command failed."""
    if result["rc"] != 0:
        reason = _first_line(result["stderr"]) or _first_line(result["stdout"]) or f"exit status {result['rc']}"
        from preuve.observe.privileged import explain_refusal  # a refused sudo names the rule to add

        return {"error": explain_refusal(name, reason)}
    return registry.fact(name).parse(result["stdout"])


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


HOST_FACTS = (
    HostFact(
        "sshd_config",
        'PATH="$PATH:/usr/sbin:/sbin"; set --; '
        'if [ -n "$PREUVE_SSHD_CONFIG" ]; then set -- -f "$PREUVE_SSHD_CONFIG"; fi; '
        'if [ "$(id -u)" -eq 0 ]; then sshd -T "$@"; else sudo -n sshd -T "$@"; fi',
        parse_sshd_config,
        doc="`sshd -T` (global section only); the sshd_config path, when given, arrives in $PREUVE_SSHD_CONFIG",
    ),
    HostFact("os_release", "cat /etc/os-release", parse_os_release),
    HostFact("uname", "uname -srm"),
    HostFact("id", "id"),
)


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> registry.Outcome:
    from preuve.observe.reveal import tool
    from preuve.observe.ssh import sshd_effective

    access: Any = target.access
    env = None
    if {"sshd_effective", "sshd_admin"} & set(facts):  # where real connections come from: zones, vantage points,
        from preuve.observe.profile_params import current  # declared accounts; who the admin groups are

        addrs, users = sshd_effective.sources(sshd_effective.current_inventory(), target)
        env = sshd_effective.shell_env(addrs, users, current().access.admin_groups)
    volumes = list(getattr(target.spec, "data_volumes", None) or [])
    if "luks" in facts:  # the data volumes the inventory declares (preuve.observe.host.luks reads their headers)
        env = {**(env or {}), "PREUVE_DATA_VOLUMES": " ".join(volumes)}
    if "admin_keys" in facts:  # preuve's own canary accounts on this host hold the scanner's test keys: not judged
        inv = sshd_effective.current_inventory()
        canaries = sorted(
            {c.user for c in inv.baseline.ssh_canaries if c.address == target.address}
            | {c.user for c in inv.baseline.lockout_canaries if c.host == target.name}
            if inv is not None
            else set()
        )
        env = {**(env or {}), "PREUVE_CANARY_USERS": " ".join(canaries)}
    query = {
        "host": target.address,
        "port": access.port,
        "user": access.user,
        "facts": sorted(facts),
        "commands": {f: registry.fact(f).command for f in sorted(facts)},
        "sshd_config_path": access.sshd_config,
        "known_hosts": access.known_hosts,
        "trust_on_first_use": access.trust_on_first_use,
    }
    if "luks" in facts:
        query["data_volumes"] = volumes
    if "admin_keys" in facts:
        query["declared_canaries"] = env["PREUVE_CANARY_USERS"].split() if env else []
    if env is not None and "PREUVE_ADMIN_GROUPS" in env:
        query["sshd_contexts"] = {
            "addresses": addrs,
            "accounts": users,
            "admin_groups": env["PREUVE_ADMIN_GROUPS"].split(),
            "also": "the scanner's own connection ($SSH_CONNECTION), root, admin group members, "
            "every ListenAddress (only for the criteria Match blocks use)",
        }
    ssh = ssh_target(target, hosts)
    found, raw = collect(ssh, sorted(facts), timeout=timeout, sshd_config_path=access.sshd_config, env=env)
    effective = found.get("sshd_effective")
    if env is not None and "PREUVE_ADMIN_GROUPS" in env and isinstance(effective, dict) and "base" in effective:
        sshd_effective.annotate(effective, addrs, users)
        inv = sshd_effective.current_inventory()
        vantages = [(v.name, v.netns) for v in inv.vantage_points if v.netns] if inv is not None else []
        # The `none` request from each namespace vantage point, when Match blocks make the offer depend on the
        # source address (the user is the same): a client of that zone sees what sshd -T -C computed for it.
        if vantages and {"address", "host"} & set(effective.get("criteria", [])):
            from preuve.observe.ssh.connection import none_from_vantages

            query["none_from_vantages"] = [name for name, _ in vantages]
            effective["offered_from_vantages"] = none_from_vantages(  # a dropped SYN costs 0.5 s
                ssh, vantages, timeout, min(timeout, 0.5)
            )
    return query, found, raw, tool("paramiko")


# Host facts of every family (HostFact declarations) ride on this collector: their fixtures are declared with them.
COLLECTOR = Collector("ssh_host", _collect, limit=16, preload=("paramiko", "preuve.observe.ssh.connection"))
