"""Kubernetes cluster facts, read through the official `kubernetes` client (GET only, every request timed).

One observation per cluster gathers every list the selected checks need, grouped in facts:
- `apiserver`: kube-apiserver flags from its pod spec in kube-system (kubeadm static pod mirror) and the
  storage transformation counters of /metrics (which encryption provider really writes Secrets);
- `probe`: what an *unauthenticated* client gets (401 when anonymous auth is off; 403 naming system:anonymous
  when it is on), on a resource path, on /version and on kubeadm's public kube-public/cluster-info ConfigMap
  (status only: its body, public by design, is not recorded);
- `rbac`: ClusterRoles, ClusterRoleBindings, Roles, RoleBindings, the `--anonymous-auth` /
  `--authentication-config` flags of the kube-apiserver pods and the unauthenticated probe (an anonymous grant is
  judged with them; either one failing leaves the grants judgeable);
- `tenants`: Namespaces, NetworkPolicies, ResourceQuotas, RoleBindings;
- `location`: Nodes, PersistentVolumes, StorageClasses, Velero BackupStorageLocations and VolumeSnapshotLocations;
- `velero`: Velero Schedules and Backups.
Refused credentials (401 on /version), a timeout or an unreachable server raise ObservationError: every check of
the cluster is then `error`. A list the account may not read (403) makes only the checks of that fact `error`;
an unreadable /metrics only the encryption check. Never `pass` without the evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


FACTS = ("apiserver", "probe", "rbac", "tenants", "location", "velero", "supply")
RBAC = "/apis/rbac.authorization.k8s.io/v1"
VELERO = "/apis/velero.io/v1"
PATHS: dict[str, dict[str, str]] = {
    "rbac": {
        "clusterroles": f"{RBAC}/clusterroles",
        "clusterrolebindings": f"{RBAC}/clusterrolebindings",
        "roles": f"{RBAC}/roles",
        "rolebindings": f"{RBAC}/rolebindings",
    },
    "tenants": {
        "namespaces": "/api/v1/namespaces",
        "networkpolicies": "/apis/networking.k8s.io/v1/networkpolicies",
        "resourcequotas": "/api/v1/resourcequotas",
        "rolebindings": f"{RBAC}/rolebindings",
    },
    "location": {
        "nodes": "/api/v1/nodes",
        "persistentvolumes": "/api/v1/persistentvolumes",
        "storageclasses": "/apis/storage.k8s.io/v1/storageclasses",
    },
}
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"  # kubeadm's public discovery document
APISERVER_SELECTOR = "component=kube-apiserver"  # kubeadm, kops, k3s-free clusters label it so
METRIC = re.compile(r"^apiserver_storage_transformation_operations_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Connection:
    """How to reach one cluster: a kubeconfig (and context), or a server URL with a CA file and a token."""

    name: str
    server: str | None = None
    ca_file: str | None = None
    token: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    velero_namespace: str = "velero"


class _Api:
    """The official client's ApiClient, with no retries and a (connect, read) timeout on every request."""

    def __init__(self, conn: Connection, timeout: float, anonymous: bool = False):
        from kubernetes import client, config

        cfg = client.Configuration()
        if conn.kubeconfig:
            try:
                config.load_kube_config(conn.kubeconfig, conn.context, client_configuration=cfg, persist_config=False)
            except Exception as exc:  # the loader raises ConfigException, OSError, yaml errors...
                raise ObservationError(f"kubeconfig {conn.kubeconfig} cannot be used: {exc}") from None
        else:
            cfg.host = conn.server
            cfg.ssl_ca_cert = conn.ca_file
            if conn.token:
                cfg.api_key = {"BearerToken": conn.token}
                cfg.api_key_prefix = {"BearerToken": "Bearer"}
        if anonymous:  # the behavioural probe: same server and CA, no credentials at all
            cfg.api_key, cfg.api_key_prefix, cfg.cert_file, cfg.key_file = {}, {}, None, None
            cfg.username = cfg.password = None
            cfg.refresh_api_key_hook = None
        cfg.retries = False
        self.host = cfg.host
        self.anonymous = anonymous
        self.client = client.ApiClient(cfg)
        self.timeout = (timeout, timeout)

    def raw(self, path: str, query: list[tuple[str, str]] | None = None) -> tuple[int, bytes]:
        import urllib3

        auth = [] if self.anonymous else ["BearerToken"]
        req = self.client.param_serialize(
            "GET", path, query_params=query or [], header_params={"Accept": "application/json"}, auth_settings=auth
        )
        try:
            resp = self.client.call_api(*req, _request_timeout=self.timeout)
        except urllib3.exceptions.MaxRetryError as exc:
            raise ObservationError(f"{self.host}: {_reason(exc.reason)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObservationError(f"{self.host}: {_reason(exc)}") from None
        return resp.status, resp.read()

    def get(self, path: str, query: list[tuple[str, str]] | None = None, *, optional: bool = False) -> Any:
        """JSON of a GET; a 404 is None when `optional` (an API group that is not installed)."""
        code, body = self.raw(path, query)
        if code == 404 and optional:
            return None
        if code >= 400:
            raise ObservationError(f"{self.host}: GET {path} refused: HTTP {code} {_status_message(body)}")
        try:
            return json.loads(body)
        except ValueError:
            if path == "/metrics":
                return body.decode(errors="replace")
            raise ObservationError(f"{self.host}: GET {path} did not answer JSON") from None


def _reason(exc: BaseException | None) -> str:
    text = str(exc)
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"timeout ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text[:200]}"


def _status_message(body: bytes) -> str:
    try:
        doc = json.loads(body)
        return f"{doc.get('reason', '')}: {doc.get('message', '')}"[:300]
    except ValueError:
        return body[:120].decode(errors="replace").strip()


def _items(doc: Any) -> list[dict]:
    return list((doc or {}).get("items") or [])


def parse_flags(command: list[str]) -> dict[str, str]:
    """`--name=value` / `--name value` / bare `--name` (true) into a dict; the last occurrence wins."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(command):
        arg = command[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq:
                if i + 1 < len(command) and not command[i + 1].startswith("--"):
                    value, i = command[i + 1], i + 1
                else:
                    value = "true"
            flags[name] = value
        i += 1
    return flags


def parse_transformations(text: str) -> list[dict[str, Any]]:
    """The samples of apiserver_storage_transformation_operations_total (Prometheus text format)."""
    out = []
    for line in text.splitlines():
        m = METRIC.match(line)
        if m:
            labels = dict(LABEL.findall(m.group("labels")))
            out.append({**labels, "value": float(m.group("value"))})
    return out


def _apiserver_pods(api: _Api, cache: dict[str, Any]) -> list[dict[str, Any]]:
    """The kube-apiserver pods' flags, read once per observation (the rbac and apiserver facts share them)."""
    if "pods" not in cache:
        try:
            cache["pods"] = _read_apiserver_pods(api)
        except ObservationError as exc:
            cache["pods"] = exc
    if isinstance(cache["pods"], ObservationError):
        raise cache["pods"]
    return cache["pods"]


def _anonymous_flags(api: _Api, cache: dict[str, Any]) -> dict[str, Any]:
    """What the kube-apiserver flags say about anonymous requests (None: flag absent), or why they are unknown."""
    try:
        pods = _apiserver_pods(api, cache)
    except ObservationError as exc:
        return {"error": str(exc)}
    return {
        "pods": [
            {
                "pod": p["pod"],
                "anonymous-auth": p["flags"].get("anonymous-auth"),
                "authentication-config": p["flags"].get("authentication-config"),
            }
            for p in pods
        ]
    }


def _apiserver(api: _Api, cache: dict[str, Any]) -> dict[str, Any]:
    found = _apiserver_pods(api, cache)
    try:
        metrics = api.get("/metrics")
    except ObservationError as exc:  # the flags stay judgeable; the encryption check reports this as `error`
        return {"pods": found, "transformations": None, "metrics_error": str(exc)}
    return {"pods": found, "transformations": parse_transformations(metrics if isinstance(metrics, str) else "")}


def _read_apiserver_pods(api: _Api) -> list[dict[str, Any]]:
    pods = _items(api.get("/api/v1/namespaces/kube-system/pods", [("labelSelector", APISERVER_SELECTOR)]))
    found = []
    for pod in pods:
        for c in pod.get("spec", {}).get("containers", []):
            if c.get("name") == "kube-apiserver":
                cmd = [*c.get("command", []), *c.get("args", [])]
                found.append({"pod": pod["metadata"]["name"], "command": cmd, "flags": parse_flags(cmd)})
    return found


def _probe(conn: Connection, timeout: float) -> dict[str, Any]:
    anon = _Api(conn, timeout, anonymous=True)
    out: dict[str, Any] = {}
    for key, path in (("resource", "/api/v1/namespaces"), ("version", "/version"), ("cluster_info", CLUSTER_INFO)):
        code, body = anon.raw(path)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        status = doc if isinstance(doc, dict) and doc.get("kind") == "Status" else None
        out[key] = {
            "path": path,
            "code": code,
            "reason": status.get("reason") if status else None,
            "message": status.get("message") if status else None,
        }
    return out


def _probe_once(conn: Connection, timeout: float, cache: dict[str, Any]) -> dict[str, Any]:
    """The unauthenticated probe, sent once per observation (the probe and rbac facts share it)."""
    if "probe" not in cache:
        try:
            cache["probe"] = _probe(conn, timeout)
        except ObservationError as exc:
            cache["probe"] = exc
    if isinstance(cache["probe"], ObservationError):
        raise cache["probe"]
    return cache["probe"]


def _velero(api: _Api, ns: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": ns}
    for plural in kinds:
        doc = api.get(f"{VELERO}/namespaces/{ns}/{plural}", optional=True)
        out["installed"] = doc is not None
        if doc is None:
            return out
        out[plural] = _items(doc)
    return out


# Image admission policies an operator may install (API group not installed: 404, recorded as absent).
ADMISSION = {
    "validatingadmissionpolicies": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
    "validatingadmissionpolicybindings": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
    "clusterimagepolicies": "/apis/policy.sigstore.dev/v1beta1/clusterimagepolicies",
    "kyverno_clusterpolicies": "/apis/kyverno.io/v1/clusterpolicies",
}


def _supply(api: _Api) -> dict[str, Any]:
    """The release of the control plane, the image of every container of every pod (init containers too) and the
    image admission policies installed (K8S-VERSION-SUPPORTED, K8S-IMAGES-ALLOWED, K8S-IMAGE-ADMISSION)."""
    version = api.get("/version")
    images = []
    for pod in _items(api.get("/api/v1/pods")):
        meta, spec = pod.get("metadata", {}), pod.get("spec", {})
        for key in ("initContainers", "containers", "ephemeralContainers"):
            for c in spec.get(key) or []:
                images.append(
                    {
                        "namespace": meta.get("namespace"),
                        "pod": meta.get("name"),
                        "container": c.get("name"),
                        "image": c.get("image"),
                    }
                )
    policies = {}
    for name, path in ADMISSION.items():
        doc = api.get(path, optional=True)
        policies[name] = None if doc is None else _items(doc)
    return {"version": version if isinstance(version, dict) else {}, "images": images, "admission": policies}


def collect(conn: Connection, facts: list[str], timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read what the checks asked for; raises ObservationError when the cluster cannot be read."""
    api = _Api(conn, timeout)
    version = api.get("/version")
    out: dict[str, Any] = {"version": version.get("gitVersion") if isinstance(version, dict) else None}
    cache: dict[str, Any] = {}
    for fact in facts:
        try:
            out[fact] = _fact(api, conn, fact, timeout, cache)
        except ObservationError as exc:  # e.g. a 403 on one list: that fact's checks are `error`, the others judge
            out[fact] = {"error": str(exc)}
    return out, {"server": api.host, "facts": sorted(facts)}


def _fact(api: _Api, conn: Connection, fact: str, timeout: float, cache: dict[str, Any]) -> dict[str, Any]:
    if fact == "apiserver":
        return _apiserver(api, cache)
    if fact == "probe":
        return _probe_once(conn, timeout, cache)
    if fact in PATHS:
        found: dict[str, Any] = {plural: _items(api.get(path)) for plural, path in PATHS[fact].items()}
        if fact == "location":
            found["velero"] = _velero(api, conn.velero_namespace, ("backupstoragelocations", "volumesnapshotlocations"))
        if fact == "rbac":  # anonymous grants are judged with both (K8S-RBAC-ANONYMOUS), whatever else is selected
            found["anonymous_flags"] = _anonymous_flags(api, cache)
            try:
                found["anonymous_probe"] = _probe_once(conn, timeout, cache)
            except ObservationError as exc:
                found["anonymous_probe"] = {"error": str(exc)}
        return found
    if fact == "velero":
        return _velero(api, conn.velero_namespace, ("schedules", "backups"))
    if fact == "supply":
        return _supply(api)
    raise ObservationError(f"unknown Kubernetes fact {fact!r}")


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:

    from preuve.observe.reveal import reveal, tool

    spec = target.spec
    token = None
    if spec.token is not None:
        token = reveal(spec.token, f"token of cluster {target.name}")
    conn = Connection(
        target.name,
        server=spec.server,
        ca_file=spec.ca_file,
        token=token,
        kubeconfig=spec.kubeconfig,
        context=spec.context,
        velero_namespace=spec.velero_namespace,
    )
    query = {
        "server": spec.server,
        "kubeconfig": spec.kubeconfig,
        "context": spec.context,
        "ca_file": spec.ca_file,
        "facts": sorted(facts),
        "method": "GET only",
        "paths": {f: PATHS.get(f) for f in sorted(facts)},
    }
    found, raw = collect(conn, sorted(facts), timeout)
    return query, found, raw, tool("kubernetes")


COLLECTOR = Collector(
    "kubernetes",
    _collect,
    limit=8,
    fixtures=(
        Fixture(
            "k8s_apiserver",
            "k8s_cluster",
            "apiserver",
            doc="kube-apiserver flags (kube-system pod spec) and storage encryption counters (/metrics)",
        ),
        Fixture("k8s_probe", "k8s_cluster", "probe", doc="what an unauthenticated client gets"),
        Fixture("k8s_rbac", "k8s_cluster", "rbac", doc="ClusterRoles, Roles and their bindings"),
        Fixture(
            "k8s_tenants", "k8s_cluster", "tenants", doc="Namespaces, NetworkPolicies, ResourceQuotas, RoleBindings"
        ),
        Fixture(
            "k8s_location",
            "k8s_cluster",
            "location",
            doc="Nodes, PersistentVolumes, StorageClasses, Velero storage and snapshot locations",
        ),
        Fixture("k8s_velero", "k8s_cluster", "velero", doc="Velero Schedules and Backups"),
        Fixture(
            "k8s_supply",
            "k8s_cluster",
            "supply",
            doc="control plane release (/version), every container image of every pod, image admission policies "
            "(ValidatingAdmissionPolicy, sigstore ClusterImagePolicy, Kyverno ClusterPolicy)",
        ),
    ),
    preload=("kubernetes.client", "kubernetes.config", "urllib3"),
)
