"""What a tenant's own token reads through the cluster's public API (9.6.j: the provider's resources, and another
tenant's, are not reachable from the CaaS interface customers use).

A token that cannot list namespaces proves little: an object whose name is known (a Secret a Helm chart always
creates, a ConfigMap named after its component) is still read by a GET when a Role grants `get` without `list`.
So the names are first listed by the cluster's own read-only account, metadata only (`as=PartialObjectMetadataList`:
a Secret's data never reaches the scanner), then the canary's token tries, GET only:

- a control: list Pods and ConfigMaps of its own tenant's namespaces. A dead or rightless token would "fail to
  read" everything, so a refused control is an ObservationError, never a pass;
- list Namespaces (cluster scope);
- in each provider namespace and each other tenant's namespace: list Secrets, ConfigMaps and Pods, and GET each
  Secret and ConfigMap by the names the scanner listed (at most `MAX_NAMES` per kind and namespace).

Evidence: the HTTP status of each request (and the Status reason of a refusal), never a body: a 200 on a Secret is
recorded as "200 (body discarded)". The token is a secret by reference, registered with the redactor.
"""

from __future__ import annotations

from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

MAX_NAMES = 5  # names tried per kind and namespace: enough to show a grant, few requests
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
LISTED = ("secrets", "configmaps", "pods")
BY_NAME = ("secrets", "configmaps")


def _path(plural: str, ns: str | None, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{ns}/{plural}" if ns else f"/api/v1/{plural}"
    return f"{base}/{name}" if name else base


def _status(api: Any, path: str) -> dict[str, Any]:
    """GET with the canary's token: status and refusal reason only (the body is dropped unread)."""
    import json

    code, body = api.raw(path)
    reason = None
    if code >= 400:
        try:
            doc = json.loads(body)
            reason = doc.get("reason") if isinstance(doc, dict) else None
        except ValueError:
            reason = None
    return {"path": path, "code": code, "reason": reason, "allowed": 200 <= code < 300}


def names(api: Any, plural: str, ns: str) -> list[str] | dict[str, str]:
    """The names in a namespace, listed by the scanner's account with metadata only (sorted, bounded)."""
    import json

    req = api.client.param_serialize(
        "GET",
        _path(plural, ns),
        header_params={"Accept": METADATA_ONLY},
        auth_settings=["BearerToken"],
    )
    import urllib3

    try:
        resp = api.client.call_api(*req, _request_timeout=api.timeout)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ObservationError(f"{api.host}: {type(exc).__name__}") from None
    body = resp.read()
    if resp.status >= 400:
        return {"error": f"the scanner's account may not list {plural} in {ns}: HTTP {resp.status}"}
    try:
        items = json.loads(body).get("items") or []
    except (ValueError, AttributeError):
        return {"error": f"listing {plural} in {ns} did not answer JSON"}
    return sorted(str((i.get("metadata") or {}).get("name")) for i in items)[:MAX_NAMES]


def probe(scanner: Any, canary: Any, own: list[str], foreign: dict[str, str]) -> dict[str, Any]:
    """The control, then every attempt on foreign namespaces (`foreign`: namespace -> whose: provider or tenant)."""
    control = [_status(canary, _path(p, ns)) for ns in own for p in ("pods", "configmaps")]
    if not all(c["allowed"] for c in control):
        refused = [f"{c['path']}: HTTP {c['code']}" for c in control if not c["allowed"]]
        raise ObservationError(
            "the tenant canary's token cannot read its own tenant's namespaces "
            f"({'; '.join(refused)}): a token that reads nothing proves nothing about isolation"
        )
    attempts = [dict(_status(canary, _path("namespaces", None)), namespace=None, whose="cluster", how="list")]
    listed: dict[str, dict[str, Any]] = {}
    for ns, whose in sorted(foreign.items()):
        for plural in LISTED:
            attempts.append(dict(_status(canary, _path(plural, ns)), namespace=ns, whose=whose, how="list"))
        for plural in BY_NAME:
            found = names(scanner, plural, ns)
            listed.setdefault(ns, {})[plural] = found
            for name in found if isinstance(found, list) else ():
                a = _status(canary, _path(plural, ns, name))
                attempts.append(dict(a, namespace=ns, whose=whose, how="get by name"))
    for a in attempts:
        if a["allowed"]:
            a["body"] = "discarded"
    return {"control": control, "attempts": attempts, "names_listed_by_scanner": listed}


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    """Adapter: the cluster's connection for the scanner, the same server with the canary's token for the probes."""
    from dataclasses import replace

    from preuve.observe.k8s import cluster as kubernetes
    from preuve.observe.reveal import reveal, tool

    cluster, canary = target.spec
    if cluster.server is None:
        raise ObservationError("a tenant canary needs the cluster's `server` (its token replaces the scanner's)")
    scanner_token = reveal(cluster.token, f"token of cluster {cluster.name}") if cluster.token else None
    canary_token = reveal(canary.token, f"token of tenant canary {canary.name}")
    conn = kubernetes.Connection(cluster.name, server=cluster.server, ca_file=cluster.ca_file, token=scanner_token)
    scanner = kubernetes._Api(conn, timeout)
    tenant = replace(conn, token=canary_token)
    api = kubernetes._Api(tenant, timeout)
    own = [ns for t in cluster.tenants if t.name == canary.tenant for ns in t.namespaces]
    foreign = {ns: "provider" for ns in cluster.provider_namespaces}
    foreign.update({ns: f"tenant {t.name}" for t in cluster.tenants if t.name != canary.tenant for ns in t.namespaces})
    query = {
        "server": cluster.server,
        "ca_file": cluster.ca_file,
        "tenant": canary.tenant,
        "token": canary.token.model_dump(exclude_none=True),
        "method": "GET only; names listed by the cluster's own account with metadata only",
        "own_namespaces": own,
        "foreign_namespaces": foreign,
        "max_names": MAX_NAMES,
    }
    found = probe(scanner, api, own, foreign)
    found.update(tenant=canary.tenant, cluster=cluster.name)
    return query, found, {"attempts": len(found["attempts"])}, tool("kubernetes")


COLLECTOR = Collector(
    name="k8s_tenant_canary",
    collect=collect,
    limit=4,
    fixtures=(
        Fixture(
            "k8s_tenant_canary",
            "k8s_tenant_canary",
            doc="what a tenant's token reads through the cluster API: its own namespaces (control), the "
            "provider's and other tenants' (list, and GET by the names the scanner listed)",
        ),
    ),
    preload=("kubernetes.client",),
)
