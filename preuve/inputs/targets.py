"""Targets: the inventory flattened into what checks are parametrized over, one kind per collector family.

- `host`: an inventory host preuve logs in to (read-only facts such as `sshd -T`);
- `ssh_endpoint`: every SSH server seen from outside (each host's SSH port, plus `ssh_endpoints`);
- `tls_endpoint`: every TLS service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from preuve.inputs.inventory import Host, Inventory, SshAccess


@dataclass(frozen=True)
class Target:
    kind: str
    name: str
    address: str
    port: int | None
    zone: str | None
    site: str | None
    tags: tuple[str, ...]
    spec: Any  # the inventory entry
    access: SshAccess | None = None  # for `host` targets: how to log in (defaults merged)

    def describe(self) -> dict[str, Any]:
        """What results say about the target (no credentials)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "port": self.port,
            "zone": self.zone,
            "site": self.site,
        }


def effective_ssh(host: Host, inv: Inventory) -> SshAccess | None:
    """The host's SSH access merged over the inventory defaults (host values win)."""
    if host.ssh is None and inv.defaults.ssh is None:
        return None
    base = inv.defaults.ssh.model_dump(exclude_unset=True) if inv.defaults.ssh else {}
    own = host.ssh.model_dump(exclude_unset=True) if host.ssh else {}
    return SshAccess.model_validate({**base, **own})


TargetBuilder = Callable[[Inventory], list[Target]]
BUILDERS: dict[str, TargetBuilder] = {}


def target_kind(kind: str) -> Callable[[TargetBuilder], TargetBuilder]:
    """Register how a kind of target is read from the inventory (one builder per kind)."""

    def register(builder: TargetBuilder) -> TargetBuilder:
        BUILDERS[kind] = builder
        return builder

    return register


def _target(kind: str, item: Any, port: int | None, access: SshAccess | None = None) -> Target:
    return Target(kind, item.name, item.address, port, getattr(item, "zone", None), getattr(item, "site", None),
                  tuple(getattr(item, "tags", ())), item, access)


@target_kind("host")
def _hosts(inv: Inventory) -> list[Target]:
    out = []
    for h in inv.hosts:
        ssh = effective_ssh(h, inv)
        if ssh is not None:
            out.append(_target("host", h, ssh.port, ssh))
    return out


@target_kind("ssh_endpoint")
def _ssh_endpoints(inv: Inventory) -> list[Target]:
    out = []
    for h in inv.hosts:
        ssh = effective_ssh(h, inv)
        out.append(_target("ssh_endpoint", h, ssh.port if ssh else 22))
    return out + [_target("ssh_endpoint", e, e.port) for e in inv.ssh_endpoints]


@target_kind("tls_endpoint")
def _tls_endpoints(inv: Inventory) -> list[Target]:
    return [_target("tls_endpoint", t, t.port) for t in inv.tls_endpoints]


def targets(inv: Inventory) -> dict[str, list[Target]]:
    """Every target of the inventory, by kind."""
    return {kind: builder(inv) for kind, builder in BUILDERS.items()}
