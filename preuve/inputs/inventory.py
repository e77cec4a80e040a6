"""Inventory: what to scan, where it is, and how to reach it (DESIGN.md §2).

Secrets are never inlined: a password or token is a reference to an environment variable or a file, resolved
at run time and registered with the redactor so it can never reach a report or a log.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from preuve.inputs.errors import InputError, InputProblem, field_path
from preuve.inputs.source import Located, load_yaml, validate

Name = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(Strict):
    """A secret by reference: exactly one of `env` (variable name) or `file` (path)."""

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self

    def resolve(self) -> str:
        """Read the secret; raises KeyError/OSError with a message that names the reference, not the value."""
        if self.env is not None:
            if self.env not in os.environ:
                raise KeyError(f"environment variable {self.env} is not set")
            return os.environ[self.env]
        return Path(self.file).read_text().strip()  # type: ignore[arg-type]


def _no_inline_secret(value: object) -> object:
    if isinstance(value, str):
        raise ValueError("secrets are referenced, never inlined: use {env: VAR} or {file: /path}")
    return value


class Site(Strict):
    name: Name
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    provider: str | None = None
    city: str | None = None


class Zone(Strict):
    name: Name
    kind: Literal["admin", "production", "supervision", "dmz", "public", "backup", "other"]
    cidrs: list[str] = Field(min_length=1)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for c in v:
            ipaddress.ip_network(c, strict=True)
        return v


class SshAccess(Strict):
    """How preuve logs in to read host facts (read-only commands such as `sshd -T`)."""

    user: str = "root"
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = None
    password: SecretRef | None = None
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    sshd_config: str | None = Field(None, description="path of sshd_config when not the default")
    jump: str | None = Field(None, description="name of another inventory host to jump through")

    @field_validator("password", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class Host(Strict):
    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []
    ssh: SshAccess | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)


class TlsEndpoint(Strict):
    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    port: int = Field(443, ge=1, le=65535)
    sni: str | None = None
    http: bool = Field(True, description="speaks HTTP over TLS (HSTS is then checked)")
    admin: bool = Field(False, description="an administration interface (stricter checks apply)")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)


class SshEndpoint(Strict):
    """An SSH server checked from the outside only (no login): protocol and host keys."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    port: int = Field(22, ge=1, le=65535)
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)


class Scanner(Strict):
    """Where the scanner runs from; `netns` runs the whole scan inside a network namespace (the lab)."""

    netns: str | None = None
    zone: Name | None = None


class Defaults(Strict):
    ssh: SshAccess | None = None
    timeout: float = Field(5.0, gt=0, le=600, description="seconds, for every network operation")


class Inventory(Strict):
    version: Literal[1] = 1
    name: Name
    scanner: Scanner = Scanner()
    defaults: Defaults = Defaults()
    sites: list[Site] = []
    zones: list[Zone] = []
    hosts: list[Host] = []
    tls_endpoints: list[TlsEndpoint] = []
    ssh_endpoints: list[SshEndpoint] = []
    flow_matrix: str | None = None


def _check_address(v: str) -> str:
    try:
        ipaddress.ip_address(v)
        return v
    except ValueError:
        pass
    if not v or len(v) > 253 or any(c in v for c in " /:@"):
        raise ValueError("expected an IP address or a DNS name")
    return v


def _cross_checks(inv: Inventory, located: Located) -> list[InputProblem]:
    """Rules that span several entries: unique names, known zones and sites, jump hosts."""
    problems: list[InputProblem] = []

    def add(loc: tuple, msg: str) -> None:
        problems.append(InputProblem(located.path, located.line_of(loc), field_path(loc), msg))

    zones = {z.name for z in inv.zones}
    sites = {s.name for s in inv.sites}
    seen: dict[str, tuple] = {}
    for section in ("hosts", "tls_endpoints", "ssh_endpoints"):
        for i, item in enumerate(getattr(inv, section)):
            key = (section, i, "name")
            if item.name in seen and seen[item.name][0] == section:
                add(key, f"duplicate name {item.name!r} (first at line {located.line_of(seen[item.name])})")
            seen.setdefault(item.name, key)
            if item.zone is not None and item.zone not in zones:
                add(
                    (section, i, "zone"),
                    f"unknown zone {item.zone!r}; declared zones: {sorted(zones) or 'none'}",
                )
            if item.site is not None and item.site not in sites:
                add(
                    (section, i, "site"),
                    f"unknown site {item.site!r}; declared sites: {sorted(sites) or 'none'}",
                )
    host_names = {h.name for h in inv.hosts}
    for i, h in enumerate(inv.hosts):
        if h.ssh and h.ssh.jump is not None and h.ssh.jump not in host_names:
            add(("hosts", i, "ssh", "jump"), f"jump host {h.ssh.jump!r} is not an inventory host")
    for i, z in enumerate(inv.zones):
        for j, other in enumerate(inv.zones[:i]):
            for c in z.cidrs:
                for d in other.cidrs:
                    if ipaddress.ip_network(c).overlaps(ipaddress.ip_network(d)):
                        add(
                            ("zones", i, "cidrs"),
                            f"{c} overlaps {d} of zone {other.name!r} (line {located.line_of(('zones', j))})",
                        )
    return problems


def load_inventory(path: Path | str) -> tuple[Inventory, Located]:
    """Load and validate an inventory; every problem found is reported at once."""
    located = load_yaml(Path(path))
    inv = validate(located, Inventory)
    problems = _cross_checks(inv, located)
    if problems:
        raise InputError(problems)
    return inv, located
