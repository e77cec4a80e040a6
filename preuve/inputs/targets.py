"""Targets: the inventory flattened into what checks are parametrized over, one kind per collector family.

- `host`: an inventory host preuve logs in to (read-only facts such as `sshd -T`);
- `ssh_endpoint`: every SSH server seen from outside (each host's SSH port, plus `ssh_endpoints`);
- `tls_endpoint`: every TLS service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    # for `baseline_host` targets: the inventory's declared administrators (baseline.roster), which the identity
    # checks compare each host's accounts with; None when the inventory declares none
    roster: Any = field(default=None, compare=False, repr=False)
    # for `baseline_host` targets: the declared software inventory (baseline.software_inventory), None when absent
    software: Any = field(default=None, compare=False, repr=False)

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
    return Target(
        kind,
        item.name,
        item.address,
        port,
        getattr(item, "zone", None),
        getattr(item, "site", None),
        tuple(getattr(item, "tags", ())),
        item,
        access,
    )


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


@target_kind("baseline_host")
def _baseline_hosts(inv: Inventory) -> list[Target]:
    """Hosts judged on access, hygiene, logs and time (tagged as `baseline.host_tags` says, default every SSH host)."""
    tags = inv.baseline.host_tags
    roster = inv.baseline.roster
    software = inv.baseline.software_inventory
    return [
        replace(t, kind="baseline_host", roster=roster, software=software)
        for t in _hosts(inv)
        if tags is None or set(tags) & set(t.tags)
    ]


@target_kind("ssh_canary")
def _ssh_canaries(inv: Inventory) -> list[Target]:
    """Canary administrators proving SSH MFA (checked from outside: no login beyond the key offer)."""
    return [_target("ssh_canary", c, c.port) for c in inv.baseline.ssh_canaries]


@target_kind("web_admin")
def _web_admins(inv: Inventory) -> list[Target]:
    """Web administration interfaces probed with a canary account (MFA enforcement)."""
    from urllib.parse import urlsplit

    out = []
    for w in inv.baseline.web_admins:
        u = urlsplit(w.url)
        out.append(Target("web_admin", w.name, u.hostname or "", u.port or 443, w.zone, w.site, tuple(w.tags), w))
    return out


@target_kind("oidc_client")
def _oidc_clients(inv: Inventory) -> list[Target]:
    """The IdP client of each web admin that declares one (its password grant is tried); spec is the WebAdmin."""
    from urllib.parse import urlsplit

    return [
        Target(
            "oidc_client",
            f"{w.name}-oidc",
            urlsplit(w.oidc.issuer).hostname or "",
            urlsplit(w.oidc.issuer).port or 443,
            w.zone,
            w.site,
            tuple(w.tags),
            w,
        )
        for w in inv.baseline.web_admins
        if w.oidc is not None
    ]


@target_kind("lockout_canary")
def _lockout_canaries(inv: Inventory) -> list[Target]:
    """Dedicated accounts locked on purpose (LOCK-ACTIVE); address and SSH access are their host's."""
    hosts = {h.name: h for h in inv.hosts}
    out = []
    for c in inv.baseline.lockout_canaries:
        h = hosts[c.host]
        ssh = effective_ssh(h, inv)
        out.append(
            Target("lockout_canary", c.name, h.address, ssh.port if ssh else 22, h.zone, h.site, tuple(c.tags), c, ssh)
        )
    return out


@target_kind("vantage")
def _vantages(inv: Inventory) -> list[Target]:
    """Every segmentation vantage point; spec is (vantage, inventory): the probe plan needs the whole picture."""
    out = []
    for v in inv.vantage_points:
        where = v.netns or next((h.address for h in inv.hosts if h.name == v.ssh), v.ssh or "scanner")
        out.append(Target("vantage", v.name, where, None, v.zone, None, (), (v, inv)))
    return out


@target_kind("public_vantage")
def _public_vantages(inv: Inventory) -> list[Target]:
    """The vantage points of public zones (9.6.d: no admin interface may answer there)."""
    public = {z.name for z in inv.zones if z.kind == "public"}
    return [replace(t, kind="public_vantage") for t in _vantages(inv) if t.zone in public]


@target_kind("flow_matrix")
def _flow_matrix(inv: Inventory) -> list[Target]:
    """The flow matrix file itself (13.1.a: every flow justified)."""
    if not inv.flow_matrix:
        return []
    name = inv.flow_matrix.rsplit("/", 1)[-1]  # not the absolute path: results must not depend on where inputs sit
    return [Target("flow_matrix", name, name, None, None, None, (), inv)]


@target_kind("k8s_cluster")
def _k8s_clusters(inv: Inventory) -> list[Target]:
    """Kubernetes clusters read through their API (address and port from `server`, else from the kubeconfig)."""
    from urllib.parse import urlsplit

    out = []
    for c in inv.kubernetes.clusters:
        url = urlsplit(c.server) if c.server else None
        address = url.hostname if url and url.hostname else f"kubeconfig:{c.context or 'current-context'}"
        port = (url.port or 443) if url else None
        out.append(Target("k8s_cluster", c.name, address, port, c.zone, c.site, tuple(c.tags), c))
    return out


@target_kind("admin_identity")
def _admin_planes(inv: Inventory) -> list[Target]:
    """Each administration plane (9.6.a-d): its consoles are judged against each other; spec is the plane."""
    from urllib.parse import urlsplit

    out = []
    for p in inv.admin_planes:
        first = urlsplit(p.consoles[0].url)
        out.append(Target("admin_identity", p.name, first.hostname or "", first.port or 443, None, None, (), p))
    return out


@target_kind("interconnection")
def _interconnections(inv: Inventory) -> list[Target]:
    """Links with third parties and public networks (13.3.a); spec is (interconnection, the log stores by name)."""
    stores = tuple((s.name, s) for s in inv.log_stores)
    return [
        Target("interconnection", ic.name, ic.name, None, ic.zone, ic.site, tuple(ic.tags), (ic, stores))
        for ic in inv.interconnections
    ]


@target_kind("etcd_member")
def _etcd_members(inv: Inventory) -> list[Target]:
    """etcd members probed on their client and peer ports (13.2.b)."""
    return [_target("etcd_member", m, m.client_port) for m in inv.etcd_members]


@target_kind("ipsec_gateway")
def _ipsec_gateways(inv: Inventory) -> list[Target]:
    """strongSwan gateways (10.2.d); spec is the gateway, access the SSH access of its host (None: the scanner)."""
    hosts = {h.name: h for h in inv.hosts}
    out = []
    for g in inv.ipsec_gateways:
        h = hosts.get(g.host) if g.host else None
        ssh = effective_ssh(h, inv) if h is not None else None
        address = h.address if h is not None else "scanner"
        out.append(Target("ipsec_gateway", g.name, address, None, g.zone, g.site, tuple(g.tags), g, ssh))
    return out


@target_kind("k8s_tenant_canary")
def _k8s_tenant_canaries(inv: Inventory) -> list[Target]:
    """A tenant's token on a cluster's public API (9.6.j); spec is (cluster, canary): the names to try come from
    the cluster's own read-only account."""
    from urllib.parse import urlsplit

    out = []
    for c in inv.kubernetes.clusters:
        url = urlsplit(c.server) if c.server else None
        address = url.hostname if url and url.hostname else f"kubeconfig:{c.context or 'current-context'}"
        port = (url.port or 443) if url else None
        for k in c.tenant_canaries:
            out.append(Target("k8s_tenant_canary", k.name, address, port, c.zone, c.site, tuple(c.tags), (c, k)))
    return out


def targets(inv: Inventory) -> dict[str, list[Target]]:
    """Every target of the inventory, by kind."""
    return {kind: builder(inv) for kind, builder in BUILDERS.items()}


def _register_kind_modules() -> None:
    """Import every preuve/inputs/<topic>_targets.py: each registers its kinds with @target_kind (log_store, s3_*,
    backup_repo, egress_*, waf_endpoint...). A new kind is a new builder there or here, never a line in a list."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("*_targets.py")):
        importlib.import_module(f"{__package__}.{path.stem}")


_register_kind_modules()
