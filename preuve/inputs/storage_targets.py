"""Storage target kinds: `s3_bucket`, `s3_endpoint`, `backup_repo` (registered in preuve.inputs.targets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from preuve.inputs.inventory import Inventory
from preuve.inputs.targets import Target, target_kind


@dataclass(frozen=True)
class StorageSpec:
    """An S3 bucket, an S3 endpoint or a backup repository, with what judging its location needs."""

    item: Any  # S3Bucket, S3Endpoint or BackupRepository
    endpoint: Any = None  # the bucket's S3Endpoint
    buckets: tuple[Any, ...] = ()  # the endpoint's buckets
    site_countries: tuple[tuple[str, str], ...] = ()  # (site, country) of every inventory site


def _url_host(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return parts.hostname or url, parts.port


def _sites(inv: Inventory) -> tuple[tuple[str, str], ...]:
    return tuple((s.name, s.country) for s in inv.sites)


@target_kind("s3_bucket")
def s3_buckets(inv: Inventory) -> list[Target]:
    """Every S3 bucket of the inventory (`s3.buckets`), reached through its endpoint."""
    endpoints = {e.name: e for e in inv.s3.endpoints}
    out = []
    for b in inv.s3.buckets:
        e = endpoints[b.endpoint]
        host, port = _url_host(e.url)
        spec = StorageSpec(b, e, (), _sites(inv))
        out.append(Target("s3_bucket", b.name, host, port, None, e.site, tuple(b.tags), spec))
    return out


@target_kind("s3_endpoint")
def s3_endpoints(inv: Inventory) -> list[Target]:
    """Every S3 endpoint (`s3.endpoints`): where it is, and the keys of its customers' buckets."""
    out = []
    for e in inv.s3.endpoints:
        host, port = _url_host(e.url)
        own = tuple(b for b in inv.s3.buckets if b.endpoint == e.name)
        out.append(Target("s3_endpoint", e.name, host, port, None, e.site, (), StorageSpec(e, e, own, _sites(inv))))
    return out


@target_kind("backup_repo")
def backup_repos(inv: Inventory) -> list[Target]:
    """Every restic or borg repository (`backups`), opened from the scanner."""
    sites = _sites(inv)
    return [
        Target("backup_repo", r.name, r.repository, None, None, r.site, tuple(r.tags), StorageSpec(r, None, (), sites))
        for r in inv.backups
    ]


@target_kind("s3_tenant_canary")
def s3_tenant_canaries(inv: Inventory) -> list[Target]:
    """A customer's S3 key (`s3.tenant_canaries`); spec's `buckets`: every bucket of its endpoint, its own and the
    others, configuration backups and S3 log stores included (the provider's)."""
    endpoints = {e.name: e for e in inv.s3.endpoints}
    out = []
    for k in inv.s3.tenant_canaries:
        e = endpoints[k.endpoint]
        host, port = _url_host(e.url)
        buckets: list[tuple[str, str | None, str]] = [
            (b.name, b.owner, b.role) for b in inv.s3.buckets if b.endpoint == e.name
        ]
        buckets += [(c.bucket, None, f"config ({c.kind})") for c in inv.config_backups if c.endpoint == e.name]
        buckets += [(s.bucket, None, "logs") for s in inv.log_stores if s.kind == "s3" and s.endpoint == e.name]
        unique = tuple(dict((b[0], b) for b in buckets).values())
        out.append(
            Target("s3_tenant_canary", k.name, host, port, None, e.site, tuple(k.tags), StorageSpec(k, e, unique))
        )
    return out


@target_kind("config_backup")
def config_backups(inv: Inventory) -> list[Target]:
    """Where configuration backups land (`config_backups`, 17.5.a), read with their endpoint's key."""
    endpoints = {e.name: e for e in inv.s3.endpoints}
    out = []
    for c in inv.config_backups:
        e = endpoints[c.endpoint]
        host, port = _url_host(e.url)
        out.append(
            Target("config_backup", c.name, host, port, None, c.site or e.site, tuple(c.tags), StorageSpec(c, e))
        )
    return out
