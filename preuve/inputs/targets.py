"""Targets: the inventory flattened into what checks are parametrized over, one kind per collector family.

- `host`: an inventory host preuve logs in to (read-only facts such as `sshd -T`);
- `ssh_endpoint`: every SSH server seen from outside (each host's SSH port, plus `ssh_endpoints`);
- `tls_endpoint`: every TLS service.
"""

from __future__ import annotations

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


def targets(inv: Inventory) -> dict[str, list[Target]]:
    out: dict[str, list[Target]] = {"host": [], "ssh_endpoint": [], "tls_endpoint": []}
    for h in inv.hosts:
        ssh = effective_ssh(h, inv)
        port = ssh.port if ssh else 22
        if ssh is not None:
            out["host"].append(Target("host", h.name, h.address, port, h.zone, h.site, tuple(h.tags), h, ssh))
        out["ssh_endpoint"].append(
            Target("ssh_endpoint", h.name, h.address, port, h.zone, h.site, tuple(h.tags), h)
        )
    for e in inv.ssh_endpoints:
        out["ssh_endpoint"].append(
            Target("ssh_endpoint", e.name, e.address, e.port, e.zone, e.site, tuple(e.tags), e)
        )
    for t in inv.tls_endpoints:
        out["tls_endpoint"].append(
            Target("tls_endpoint", t.name, t.address, t.port, t.zone, t.site, tuple(t.tags), t)
        )
    return out
