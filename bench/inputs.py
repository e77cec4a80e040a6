"""The bench's endpoints and the one-endpoint inventories and profiles preuve is run with.

Addresses come from ``inventories/lab.yaml`` (the lab's own inventory), so the bench follows the lab.
Every generated inventory keeps ``scanner.netns: pv-admin``: preuve scans from inside the lab.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
LAB_INVENTORY = REPO / "inventories" / "lab.yaml"
ADMIN_NETNS = "pv-admin"
LAB_SUPERNET = ipaddress.ip_network("198.18.0.0/15")
TLS_ENDPOINTS = ("tls-good", "tls-weak")
SSH_HOSTS = ("ssh-good", "ssh-weak")
_SHARED_KEYS = ("version", "defaults", "sites", "zones")


@dataclass(frozen=True)
class Endpoint:
    """One thing to scan: a TLS endpoint or an SSH host of the lab."""

    kind: str  # "tls" | "ssh"
    name: str
    address: str
    port: int
    sni: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.address}:{self.port})"


def load_lab_inventory(path: Path = LAB_INVENTORY) -> dict[str, Any]:
    """The lab inventory as plain YAML data."""
    return yaml.safe_load(path.read_text())


def lab_address(address: str) -> str:
    """``address`` itself, once checked to be inside the lab (the bench scans nothing else)."""
    if ipaddress.ip_address(address) not in LAB_SUPERNET:
        raise ValueError(f"{address} is outside the lab supernet {LAB_SUPERNET}: refusing to scan it")
    return address


def endpoints(inventory: dict[str, Any], only: list[str] | None = None) -> list[Endpoint]:
    """The bench's TLS endpoints then SSH hosts, as declared in the lab inventory."""
    tls = {e["name"]: e for e in inventory.get("tls_endpoints", [])}
    hosts = {h["name"]: h for h in inventory.get("hosts", [])}
    out = [
        Endpoint("tls", n, lab_address(tls[n]["address"]), int(tls[n].get("port", 443)), tls[n].get("sni"))
        for n in TLS_ENDPOINTS
    ]
    out += [
        Endpoint("ssh", n, lab_address(hosts[n]["address"]), int((hosts[n].get("ssh") or {}).get("port", 22)))
        for n in SSH_HOSTS
    ]
    return [e for e in out if not only or e.name in only]


def single_endpoint_inventory(inventory: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    """The lab inventory reduced to ``endpoint`` alone, scanned from the admin namespace."""
    out = {k: inventory[k] for k in _SHARED_KEYS if k in inventory}
    out["name"] = f"bench-{endpoint.name}"
    out["scanner"] = {**inventory.get("scanner", {}), "netns": ADMIN_NETNS}
    section = "tls_endpoints" if endpoint.kind == "tls" else "hosts"
    out[section] = [e for e in inventory[section] if e["name"] == endpoint.name]
    return out


def profile(kind: str) -> dict[str, Any]:
    """A profile selecting only the ``TLS-*`` or ``SSH-*`` checks (ANSSI defaults for every parameter)."""
    prefix = kind.upper()
    return {
        "id": f"bench-{kind}",
        "version": "0.1.0",
        "title": {"fr": f"banc d'essai {prefix}", "en": f"bench {prefix}"},
        "select": {"checks": [f"{prefix}-*"]},
    }


def write_inputs(directory: Path, inventory: dict[str, Any], endpoint: Endpoint) -> tuple[Path, Path]:
    """Write the endpoint's inventory and profile into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    inv_path = directory / f"inventory-{endpoint.name}.yaml"
    prof_path = directory / f"profile-{endpoint.kind}.yaml"
    inv_path.write_text(yaml.safe_dump(single_endpoint_inventory(inventory, endpoint), sort_keys=False))
    prof_path.write_text(yaml.safe_dump(profile(endpoint.kind), sort_keys=False, allow_unicode=True))
    return inv_path, prof_path
