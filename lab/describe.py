"""lab.json: the machine-readable description others read instead of guessing.

Written atomically once every service answers, so its presence means the
lab came up completely at least once (``status`` still checks liveness).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import hosts, idp, logstores, logsup, mfa_factors, pki, procs, sshkeys, webadmin
from .accounts import LabUser
from .paths import LabPaths
from .topology import (
    ADMIN_NS,
    BLACKHOLE_ADDRESS,
    LAB_SUPERNET,
    NAMESPACES,
    ROUTER_NS,
    SCANNER_ADDRESS,
    SERVICES,
    ZONE_IFACE,
    ZONES,
)

SCHEMA_VERSION = 1


def _service_entry(paths: LabPaths, name: str) -> dict[str, Any]:
    svc = SERVICES[name]
    pid_file = paths.pid_file(name)
    entry: dict[str, Any] = {
        "kind": svc.kind,
        "profile": svc.profile,
        "zone": svc.zone,
        "ns": svc.ns,
        "address": svc.address,
        "port": svc.port,
        "pid": procs.read_pid(pid_file),
        "pid_file": str(pid_file),
    }
    if svc.kind == "sshd":
        entry["config"] = str(paths.sshd_config(svc.profile))
        entry["log"] = str(paths.log(name))
        entry["host_keys"] = [str(k) for k in sshkeys.host_key_files(paths, svc.profile)]
    elif svc.kind == "labhost":
        entry.update(hosts.describe(paths, name))
    elif svc.kind == "labfactor":
        entry.update(mfa_factors.describe(paths, name))
    elif svc.kind == "webadmin":
        entry.update(
            cert=str(webadmin.cert_file(paths)),
            ports=[webadmin.MFA_PORT, webadmin.PASSWORD_ONLY_PORT, *webadmin.FACTOR_TWINS],
        )
    elif svc.kind == "idp":
        ports = (idp.GOOD_PORT, idp.WEAK_PORT, idp.OTP_ANY_PORT)
        entry.update(cert=str(webadmin.cert_file(paths)), issuers=[idp.issuer(svc.address, p) for p in ports])
    elif svc.kind == "labsup":
        entry.update({"config": str(logsup.root(paths) / "rsyslog.conf"), "tls": str(logsup.tls_dir(paths))})
    elif svc.kind == "kubeapi":
        entry.update(
            log=str(paths.log(name)),
            url=f"https://{svc.address}:{svc.port}",
            ca=str(paths.root / "kube" / "ca.crt"),
            token=str(paths.root / "kube" / "scanner.token"),
        )
    elif svc.kind == "logstore":
        entry.update(log=str(paths.log(name)), cert=str(logstores.cert_file(paths)), ports=logstores.PORTS)
    elif svc.kind == "internalflows":
        from . import internal_flows

        entry.update(log=str(paths.log(name)), config=str(internal_flows.root(paths)))
    elif svc.kind == "adminplane":
        from . import adminplane

        entry.update(log=str(paths.log(name)), config=str(adminplane.root(paths)))
    elif svc.kind == "s3":
        entry.update(
            log=str(paths.log(name)), url=f"http://{svc.address}:{svc.port}", credentials=str(paths.root / "s3")
        )
    else:
        tls = pki.material(paths, name)
        entry["config"] = str(paths.nginx_config(svc.profile))
        entry["log"] = str(paths.log(name + ".error"))
        entry["access_log"] = str(paths.log(name + ".access"))
        entry["cert"] = str(tls.cert)
        entry["chain"] = str(tls.chain)
        entry["key"] = str(tls.key)
        entry["ca"] = str(tls.ca)
        entry["server_name"] = f"{name}.lab"
    return entry


def build(paths: LabPaths, users: list[LabUser], started_at: str, up_seconds: float) -> dict:
    """The lab.json content for the lab as it runs now."""
    return {
        "schema": SCHEMA_VERSION,
        "state_dir": str(paths.root),
        "started_at": started_at,
        "up_seconds": round(up_seconds, 3),
        "supernet": str(LAB_SUPERNET),
        "namespaces": list(NAMESPACES),
        "router": {
            "ns": ROUTER_NS,
            "interfaces": {z.router_iface: f"{z.gateway}/{z.prefixlen}" for z in ZONES.values()},
            "ruleset": str(paths.router_ruleset),
            "nft_table": "inet preuve",
            "blackhole": BLACKHOLE_ADDRESS,
        },
        "zones": {
            z.name: {
                "ns": z.ns,
                "subnet": z.subnet,
                "gateway": z.gateway,
                "interface": ZONE_IFACE,
                "addresses": list(z.addresses),
            }
            for z in ZONES.values()
        },
        "scanner": {"ns": ADMIN_NS, "address": SCANNER_ADDRESS},
        "services": {name: _service_entry(paths, name) for name in SERVICES},
        "users": {u.name: {"uid": u.uid, "home": str(u.home), "empty_password": u.password_field == ""} for u in users},
        "keys": {
            "auditor": str(paths.auditor_key),
            "auditor_pub": str(paths.auditor_pub),
            "known_hosts": str(paths.known_hosts),
            "known_hosts_wrong": str(paths.known_hosts_wrong),
        },
        "pki": {
            "ca_fr": str(paths.ca_fr),
            "ca_fr_issuing": str(paths.pki / "ca-fr-issuing.pem"),
            "ca_us": str(paths.ca_us),
            "dhparam": str(pki.dhparam_path(paths)),
        },
    }


def write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
