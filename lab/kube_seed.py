"""The two seeded clusters the Kubernetes stand-in serves: `good` (compliant CaaS) and `weak` (every finding).

Objects are written as a kubeadm cluster on AWS eu-west-3 (Paris) would return them, with kubeadm's own
kube-public/cluster-info ConfigMap and its RoleBinding to system:anonymous (public by design, both clusters);
`weak` adds a node in us-east-1, anonymous auth (which makes that binding live), identity encryption, audit
maxage 30, a static token file, a ClusterRoleBinding to system:unauthenticated, a tenant without default-deny or
quota, a cross-tenant RoleBinding, wildcard and undeclared cluster-admin grants (by name, and through a ClusterRole
granting `*` on `*` in `*`), a non-EU plain-HTTP Velero location and failed or stale backups.
Backup times are relative to the moment the stand-in starts (it serves what a cluster would say right then).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

RBAC = "rbac.authorization.k8s.io/v1"
TENANTS = {"acme": ["acme"], "globex": ["globex"]}
VERSION = {
    "major": "1",
    "minor": "29",
    "gitVersion": "v1.29.4",
    "gitCommit": "55019c83b0fd51ef4ced8c29eec2c4847f896e74",
    "gitTreeState": "clean",
    "buildDate": "2024-04-16T15:03:20Z",
    "goVersion": "go1.21.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(name: str, ns: str | None = None, **labels: str) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "creationTimestamp": "2026-01-12T09:30:00Z"}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    return m


def _node(name: str, region: str, zone: str, instance: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(
            name,
            **{
                "kubernetes.io/hostname": name,
                "topology.kubernetes.io/region": region,
                "topology.kubernetes.io/zone": zone,
                "node.kubernetes.io/instance-type": "m6i.xlarge",
            },
        ),
        "spec": {"providerID": f"aws:///{zone}/{instance}"},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.29.4", "osImage": "Debian GNU/Linux 12 (bookworm)"},
        },
    }


def _apiserver(good: bool) -> dict:
    common = [
        "kube-apiserver",
        "--advertise-address=10.0.0.10",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--etcd-servers=https://127.0.0.1:2379",
        "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
        "--audit-log-path=/var/log/kubernetes/audit/audit.log",
    ]
    if good:
        flags = [
            "--anonymous-auth=false",
            "--audit-log-maxage=400",
            "--audit-log-maxbackup=400",
            "--encryption-provider-config=/etc/kubernetes/enc/kms.yaml",
            "--enable-admission-plugins=NodeRestriction,PodSecurity",
            "--oidc-issuer-url=https://sso.caas.example.fr/realms/admins",
            "--oidc-client-id=kubernetes",
            "--oidc-username-claim=email",
            "--oidc-groups-claim=groups",
            "--oidc-required-claim=amr=mfa",
        ]
    else:  # anonymous-auth defaults to true: the weak cluster simply does not set it
        flags = [
            "--audit-log-maxage=30",
            "--encryption-provider-config=/etc/kubernetes/enc/enc.yaml",
            "--enable-admission-plugins=NodeRestriction",
            "--disable-admission-plugins=PodSecurity",
            "--token-auth-file=/etc/kubernetes/tokens.csv",
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **_meta("kube-apiserver-cp-1", "kube-system", component="kube-apiserver", tier="control-plane"),
            "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.mirror": "0d4c5c0f6f7d3c2b1a"},
        },
        "spec": {
            "nodeName": "cp-1",
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "containers": [
                {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.29.4", "command": common + flags}
            ],
        },
        "status": {"phase": "Running"},
    }


def _metrics(prefix: str) -> str:
    """apiserver_storage_transformation_operations_total as /metrics exposes it (v1.29 labels)."""
    return (
        "# HELP apiserver_storage_transformation_operations_total [ALPHA] Total number of transformations. "
        "Successful transformation will have a status 'OK' and a varied status string when the transformation "
        "fails. This status and transformation_type fields may be used for alerting on encryption/decryption "
        "failure using transformation_type from_storage for decryption and to_storage for encryption\n"
        "# TYPE apiserver_storage_transformation_operations_total counter\n"
        f'apiserver_storage_transformation_operations_total{{resource="secrets",status="OK",'
        f'transformation_type="from_storage",transformer_prefix="{prefix}"}} 1532\n'
        f'apiserver_storage_transformation_operations_total{{resource="secrets",status="OK",'
        f'transformation_type="to_storage",transformer_prefix="{prefix}"}} 87\n'
        "# HELP apiserver_request_total [STABLE] Counter of apiserver requests\n"
        "# TYPE apiserver_request_total counter\n"
        'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="cluster",'
        'subresource="",verb="LIST",version="v1"} 412\n'
    )


def _crb(name: str, role: str, *subjects: tuple[str, str]) -> dict:
    subs = []
    for kind, sub in subjects:
        if kind == "ServiceAccount":
            ns, _, n = sub.partition("/")
            subs.append({"kind": kind, "name": n, "namespace": ns})
        else:
            subs.append({"kind": kind, "apiGroup": "rbac.authorization.k8s.io", "name": sub})
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subs,
    }


def _rb(name: str, ns: str, role: str, subjects: list[dict]) -> dict:
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": _meta(name, ns),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    }


def _cluster_role(name: str, rules: list[dict]) -> dict:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta(name), "rules": rules}


KUBEADM_CLUSTER_INFO = "kubeadm:bootstrap-signer-clusterinfo"


def _kubeadm_public_info() -> list[dict]:
    """What `kubeadm init` writes in kube-public (phases/bootstraptoken/clusterinfo): the cluster-info ConfigMap
    (CA and API address, for `kubeadm join` discovery) and a Role + RoleBinding letting system:anonymous get it."""
    kubeconfig = (
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTi4uLg==\n"
        '    server: https://10.0.0.10:6443\n  name: ""\ncontexts: null\ncurrent-context: ""\n'
        "kind: Config\npreferences: {}\nusers: null\n"
    )
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("cluster-info", "kube-public"),
            "data": {"kubeconfig": kubeconfig},
        },
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": _meta(KUBEADM_CLUSTER_INFO, "kube-public"),
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}
            ],
        },
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": _meta(KUBEADM_CLUSTER_INFO, "kube-public"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": KUBEADM_CLUSTER_INFO},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}],
        },
    ]


def _rbac(good: bool) -> list[dict]:
    out = [
        *_kubeadm_public_info(),
        _cluster_role(
            "cluster-admin",
            [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
        ),
        _cluster_role(
            "system:public-info-viewer",
            [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}],
        ),
        _cluster_role(
            "view",
            [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "services", "configmaps", "namespaces"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        ),
        _cluster_role(
            "tenant-admin",
            [
                {
                    "apiGroups": ["", "apps"],
                    "resources": ["pods", "deployments", "services"],
                    "verbs": ["get", "list", "watch", "create", "update", "delete"],
                }
            ],
        ),
        _crb("cluster-admin", "cluster-admin", ("Group", "system:masters")),
        _crb(
            "system:public-info-viewer",
            "system:public-info-viewer",
            ("Group", "system:authenticated"),
            ("Group", "system:unauthenticated"),
        ),
        _crb("system:discovery", "system:discovery", ("Group", "system:authenticated")),
        _crb("platform-admins", "cluster-admin", ("Group", "oidc:platform-admins")),
    ]
    if not good:
        out += [
            _cluster_role("ops-everything", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
            _crb("anonymous-view", "view", ("Group", "system:unauthenticated")),
            _crb("ci-deployer-admin", "cluster-admin", ("ServiceAccount", "ci/deployer")),
            _crb("ops-contractors", "ops-everything", ("Group", "oidc:ops-contractors")),  # admin in all but name
        ]
    return out


EGRESS_PROXY = "198.18.3.80/32"  # preuve_lab.adminplane's filtering tinyproxy


def _egress_policy(ns: str, good: bool) -> dict:
    dns = {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    proxy = {"to": [{"ipBlock": {"cidr": EGRESS_PROXY}}], "ports": [{"protocol": "TCP", "port": 8888}]}
    anywhere = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}
    rules = [dns, proxy] if good or ns != "acme" else [dns, anywhere]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("allow-egress" if good or ns != "acme" else "allow-egress-anywhere", ns),
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": rules},
    }


def _tenants(good: bool) -> list[dict]:
    out: list[dict] = []
    for tenant, namespaces in TENANTS.items():
        for ns in namespaces:
            weak_tenant = not good and tenant == "globex"
            labels = {"kubernetes.io/metadata.name": ns, "preuve.example/tenant": tenant}
            if not weak_tenant:
                labels["pod-security.kubernetes.io/enforce"] = "restricted"
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": _meta(ns, **labels),
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
            )
            out.append(
                _rb(
                    f"{tenant}-admins",
                    ns,
                    "tenant-admin",
                    [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"oidc:{tenant}-admins"}],
                )
            )
            out.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("deployer", ns)})
            if weak_tenant:
                continue
            out.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": _meta("default-deny-all", ns),
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
                }
            )
            out.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": _meta("allow-ingress-controller", ns),
                    "spec": {
                        "podSelector": {"matchLabels": {"app": "web"}},
                        "policyTypes": ["Ingress"],
                        "ingress": [
                            {
                                "from": [
                                    {
                                        "namespaceSelector": {
                                            "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                                        }
                                    }
                                ]
                            }
                        ],
                    },
                }
            )
            # egress (issue 20): DNS in kube-system and the DMZ egress proxy only; the weak cluster's acme opens
            # every destination on top of its default deny (the tenant a default-deny-only check would pass)
            out.append(_egress_policy(ns, good))
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "ResourceQuota",
                    "metadata": _meta("tenant-quota", ns),
                    "spec": {"hard": {"requests.cpu": "16", "requests.memory": "64Gi", "pods": "200"}},
                }
            )
    if not good:  # acme lets globex's deployer manage its workloads: crosses tenants
        out.append(
            _rb(
                "globex-deployer",
                "acme",
                "tenant-admin",
                [{"kind": "ServiceAccount", "name": "deployer", "namespace": "globex"}],
            )
        )
        out.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta("allow-same-namespace", "globex"),
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]},
            }
        )
    return out


def _storage(good: bool) -> list[dict]:
    region = "eu-west-3" if good else "us-east-1"
    sc = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": _meta("gp3-encrypted"),
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowedTopologies": [
            {"matchLabelExpressions": [{"key": "topology.kubernetes.io/region", "values": [region]}]}
        ],
    }
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta("pvc-3f1c2a9e-acme-db"),
        "spec": {
            "capacity": {"storage": "50Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "gp3-encrypted",
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0c2f8e1d7a6b5c4d3"},
            "claimRef": {"namespace": "acme", "name": "db-data"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [f"{region}a"]},
                                {"key": "topology.kubernetes.io/region", "operator": "In", "values": [region]},
                            ]
                        }
                    ]
                }
            },
        },
        "status": {"phase": "Bound"},
    }
    local = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta("local-pv-node-1"),
        "spec": {
            "capacity": {"storage": "100Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "local",
            "local": {"path": "/mnt/disks/ssd1"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}
                            ]
                        }
                    ]
                }
            },
        },
        "status": {"phase": "Available"},
    }
    return [sc, pv, local]


def _velero(good: bool, now: dt.datetime) -> list[dict]:
    v = "velero.io/v1"
    region = "eu-west-3" if good else "us-east-1"
    s3url = f"https://s3.{region}.amazonaws.com" if good else "http://minio.backup.example.com:9000"
    out: list[dict] = [
        {
            "apiVersion": v,
            "kind": "BackupStorageLocation",
            "metadata": _meta("default", "velero"),
            "spec": {
                "provider": "aws",
                "default": True,
                "objectStorage": {"bucket": "caas-velero", "prefix": "cluster"},
                "config": {"region": region, "s3Url": s3url, "s3ForcePathStyle": "true"},
            },
            "status": {
                "phase": "Available" if good else "Unavailable",
                "lastValidationTime": _ts(now - dt.timedelta(seconds=40)),
            },
        },
        {
            "apiVersion": v,
            "kind": "VolumeSnapshotLocation",
            "metadata": _meta("default", "velero"),
            "spec": {"provider": "aws", "config": {"region": region}},
        },
    ]
    for sched, cron in (("daily", "0 2 * * *"), ("hourly", "0 * * * *")):
        out.append(
            {
                "apiVersion": v,
                "kind": "Schedule",
                "metadata": _meta(sched, "velero"),
                "spec": {"schedule": cron, "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s"}},
                "status": {"phase": "Enabled"},
            }
        )
    backups = [  # (schedule, age, phase, errors)
        ("daily", dt.timedelta(hours=30), "Completed", 0),
        ("daily", dt.timedelta(hours=6), "Completed" if good else "PartiallyFailed", 0 if good else 3),
        ("hourly", dt.timedelta(minutes=50) if good else dt.timedelta(days=3), "Completed", 0),
        ("hourly", dt.timedelta(hours=2) if good else dt.timedelta(days=4), "Completed", 0),
    ]
    for sched, age, phase, errors in backups:
        done = now - age
        name = f"{sched}-{done:%Y%m%d%H%M%S}"
        status: dict[str, Any] = {
            "phase": phase,
            "startTimestamp": _ts(done - dt.timedelta(minutes=4)),
            "completionTimestamp": _ts(done),
            "version": 1,
            "formatVersion": "1.1.0",
            "expiration": _ts(done + dt.timedelta(days=30)),
        }
        if errors:
            status["errors"] = errors
        out.append(
            {
                "apiVersion": v,
                "kind": "Backup",
                "metadata": _meta(
                    name, "velero", **{"velero.io/schedule-name": sched, "velero.io/storage-location": "default"}
                ),
                "spec": {"storageLocation": "default", "includedNamespaces": ["*"], "ttl": "720h0m0s"},
                "status": status,
            }
        )
    return out


def _secrets() -> list[dict]:
    """Secrets of the provider (kube-system, velero) and of each tenant, with values drawn at start-up (the tenant
    canary must never read one of another tenant or of the provider: TENANT-K8S-PROVIDER-INVISIBLE)."""
    import base64
    import secrets as random

    def secret(name: str, ns: str, key: str) -> dict:
        value = base64.b64encode(random.token_bytes(24)).decode()
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(name, ns),
            "type": "Opaque",
            "data": {key: value},
        }

    return [
        secret("etcd-backup-credentials", "kube-system", "secret-access-key"),
        secret("cloud-credentials", "velero", "cloud"),
        secret("db-password", "acme", "password"),
        secret("api-key", "globex", "key"),
    ]


# The good cluster runs a maintained release; the weak one an end-of-life one (K8S-VERSION-SUPPORTED).
GOOD_VERSION = {**VERSION, "minor": "36", "gitVersion": "v1.36.4", "buildDate": "2026-08-11T00:00:00Z"}
LAB_REGISTRY = "registry.lab.example.eu/platform/"  # the lab inventory's allowed registry (with registry.k8s.io/)


def _workload(ns: str, name: str, image: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, ns, app=name),
        "spec": {"containers": [{"name": name, "image": image}]},
    }


def _supply(good: bool) -> list[dict]:
    """Workload images and image admission policies (K8S-IMAGES-ALLOWED, K8S-IMAGE-ADMISSION). The weak cluster
    pulls from Docker Hub and holds a ValidatingAdmissionPolicy about images with no binding: it enforces nothing
    (a check that only looks for a policy object would pass it)."""
    digest = "sha256:" + "3f" * 32
    pods = [_workload("acme", "shop", f"{LAB_REGISTRY}shop@{digest}")]
    vap = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": _meta("images-from-lab-registry"),
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods"],
                    }
                ]
            },
            "validations": [{"expression": f"object.spec.containers.all(c, c.image.startsWith('{LAB_REGISTRY}'))"}],
        },
    }
    if not good:
        pods.append(_workload("globex", "web", "docker.io/library/nginx:latest"))
        return [*pods, vap]
    policy = {
        "apiVersion": "policy.sigstore.dev/v1beta1",
        "kind": "ClusterImagePolicy",
        "metadata": _meta("lab-registry-signed"),
        "spec": {
            "images": [{"glob": f"{LAB_REGISTRY}**"}],
            "authorities": [{"keyless": {"url": "https://fulcio.lab.example.eu"}}],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": _meta("images-from-lab-registry"),
        "spec": {"policyName": "images-from-lab-registry", "validationActions": ["Deny"]},
    }
    return [*pods, vap, binding, policy]


def tenant_grants(good: bool) -> list[dict[str, list[str]]]:
    """What the `acme` tenant canary's token may do (as the RoleBindings of a CaaS tenant give): everything in its
    namespace; the weak cluster also lets it GET (not list) Secrets and ConfigMaps by name in globex and kube-system,
    so a canary that cannot list other namespaces still reads their objects when it knows a name."""
    grants = [{"namespaces": TENANTS["acme"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]
    if not good:
        grants.append(
            {"namespaces": ["globex", "kube-system"], "resources": ["secrets", "configmaps"], "verbs": ["get"]}
        )
    return grants


def seed(
    profile: str,
    scanner_token: str,
    noaccess_token: str,
    now: dt.datetime | None = None,
    tenant_token: str | None = None,
) -> dict[str, Any]:
    """Everything the stand-in serves for `good` or `weak` (`tenant_token`: the acme tenant canary's token)."""
    good = profile == "good"
    now = now or dt.datetime.now(dt.UTC)
    nodes = [
        _node("cp-1", "eu-west-3", "eu-west-3a", "i-0a1b2c3d4e5f60001"),
        _node("node-1", "eu-west-3", "eu-west-3a", "i-0a1b2c3d4e5f60002"),
        _node("node-2", "eu-west-3", "eu-west-3b", "i-0a1b2c3d4e5f60003"),
    ]
    if not good:
        nodes.append(_node("node-3", "us-east-1", "us-east-1a", "i-0f9e8d7c6b5a40004"))
    system = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, **{"kubernetes.io/metadata.name": ns})}
        for ns in ("default", "kube-system", "kube-public", "velero", "ci")
    ]
    return {
        "anonymous_auth": not good,
        "tokens": {
            scanner_token: {"user": "system:serviceaccount:preuve:scanner", "read": True},
            noaccess_token: {"user": "system:serviceaccount:preuve:nobody", "read": False},
            **(
                {tenant_token: {"user": "oidc:acme-canary", "read": False, "rules": tenant_grants(good)}}
                if tenant_token
                else {}
            ),
        },
        "version": GOOD_VERSION if good else VERSION,
        "metrics": _metrics("k8s:enc:kms:v2:" if good else "identity"),
        "objects": [
            *nodes,
            *system,
            _apiserver(good),
            *_rbac(good),
            *_tenants(good),
            *_storage(good),
            *_velero(good, now),
            *_secrets(),
            *_supply(good),
        ],
    }
