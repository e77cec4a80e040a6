"""Tenant pods' egress (9.7.a, 13.2.a): where each tenant namespace's NetworkPolicies let its pods connect.

A default-deny Egress policy is only the start: a second policy of the same namespace that allows `0.0.0.0/0`,
every namespace (`namespaceSelector: {}`) or a rule without `to` reopens everything, and the default-deny check
still passes. So every egress rule of every policy in a tenant namespace is read as Kubernetes unions them:
allowed peers are the pods of the namespace itself, namespaces that belong to no other tenant (kube-system DNS),
and address blocks inside the profile's `kubernetes.egress_internal_networks` (internal services, egress
proxies). Anything else is a finding.
"""

import ipaddress

from preuve.judge import check

from .check_tenants import tenant_namespaces


def _matches(selector: dict, labels: dict) -> bool:
    if selector.get("matchExpressions"):
        return True  # not evaluated: counted as matching, so a cross-tenant expression cannot slip through
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def peer_problem(peer: dict, ns: str, owner: dict, labels: dict, internal: list) -> str | None:
    """Why this `to` peer lets a tenant's pods out of their allowed destinations (None: it does not)."""
    if "ipBlock" in peer:
        cidr = ipaddress.ip_network(peer["ipBlock"].get("cidr", "0.0.0.0/0"), strict=False)
        if not any(cidr.subnet_of(z) for z in internal if z.version == cidr.version):
            return f"ipBlock {cidr} (outside kubernetes.egress_internal_networks)"
        return None
    sel = peer.get("namespaceSelector")
    if sel is None:
        return None  # podSelector alone: pods of the same namespace
    reached = [n for n, lab in labels.items() if _matches(sel, lab) and owner.get(n, owner[ns]) != owner[ns]]
    if reached:
        return f"namespaceSelector {sel or '{}'} reaches other tenants' namespaces {sorted(reached)}"
    return None


@check(
    "K8S-TENANT-EGRESS",
    requirements={
        "9.7.a#1": "no egress NetworkPolicy rule reopens a tenant's default deny to another tenant or the outside",
        "13.2.a#4": "each tenant's egress is confined to its own namespace, shared services and the egress proxies",
    },
    target="k8s_cluster",
    severity="high",
    rule="NetworkPolicy egress per tenant: no destination outside the tenant but shared services and proxies",
)
def check_tenant_egress(k8s_tenants, target, params, judge):
    owner = tenant_namespaces(target, judge)
    labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in k8s_tenants["namespaces"]}
    internal = [ipaddress.ip_network(c) for c in params.kubernetes.egress_internal_networks]
    findings: dict[str, bool] = {}
    isolated = dict.fromkeys(owner, False)
    for p in k8s_tenants["networkpolicies"]:
        ns = p["metadata"].get("namespace")
        if ns not in owner:
            continue
        spec = p.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        if "Egress" not in types:
            continue
        sel = spec.get("podSelector") or {}
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            isolated[ns] = True
        for i, rule in enumerate(spec.get("egress") or []):
            where = f"{ns}/{p['metadata']['name']} egress[{i}]"
            if not rule.get("to"):
                findings[f"{where}: no `to` (every destination)"] = False
            for peer in rule.get("to") or []:
                why = peer_problem(peer, ns, owner, labels, internal)
                if why:
                    findings[f"{where}: {why}"] = False
    for ns, ok in isolated.items():
        if not ok:
            findings[f"{ns}: no policy isolates every pod's egress (every destination allowed)"] = False
    judge.each(
        "k8s.tenants.egress", findings, observed={ns: "egress isolated" if v else "open" for ns, v in isolated.items()}
    )
