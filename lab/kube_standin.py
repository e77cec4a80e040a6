"""A read-only Kubernetes API server stand-in: the REST protocol the official client speaks, over real HTTP(S).

No real kube-apiserver can run here, so the lab serves a seeded cluster (lab/kube_seed.py) the way one
answers: discovery (/api, /apis, /api/v1, /apis/<group>/<version>), list and get of cluster-scoped and namespaced
resources (with `labelSelector` equality), /version, /healthz, /metrics, bearer-token authentication and
`Status` error bodies. The 401, 403 and 404 bodies are the ones kube-apiserver writes, built as its code builds
them (k8s.io/apiserver .../endpoints/handlers/responsewriters/errors.go `forbiddenMessage`, apimachinery
`errors.NewUnauthorized` / `NewForbidden` / `NewNotFound`: message, reason, details with the group-qualified
resource, field order of metav1.Status), i.e. what `curl -k https://<apiserver>/api/v1/namespaces` returns on a
kubeadm cluster; an unknown API group answers the plain-text `404 page not found` of the apiserver's
NotFoundHandler. Writes answer 405 (a real apiserver would accept them or refuse them through RBAC).

Not emulated (say so in reports): writes, watch, field selectors, pagination (`limit`/`continue`), RBAC
evaluation (the scanner's token may read everything, a `noaccess` token nothing, a tenant canary's token what its
own grants say (`token_may`); anonymous requests, when anonymous auth is on, may read the public-info-viewer paths
and what a namespaced RoleBinding to system:anonymous grants, e.g. kubeadm's kube-public/cluster-info;
ClusterRoleBindings to anonymous subjects are not evaluated), impersonation, protobuf, aggregated discovery.
Metadata-only lists (`Accept: application/json;as=PartialObjectMetadataList;...`, how an auditor lists Secrets'
names without their data) are served as kube-apiserver serves them.

kmock (MIT, PyPI 0.8) was considered: it emulates list/get/watch well but its Status bodies are its own
(reason "Object Not Found", tracebacks in details) and it serves plain HTTP from aiohttp's test server; the
behavioural checks need the real bodies over TLS, hence this small server.
"""

from __future__ import annotations

import argparse
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (group, version, plural) -> (kind, namespaced)
RESOURCES: dict[tuple[str, str, str], tuple[str, bool]] = {
    ("", "v1", "configmaps"): ("ConfigMap", True),
    ("", "v1", "namespaces"): ("Namespace", False),
    ("", "v1", "nodes"): ("Node", False),
    ("", "v1", "persistentvolumes"): ("PersistentVolume", False),
    ("", "v1", "pods"): ("Pod", True),
    ("", "v1", "resourcequotas"): ("ResourceQuota", True),
    ("", "v1", "secrets"): ("Secret", True),
    ("", "v1", "serviceaccounts"): ("ServiceAccount", True),
    ("rbac.authorization.k8s.io", "v1", "clusterroles"): ("ClusterRole", False),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"): ("ClusterRoleBinding", False),
    ("rbac.authorization.k8s.io", "v1", "roles"): ("Role", True),
    ("rbac.authorization.k8s.io", "v1", "rolebindings"): ("RoleBinding", True),
    ("networking.k8s.io", "v1", "networkpolicies"): ("NetworkPolicy", True),
    ("storage.k8s.io", "v1", "storageclasses"): ("StorageClass", False),
    ("velero.io", "v1", "backupstoragelocations"): ("BackupStorageLocation", True),
    ("velero.io", "v1", "volumesnapshotlocations"): ("VolumeSnapshotLocation", True),
    ("velero.io", "v1", "backups"): ("Backup", True),
    ("velero.io", "v1", "schedules"): ("Schedule", True),
    ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies"): ("ValidatingAdmissionPolicy", False),
    ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings"): (
        "ValidatingAdmissionPolicyBinding",
        False,
    ),
    ("policy.sigstore.dev", "v1beta1", "clusterimagepolicies"): ("ClusterImagePolicy", False),
}
KIND_TO_RESOURCE = {kind: key for key, (kind, _) in RESOURCES.items()}
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")  # system:public-info-viewer


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """A `Status` body in the apiserver's field order (details omitted when the apiserver omits them)."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


UNAUTHORIZED = status(401, "Unauthorized", "Unauthorized")  # verbatim, v1.29


def _details(group: str, plural: str, name: str | None) -> dict[str, str]:
    """metav1.StatusDetails as apimachinery fills it: name, group (omitted when core), kind = the resource."""
    out = {"name": name} if name else {}
    if group:
        out["group"] = group
    out["kind"] = plural
    return out


def _qualified(group: str, plural: str) -> str:
    """schema.GroupResource.String(): `namespaces`, `clusterroles.rbac.authorization.k8s.io`."""
    return f"{plural}.{group}" if group else plural


def forbidden(user: str, verb: str, group: str, plural: str, namespace: str | None, name: str | None) -> dict:
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = f'{_qualified(group, plural)} "{name}"' if name else _qualified(group, plural)
    msg = f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group "{group}" {scope}'
    return status(403, "Forbidden", msg, _details(group, plural, name))


def not_found(group: str, plural: str, name: str) -> dict:
    return status(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found', _details(group, plural, name))


def forbidden_path(user: str, path: str) -> dict:
    return status(403, "Forbidden", f'forbidden: User "{user}" cannot get path "{path}"', {})


class Cluster:
    """The seeded objects of one cluster, indexed by resource, plus what its apiserver is configured to do."""

    def __init__(self, seed: dict[str, Any]):
        self.anonymous = bool(seed["anonymous_auth"])
        self.tokens: dict[str, dict[str, Any]] = seed["tokens"]
        self.metrics: str = seed.get("metrics", "")
        self.version: dict[str, str] = seed["version"]
        self.objects: dict[tuple[str, str, str], list[dict]] = {k: [] for k in RESOURCES}
        for i, obj in enumerate(seed["objects"]):
            group, _, version = obj["apiVersion"].rpartition("/")
            key = KIND_TO_RESOURCE[obj["kind"]]
            if key[:2] != (group, version):
                raise ValueError(f"seed object {i}: {obj['apiVersion']} {obj['kind']} is not served")
            meta = obj.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}/{meta.get('namespace')}/{meta['name']}")))
            meta.setdefault("resourceVersion", str(1000 + i))
            self.objects[key].append(obj)

    def anonymous_may(self, verb: str, key: tuple[str, str, str], ns: str | None, name: str | None) -> bool:
        """What a namespaced RoleBinding to system:anonymous/system:unauthenticated grants (kubeadm's cluster-info):
        the one slice of RBAC the stand-in evaluates, for anonymous requests only."""
        if ns is None:
            return False
        anonymous = {("User", "system:anonymous"), ("Group", "system:unauthenticated")}
        rbac = "rbac.authorization.k8s.io"
        roles = {
            (r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in self.objects[(rbac, "v1", "roles")]
        }
        roles.update({(None, r["metadata"]["name"]): r for r in self.objects[(rbac, "v1", "clusterroles")]})
        for b in self.objects[(rbac, "v1", "rolebindings")]:
            if b["metadata"].get("namespace") != ns:
                continue
            if not any((s.get("kind"), s.get("name")) in anonymous for s in b.get("subjects") or []):
                continue
            ref = b["roleRef"]
            role = roles.get((ns if ref["kind"] == "Role" else None, ref["name"]))
            for rule in (role or {}).get("rules") or []:
                if (
                    ({verb, "*"} & set(rule.get("verbs") or []))
                    and ({key[0], "*"} & set(rule.get("apiGroups") or []))
                    and ({key[2], "*"} & set(rule.get("resources") or []))
                    and (not rule.get("resourceNames") or name in rule["resourceNames"])
                ):
                    return True
        return False

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for group, version, _ in RESOURCES:
            if group and version not in out.setdefault(group, []):
                out[group].append(version)
        return out


def token_may(user: dict[str, Any], verb: str, key: tuple[str, str, str], ns: str | None) -> bool:
    """A token's own grants (the lab's tenant canaries), each `{"namespaces": [...], "resources": [...], "verbs":
    [...]}` as a RoleBinding of a Role in each namespace would give: a `get` grant without `list` lets its holder
    read an object whose name it knows but not list the namespace (the naive check's blind spot)."""
    for rule in user.get("rules") or ():
        if ns in rule["namespaces"] and ({key[2], "*"} & set(rule["resources"])) and ({verb, "*"} & set(rule["verbs"])):
            return True
    return False


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = ""
    sys_version = ""
    cluster: Cluster  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the lab keeps no access log
        return

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self) -> dict[str, Any] | None:
        """The authenticated user, an anonymous one when allowed, or None (-> 401)."""
        auth = self.headers.get("Authorization")
        if auth is None:
            return {"user": "system:anonymous", "read": False} if self.cluster.anonymous else None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.cluster.tokens.get(token.strip())

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        user = self._user()
        if user is None:
            return self._send(401, UNAUTHORIZED)
        if path in PUBLIC_PATHS:
            return self._public(path)
        if not user["read"]:
            if path.startswith(("/api/", "/apis/")):
                target = self._resolve(path)
                if target is not None:
                    (group, _, plural), ns, name = target
                    verb = "get" if name else "list"
                    if user["user"] == "system:anonymous" and self.cluster.anonymous_may(verb, target[0], ns, name):
                        return self._serve(target, query)
                    if token_may(user, verb, target[0], ns):
                        return self._serve(target, query)
                    return self._send(403, forbidden(user["user"], verb, group, plural, ns, name))
            return self._send(403, forbidden_path(user["user"], path))
        if path == "/metrics":
            return self._send(200, self.cluster.metrics.encode(), "text/plain; version=0.0.4; charset=utf-8")
        if path == "/api":
            return self._send(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self._address()}],
                },
            )
        if path == "/apis":
            return self._send(200, self._group_list())
        if path == "/api/v1":
            return self._send(200, self._resource_list("", "v1"))
        parts = path.split("/")
        if len(parts) == 3 and parts[1] == "apis" and parts[2] in self.cluster.groups():
            return self._send(200, self._group(parts[2]))
        if len(parts) == 4 and parts[1] == "apis" and parts[3] in self.cluster.groups().get(parts[2], []):
            return self._send(200, self._resource_list(parts[2], parts[3]))
        target = self._resolve(path)
        if target is None:
            return self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
        return self._serve(target, query)

    def _serve(self, target: tuple[tuple[str, str, str], str | None, str | None], query: dict[str, list[str]]) -> None:
        key, ns, name = target
        kind, _ = RESOURCES[key]
        items = [o for o in self.cluster.objects[key] if ns is None or o["metadata"].get("namespace") == ns]
        if name is not None:
            found = next((o for o in items if o["metadata"]["name"] == name), None)
            if found is None:
                return self._send(404, not_found(key[0], key[2], name))
            return self._send(200, {"kind": kind, "apiVersion": _api_version(key), **found})
        selector = (query.get("labelSelector") or [""])[0]
        items = [o for o in items if _selector_matches(selector, o["metadata"].get("labels") or {})]
        if "as=PartialObjectMetadataList" in (self.headers.get("Accept") or ""):
            return self._send(
                200,
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": str(5000 + len(items))},
                    "items": [
                        {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
                        for o in items
                    ],
                },
            )
        return self._send(
            200,
            {
                "kind": f"{kind}List",
                "apiVersion": _api_version(key),
                "metadata": {"resourceVersion": str(5000 + len(items))},
                "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items],
            },
        )

    def _method_not_allowed(self) -> None:
        self._send(
            405, status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        )

    do_POST = do_PUT = do_PATCH = do_DELETE = _method_not_allowed

    def _address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def _public(self, path: str) -> None:
        if path == "/version":
            return self._send(200, self.cluster.version)
        return self._send(200, b"ok", "text/plain; charset=utf-8")

    def _resolve(self, path: str) -> tuple[tuple[str, str, str], str | None, str | None] | None:
        """/api/v1/[namespaces/<ns>/]<plural>[/<name>] and the /apis/<group>/<version>/... equivalents."""
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if len(rest) > 2:
            return None
        key = (group, version, rest[0])
        if key not in RESOURCES or (ns is not None and not RESOURCES[key][1]):
            return None
        return key, ns, rest[1] if len(rest) == 2 else None

    def _group(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.cluster.groups()[group]]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": versions,
            "preferredVersion": versions[0],
        }

    def _group_list(self) -> dict[str, Any]:
        groups = [
            {k: v for k, v in self._group(g).items() if k not in ("kind", "apiVersion")}
            for g in sorted(self.cluster.groups())
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        res = [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get", "list"],
            }
            for (g, v, plural), (kind, namespaced) in RESOURCES.items()
            if (g, v) == (group, version)
        ]
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}


def _api_version(key: tuple[str, str, str]) -> str:
    return f"{key[0]}/{key[1]}" if key[0] else key[1]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """TLS scanners try suites and versions the server refuses: a failed handshake is not worth a traceback."""
        return


def serve(
    cluster: Cluster, address: str, port: int, cert: Path | None = None, key: Path | None = None
) -> ThreadingHTTPServer:
    """Bind (TLS when a certificate is given) and return the server; the caller runs serve_forever."""
    handler = type("ClusterHandler", (Handler,), {"cluster": cluster})
    server = _Server((address, port), handler)
    server.daemon_threads = True
    if cert is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")  # TLS 1.2: AEAD with ECDHE only (ANSSI-TLS annexe A.1)
        ctx.load_cert_chain(cert, key)
        # Handshake in the handler thread (first read), so a silent client cannot block accept().
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return server


def serve_in_thread(
    cluster: Cluster, address: str = "127.0.0.1", port: int = 0, cert: Path | None = None, key: Path | None = None
) -> ThreadingHTTPServer:
    """For tests: a running server on loopback (port 0 = any free port); call .shutdown() when done."""
    server = serve(cluster, address, port, cert, key)
    threading.Thread(target=server.serve_forever, daemon=True, name="kube-standin").start()
    return server


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="preuve lab: Kubernetes API stand-in")
    p.add_argument("--profile", required=True, choices=["good", "weak"], help="which seeded cluster to serve")
    p.add_argument("--tokens", required=True, help='JSON file {"scanner": ..., "noaccess": ...}')
    p.add_argument("--address", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--pid-file", required=True)
    a = p.parse_args(argv)
    import os

    from preuve_lab.kube_seed import seed

    tokens = json.loads(Path(a.tokens).read_text())
    cluster = Cluster(seed(a.profile, tokens["scanner"], tokens["noaccess"], tenant_token=tokens.get("tenant-acme")))
    server = serve(cluster, a.address, a.port, Path(a.cert), Path(a.key))
    Path(a.pid_file).write_text(f"{os.getpid()}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
