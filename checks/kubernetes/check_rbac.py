"""RBAC: nothing granted to anonymous users, the cluster-admin holders are the declared ones, no wildcard roles."""

from preuve.judge import check

ANONYMOUS = {("User", "system:anonymous"), ("Group", "system:unauthenticated"), ("Group", "system:anonymous")}


def subject(s: dict) -> str:
    if s.get("kind") == "ServiceAccount":
        return f"ServiceAccount:{s.get('namespace')}/{s['name']}"
    return f"{s.get('kind')}:{s['name']}"


def bindings(k8s_rbac: dict):
    for b in k8s_rbac["clusterrolebindings"]:
        yield f"ClusterRoleBinding/{b['metadata']['name']}", b
    for b in k8s_rbac["rolebindings"]:
        yield f"RoleBinding/{b['metadata'].get('namespace')}/{b['metadata']['name']}", b


@check("K8S-RBAC-ANONYMOUS", requirements=["9.6.h", "9.3.b"], target="k8s_cluster", severity="critical",
       rule="CIS Kubernetes 5.1.1 / no grant to system:anonymous")
def check_rbac_anonymous(k8s_rbac, params, judge):
    grants = {f"{name} -> {b['roleRef']['name']}": b["roleRef"]["name"] in params.kubernetes.anonymous_bindings_allowed
              for name, b in bindings(k8s_rbac)
              if any((s.get("kind"), s.get("name")) in ANONYMOUS for s in b.get("subjects") or [])}
    judge.each("k8s.rbac.anonymous_grants", grants, observed=sorted(grants))


@check("K8S-RBAC-CLUSTER-ADMIN", requirements=["9.3.c", "9.3.d"], target="k8s_cluster", severity="high",
       rule="inventory of administrators (9.3.c)")
def check_cluster_admins(k8s_rbac, target, judge):
    admins = sorted({subject(s) for _, b in bindings(k8s_rbac)
                     if b["roleRef"].get("kind") == "ClusterRole" and b["roleRef"]["name"] == "cluster-admin"
                     for s in b.get("subjects") or []})
    judge.subset("k8s.rbac.cluster_admins", admins, target.spec.admins)


@check("K8S-RBAC-WILDCARDS", requirements=["9.3.b"], target="k8s_cluster", severity="medium",
       rule="CIS Kubernetes 5.1.3 (no wildcard in roles)")
def check_rbac_wildcards(k8s_rbac, judge):
    roles = [(f"ClusterRole/{r['metadata']['name']}", r) for r in k8s_rbac["clusterroles"]]
    roles += [(f"Role/{r['metadata'].get('namespace')}/{r['metadata']['name']}", r) for r in k8s_rbac["roles"]]
    custom = [(n, r) for n, r in roles if not (r["metadata"]["name"] == "cluster-admin"
                                                or r["metadata"]["name"].startswith("system:"))]
    wild = {n: not any("*" in (rule.get(k) or []) for rule in r.get("rules") or []
                       for k in ("verbs", "resources", "apiGroups"))
            for n, r in custom}
    judge.each("k8s.rbac.wildcard_free", wild, observed=sorted(n for n, ok in wild.items() if not ok))
