"""Fixed shape of the local lab: namespaces, subnets, hosts and services.

Everything here is a constant so that the scanner, the tests and the bench
can import the same addresses instead of re-typing them. All addresses come
from 198.18.0.0/15 (RFC 2544 benchmarking range) so they can never collide
with a real network, and every namespace name starts with ``pv-`` so that
``down()`` can find and delete exactly what the lab created.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

NS_PREFIX = "pv-"
LAB_SUPERNET = ipaddress.IPv4Network("198.18.0.0/15")

ROUTER_NS = "pv-rtr"
ADMIN_NS = "pv-admin"
SCANNER_ADDRESS = "198.18.1.10"
BLACKHOLE_ADDRESS = "198.18.2.99"

ZONE_IFACE = "eth0"
"""Name of the zone-side veth inside every zone namespace."""


@dataclass(frozen=True)
class Zone:
    """One security zone: a namespace joined to the router by a veth pair."""

    name: str
    ns: str
    subnet: str
    addresses: tuple[str, ...]
    """Addresses held by the zone namespace (the first one is primary)."""

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    @property
    def prefixlen(self) -> int:
        return self.network.prefixlen

    @property
    def gateway(self) -> str:
        """Router address in this zone (always .1)."""
        return str(self.network.network_address + 1)

    @property
    def router_iface(self) -> str:
        """Router-side veth name (<= 15 chars)."""
        return f"r-{self.name}"


ServiceKind = Literal[
    "sshd",
    "nginx",
    "labhost",
    "labfactor",
    "labsup",
    "webadmin",
    "s3",
    "kubeapi",
    "idp",
    "logstore",
    "adminplane",
    "internalflows",
]
Profile = Literal["good", "weak", "match", "mfa", "key-only"]


@dataclass(frozen=True)
class Service:
    """A real daemon the lab runs, reachable from the scanner's namespace."""

    name: str
    kind: ServiceKind
    profile: Profile
    zone: str
    address: str
    port: int

    @property
    def ns(self) -> str:
        return ZONES[self.zone].ns


ZONES: Mapping[str, Zone] = MappingProxyType(
    {
        "admin": Zone("admin", "pv-admin", "198.18.1.0/24", (SCANNER_ADDRESS,)),
        "prod": Zone(
            "prod",
            "pv-prod",
            "198.18.2.0/24",
            (
                "198.18.2.10",
                "198.18.2.11",
                "198.18.2.12",
                "198.18.2.13",
                "198.18.2.30",
                "198.18.2.50",
                "198.18.2.51",
                "198.18.2.52",
                "198.18.2.40",
                # admin plane (lab/adminplane.py): SNMP, BMC, telnet, FTP, VNC, clear and protected twins
                "198.18.2.80",
                "198.18.2.81",
                "198.18.2.82",
                "198.18.2.83",
                "198.18.2.84",
                "198.18.2.85",
                "198.18.2.86",
                # internal flows (lab/internal_flows.py): etcd with/without client certificates, in clear; strongSwan
                # gateway, its peer, a weak gateway
                *(f"198.18.2.{i}" for i in (90, 91, 92, 93, 95)),  # .94: the IPsec peer, in pv-ipsec
            ),
        ),
        # 198.18.3.70: no service; the router rejects the public zone's packets to it with a TCP reset (firewall.py)
        # 198.18.3.80-84: egress proxies (filtering, open) and web front ends (WAF, none, naive) (lab/adminplane.py)
        "dmz": Zone(
            "dmz",
            "pv-dmz",
            "198.18.3.0/24",
            ("198.18.3.10", "198.18.3.11", "198.18.3.12", "198.18.3.70", *(f"198.18.3.{i}" for i in range(80, 85))),
        ),
        # 198.18.4.50: the lab S3 over TLS only (lab/s3.py, same process as 198.18.4.20:5000)
        "sup": Zone(
            "sup", "pv-sup", "198.18.4.0/24", ("198.18.4.2", "198.18.4.20", "198.18.4.3", "198.18.4.21", "198.18.4.50")
        ),
        # 198.18.5.80-81: the "outside" egress canaries, reached only through the proxies (lab/adminplane.py)
        "pub": Zone("pub", "pv-pub", "198.18.5.0/24", ("198.18.5.2", "198.18.5.80", "198.18.5.81")),
    }
)

SERVICES: Mapping[str, Service] = MappingProxyType(
    {
        "ssh-good": Service("ssh-good", "sshd", "good", "prod", "198.18.2.10", 22),
        "ssh-weak": Service("ssh-weak", "sshd", "weak", "prod", "198.18.2.11", 22),
        # compliant globally, weakened by Match blocks only (address, user, port; lab/sshd.py, issue 12)
        "ssh-match": Service("ssh-match", "sshd", "match", "prod", "198.18.2.40", 22),
        "tls-good": Service("tls-good", "nginx", "good", "dmz", "198.18.3.10", 443),
        "tls-weak": Service("tls-weak", "nginx", "weak", "dmz", "198.18.3.11", 443),
        "ssh-mfa": Service("ssh-mfa", "labhost", "mfa", "prod", "198.18.2.12", 22),
        "ssh-key-only": Service("ssh-key-only", "labhost", "key-only", "prod", "198.18.2.13", 22),
        # second factors that ask after the key and accept too much (lab/mfa_factors.py, issue 12)
        "ssh-factor-permit": Service("ssh-factor-permit", "labfactor", "weak", "prod", "198.18.2.50", 22),
        "ssh-factor-empty": Service("ssh-factor-empty", "labfactor", "weak", "prod", "198.18.2.51", 22),
        "ssh-factor-digits": Service("ssh-factor-digits", "labfactor", "weak", "prod", "198.18.2.52", 22),
        "log-collector": Service("log-collector", "labsup", "good", "sup", "198.18.4.3", 6514),
        "web-admin": Service("web-admin", "webadmin", "mfa", "dmz", "198.18.3.12", 8443),
        "idp": Service("idp", "idp", "good", "dmz", "198.18.3.12", 8444),  # OIDC stand-in, weak twin on 9444
        "s3": Service("s3", "s3", "good", "sup", "198.18.4.20", 5000),
        "log-stores": Service("log-stores", "logstore", "good", "sup", "198.18.4.21", 3100),  # + short twins
        "k8s-good": Service("k8s-good", "kubeapi", "good", "prod", "198.18.2.30", 6443),
        "k8s-weak": Service("k8s-weak", "kubeapi", "weak", "prod", "198.18.2.30", 6444),
        # the administration plane (lab/adminplane.py); its UDP agents (snmpd, ipmi_sim) are waited by it
        "bmc-web": Service("bmc-web", "adminplane", "weak", "prod", "198.18.2.81", 80),
        "telnet": Service("telnet", "adminplane", "weak", "prod", "198.18.2.82", 23),
        "ftp-clear": Service("ftp-clear", "adminplane", "weak", "prod", "198.18.2.82", 21),
        "ftp-tls": Service("ftp-tls", "adminplane", "good", "prod", "198.18.2.83", 21),
        "vnc-none": Service("vnc-none", "adminplane", "weak", "prod", "198.18.2.85", 5900),
        "vnc-tls": Service("vnc-tls", "adminplane", "good", "prod", "198.18.2.86", 5900),
        "egress-proxy": Service("egress-proxy", "adminplane", "good", "dmz", "198.18.3.80", 8888),
        "egress-proxy-open": Service("egress-proxy-open", "adminplane", "weak", "dmz", "198.18.3.81", 8888),
        "waf-fronts": Service("waf-fronts", "adminplane", "good", "dmz", "198.18.3.82", 8000),
        "egress-canaries": Service("egress-canaries", "adminplane", "good", "pub", "198.18.5.80", 80),
        # internal flows (lab/internal_flows.py): etcd client ports; the strongSwan daemons are waited by it
        "etcd-cert": Service("etcd-cert", "internalflows", "good", "prod", "198.18.2.90", 2379),
        "etcd-noauth": Service("etcd-noauth", "internalflows", "weak", "prod", "198.18.2.91", 2379),
        "etcd-plain": Service("etcd-plain", "internalflows", "weak", "prod", "198.18.2.92", 2379),
    }
)

NAMESPACES: tuple[str, ...] = (ROUTER_NS, *(z.ns for z in ZONES.values()), "pv-ipsec")  # pv-ipsec: no zone, the
# IPsec gateway's peer behind a veth from pv-prod (lab/internal_flows.py)
"""Every namespace the lab owns, router first."""


def validate() -> None:
    """Refuse to run with a topology that would escape the lab's sandbox."""
    for ns in NAMESPACES:
        if not ns.startswith(NS_PREFIX):
            raise ValueError(f"namespace {ns!r} lacks the {NS_PREFIX!r} prefix")
    for zone in ZONES.values():
        if not zone.network.subnet_of(LAB_SUPERNET):
            raise ValueError(f"zone {zone.name}: {zone.subnet} outside {LAB_SUPERNET}")
        for addr in zone.addresses:
            if ipaddress.IPv4Address(addr) not in zone.network:
                raise ValueError(f"zone {zone.name}: {addr} outside {zone.subnet}")
    for svc in SERVICES.values():
        if svc.address not in ZONES[svc.zone].addresses:
            raise ValueError(f"service {svc.name}: {svc.address} not held by zone {svc.zone}")
    if ipaddress.IPv4Address(BLACKHOLE_ADDRESS) not in LAB_SUPERNET:
        raise ValueError("black-hole address outside the lab range")


validate()
