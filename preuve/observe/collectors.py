"""Adapters from inventory targets to the collector functions (which know nothing about inventories)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from preuve import __version__
from preuve.evidence.redact import REDACTOR
from preuve.inputs.inventory import SshAccess
from preuve.inputs.targets import Target
from preuve.observe.errors import ObservationError

Outcome = tuple[dict[str, Any], dict[str, Any], Any, str]  # query, facts, raw, tool


def _tls(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe import tls

    spec = target.spec
    sni = spec.sni
    query = {"host": target.address, "port": target.port, "sni": sni, "http_path": "/" if spec.http else None}
    found, raw = tls.collect(
        target.address, target.port or 443, sni=sni, timeout=timeout, http_path=query["http_path"]
    )
    return query, found, raw, _tool("sslyze")


def _ssh_protocol(
    target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]
) -> Outcome:
    from preuve.observe import ssh_protocol

    query = {"host": target.address, "port": target.port, "keyscan": True}
    found, raw = ssh_protocol.collect(target.address, target.port or 22, timeout=timeout)
    return query, found, raw, f"preuve {__version__} + ssh-keyscan"


def ssh_target(target: Target, hosts: dict[str, Target], depth: int = 0) -> Any:
    """Build the collector's SshTarget, resolving jump hosts and registering secrets with the redactor."""
    from preuve.observe.ssh_host import SshTarget

    access: SshAccess = target.access  # type: ignore[assignment]
    jump = None
    if access.jump:
        if depth > 4:
            raise ObservationError(f"jump host chain too long at {target.name}")
        jump = ssh_target(hosts[access.jump], hosts, depth + 1)
    password_env = None
    if access.password is not None:
        try:
            secret = access.password.resolve()
        except (KeyError, OSError) as exc:
            raise ObservationError(f"password reference for {target.name} cannot be read: {exc}") from None
        REDACTOR.register(secret)
        password_env = access.password.env
        if password_env is None:  # a file reference: hand it to the collector through this process only
            password_env = f"_PREUVE_PASSWORD_{target.name.upper().replace('-', '_').replace('.', '_')}"
            os.environ[password_env] = secret
    return SshTarget(
        host=target.address,
        port=access.port,
        user=access.user,
        key_file=access.key_file,
        known_hosts=access.known_hosts,
        trust_on_first_use=access.trust_on_first_use,
        jump=jump,
        password_env=password_env,
    )


def _ssh_host(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe import ssh_host

    access: SshAccess = target.access  # type: ignore[assignment]
    query = {
        "host": target.address,
        "port": access.port,
        "user": access.user,
        "facts": sorted(facts),
        "commands": {f: ssh_host.FACT_COMMANDS[f] for f in sorted(facts)},
        "sshd_config_path": access.sshd_config,
        "known_hosts": access.known_hosts,
        "trust_on_first_use": access.trust_on_first_use,
    }
    found, raw = ssh_host.collect(
        ssh_target(target, hosts), sorted(facts), timeout=timeout, sshd_config_path=access.sshd_config
    )
    return query, found, raw, _tool("paramiko")


def _tool(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"preuve {__version__} + {dist} {version(dist)}"
    except PackageNotFoundError:
        return f"preuve {__version__} + {dist}"


Collector = Callable[[Target, tuple[str, ...], float, dict[str, Target]], Outcome]
COLLECTORS: dict[str, Collector] = {
    "tls": _tls,
    "ssh_protocol": _ssh_protocol,
    "ssh_host": _ssh_host,
}
