"""Where and how an SSH-speaking collector logs in (SshTarget), and how an inventory host becomes one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
