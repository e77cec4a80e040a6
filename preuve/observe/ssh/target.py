"""Where and how an SSH-speaking collector logs in (SshTarget), and how an inventory host becomes one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from preuve.observe.errors import ObservationError

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


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


def ssh_target(target: Target, hosts: dict[str, Target], depth: int = 0) -> SshTarget:
    """The SshTarget of an inventory host, resolving jump hosts and registering secrets with the redactor."""
    from preuve.observe.reveal import reveal

    access: Any = target.access
    jump = None
    if access.jump:
        if depth > 4:
            raise ObservationError(f"jump host chain too long at {target.name}")
        jump = ssh_target(hosts[access.jump], hosts, depth + 1)
    password_env = None
    if access.password is not None:
        secret = reveal(access.password, f"password of {target.name}")
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


# --- what an SSH login records (the typed parts of the ssh_host observation) ---------------------------------------


class HostKeyFact(TypedDict):
    """The host key the server presented, and why preuve trusted it (facts["host_key"] of every SSH observation)."""

    type: str  # ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512...
    fingerprint_sha256: str  # SHA256:... as ssh-keygen -l prints it
    trusted: Literal["known_hosts", "tofu"]


class ScriptResult(TypedDict):
    """One fact's frame of the batched script (raw["<fact>"] of an ssh_host observation)."""

    rc: int | None  # None: the frame never came back (timeout, script ended first)
    stdout: str
    stderr: str


class AuthNoneReply(TypedDict, total=False):
    """The server's answer to an RFC 4252 `none` request (sshd_effective's "offered", none_from_vantages)."""

    user: str
    port: int
    request: str
    none_accepted: bool
    methods: list[str]  # the methods that can continue (what the server really offers this client)
    error: str
    vantage: str
    netns: str
    unreachable: str


class FactError(TypedDict):
    """A fact whose command failed: the first line of its error, or the sudoers rule to add."""

    error: str
