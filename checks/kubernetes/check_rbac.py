"""RBAC: nothing granted to anonymous users, the cluster-admin holders are the declared ones, no wildcard roles.

Anonymous grants are judged with whether anonymous requests are authenticated at all. Signals, recorded in the
result: the unauthenticated probe (401 = refused; a 403 naming system:anonymous or a 200 = anonymous requests
are authenticated), an anonymous GET of kubeadm's kube-public/cluster-info (200 = readable by anyone), and the
kube-apiserver `--anonymous-auth` flag (unset = true). Anonymous auth counts as on as soon as one signal says so.
- kubeadm's own binding (RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo -> Role of the same name
  granting only `get` on configmaps/cluster-info, to User system:anonymous) is public by design and recreated by
  `kubeadm upgrade`: it passes, named as expected, while anonymous requests are refused (it is inert); with
  anonymous auth on it hands the cluster CA and API address to anyone: a finding. Unknown state: `error`.
- roles in `kubernetes.anonymous_bindings_allowed` (default system:public-info-viewer: version and health) pass.
- any other anonymous grant is a finding either way: inert while anonymous auth is off, it is live the day the
  flag flips, and nothing but an operator's choice put it there (the evidence says whether it is live).
A ClusterRole that grants every verb on every resource of every API group (or every verb on every non-resource
URL) is cluster-admin in all but name: K8S-RBAC-CLUSTER-ADMIN counts its holders with cluster-admin's.
"""

from preuve.judge import ObservationUnavailable, check

ANONYMOUS = {("User", "system:anonymous"), ("Group", "system:unauthenticated"), ("Group", "system:anonymous")}
KUBEADM_CLUSTER_INFO = "kubeadm:bootstrap-signer-clusterinfo"
KUBEADM_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}]


def subject(s: dict) -> str:
    if s.get("kind") == "ServiceAccount":
        return f"ServiceAccount:{s.get('namespace')}/{s['name']}"
    return f"{s.get('kind')}:{s['name']}"


def bindings(k8s_rbac: dict):
    for b in k8s_rbac["clusterrolebindings"]:
        yield f"ClusterRoleBinding/{b['metadata']['name']}", b
    for b in k8s_rbac["rolebindings"]:
        yield f"RoleBinding/{b['metadata'].get('namespace')}/{b['metadata']['name']}", b


def anonymous_requests(probe: dict, flags: dict) -> tuple[bool | None, list[str]]:
    """(True: anonymous requests are authenticated as system:anonymous, False: refused, None: unknown; signals)."""
    on, off, signals = False, False, []
    if "error" in probe:
        signals.append(f"unauthenticated probe failed ({probe['error']})")
    res = probe.get("resource") or {}
    if res.get("code") == 401:
        off = True
        signals.append(f"unauthenticated GET {res.get('path')}: 401")
    elif res.get("code") in (200, 403) and (res["code"] == 200 or "system:anonymous" in (res.get("message") or "")):
        on = True
        signals.append(f"unauthenticated GET {res.get('path')}: {res['code']} (served as system:anonymous)")
    info = probe.get("cluster_info") or {}
    if info.get("code") == 200:
        on = True
        signals.append(f"unauthenticated GET {info.get('path')}: 200 (readable by anyone)")
    elif info.get("code") is not None:
        signals.append(f"unauthenticated GET {info.get('path')}: {info['code']}")
    if "error" in flags:
        signals.append(f"--anonymous-auth not readable ({flags['error']})")
    for pod in flags.get("pods") or []:
        value = pod.get("anonymous-auth")
        if value is None and pod.get("authentication-config"):
            signals.append(f"{pod['pod']}: --authentication-config {pod['authentication-config']} (not visible)")
        elif value == "false":
            signals.append(f"{pod['pod']}: --anonymous-auth=false")
        else:
            on = True
            signals.append(f"{pod['pod']}: --anonymous-auth={value or 'true (default, unset)'}")
    return (
        True
        if on
        else False
        if off or any(p.get("anonymous-auth") == "false" for p in flags.get("pods") or [])
        else None
    ), signals


def is_kubeadm_cluster_info(b: dict, roles: list[dict]) -> bool:
    """kubeadm's public-info binding exactly as kubeadm writes it (a widened Role is no longer kubeadm's)."""
    meta, ref = b["metadata"], b["roleRef"]
    if (meta.get("namespace"), meta["name"], ref.get("kind"), ref["name"]) != (
        "kube-public",
        KUBEADM_CLUSTER_INFO,
        "Role",
        KUBEADM_CLUSTER_INFO,
    ):
        return False
    if [(s.get("kind"), s.get("name")) for s in b.get("subjects") or []] != [("User", "system:anonymous")]:
        return False
    role = next(
        (
            r
            for r in roles
            if (r["metadata"].get("namespace"), r["metadata"]["name"]) == ("kube-public", KUBEADM_CLUSTER_INFO)
        ),
        None,
    )
    return role is not None and [{k: v for k, v in rule.items() if v} for rule in role.get("rules") or []] == [
        {k: v for k, v in rule.items() if v} for rule in KUBEADM_RULES
    ]


@check(
    "K8S-RBAC-ANONYMOUS",
    requirements={
        "9.6.h#1": "no role binding grants anonymous or unauthenticated users more than public info",
    },
    target="k8s_cluster",
    severity="critical",
    rule="CIS Kubernetes 5.1.1 / no grant to system:anonymous",
)
def check_rbac_anonymous(k8s_rbac, params, judge):
    state, signals = anonymous_requests(k8s_rbac.get("anonymous_probe") or {}, k8s_rbac.get("anonymous_flags") or {})
    said = "; ".join(signals)
    allowed = params.kubernetes.anonymous_bindings_allowed
    grants: dict[str, bool] = {}
    notes: dict[str, str] = {}
    unknown = False
    for name, b in bindings(k8s_rbac):
        who = [subject(s) for s in b.get("subjects") or [] if (s.get("kind"), s.get("name")) in ANONYMOUS]
        if not who:
            continue
        key = f"{name} -> {b['roleRef']['name']}"
        if b["roleRef"].get("kind") == "ClusterRole" and b["roleRef"]["name"] in allowed:
            grants[key], notes[key] = True, "allowed by kubernetes.anonymous_bindings_allowed"
        elif is_kubeadm_cluster_info(b, k8s_rbac["roles"]):
            unknown = state is None
            if not unknown:
                grants[key] = state is False
            notes[key] = (
                "kubeadm's public cluster-info binding (get configmaps/cluster-info): expected; inert, "
                f"anonymous requests are refused ({said})"
                if state is False
                else "kubeadm's cluster-info binding: the cluster CA and API address are given to anyone, "
                f"anonymous requests are authenticated ({said})"
                if state
                else f"kubeadm's cluster-info binding: whether anonymous requests are authenticated is unknown ({said})"
            )
        else:
            grants[key] = False
            live = (
                "live: anonymous requests are authenticated"
                if state
                else (
                    "inert while anonymous requests are refused, live as soon as anonymous auth is on"
                    if state is False
                    else "anonymous auth state unknown"
                )
            )
            notes[key] = f"grants {b['roleRef'].get('kind')} {b['roleRef']['name']} to {', '.join(who)} ({live})"
    judge.each(
        "k8s.rbac.anonymous_grants",
        grants,
        observed=notes or {"-": f"no anonymous grant ({said})"},
        param="kubernetes.anonymous_bindings_allowed",
    )
    if unknown and not judge.failed:
        raise ObservationUnavailable(f"kubeadm's cluster-info binding cannot be judged: {said}")


def admin_roles(k8s_rbac: dict) -> dict[str, str]:
    """ClusterRole name -> why it is cluster-admin in all but name (cluster-admin itself included)."""
    out = {"cluster-admin": "cluster-admin"}
    for r in k8s_rbac["clusterroles"]:
        for rule in r.get("rules") or []:
            verbs = "*" in (rule.get("verbs") or [])
            if verbs and "*" in (rule.get("resources") or []) and "*" in (rule.get("apiGroups") or []):
                out.setdefault(r["metadata"]["name"], "verbs * on resources * in apiGroups *")
            elif verbs and "*" in (rule.get("nonResourceURLs") or []):
                out.setdefault(r["metadata"]["name"], "verbs * on nonResourceURLs *")
    return out


@check(
    "K8S-RBAC-CLUSTER-ADMIN",
    requirements={
        "9.3.c#1": "every holder of cluster-wide admin rights (cluster-admin, * on *) is a declared administrator",
    },
    target="k8s_cluster",
    severity="high",
    rule="inventory of administrators (9.3.c)",
)
def check_cluster_admins(k8s_rbac, target, judge):
    roles = admin_roles(k8s_rbac)
    admins = sorted(
        {
            subject(s)
            for _, b in bindings(k8s_rbac)
            if b["roleRef"].get("kind") == "ClusterRole" and b["roleRef"]["name"] in roles
            for s in b.get("subjects") or []
        }
    )
    judge.subset("k8s.rbac.cluster_admins", admins, target.spec.admins)
    via = {
        f"{name} -> {b['roleRef']['name']} ({roles[b['roleRef']['name']]})": sorted(
            subject(s) for s in b.get("subjects") or []
        )
        for name, b in bindings(k8s_rbac)
        if b["roleRef"].get("kind") == "ClusterRole" and b["roleRef"]["name"] in roles
    }
    judge.each(
        "k8s.rbac.cluster_admin_grants",
        {k: all(s in target.spec.admins for s in v) for k, v in via.items()},
        observed=via,
    )


@check(
    "K8S-RBAC-WILDCARDS",
    requirements={
        "5.1.b#2": "no custom role grants wildcard verbs, resources or API groups",
    },
    target="k8s_cluster",
    severity="medium",
    rule="CIS Kubernetes 5.1.3 (no wildcard in roles)",
)
def check_rbac_wildcards(k8s_rbac, judge):
    roles = [(f"ClusterRole/{r['metadata']['name']}", r) for r in k8s_rbac["clusterroles"]]
    roles += [(f"Role/{r['metadata'].get('namespace')}/{r['metadata']['name']}", r) for r in k8s_rbac["roles"]]
    custom = [
        (n, r)
        for n, r in roles
        if not (r["metadata"]["name"] == "cluster-admin" or r["metadata"]["name"].startswith("system:"))
    ]
    wild = {
        n: not any(
            "*" in (rule.get(k) or []) for rule in r.get("rules") or [] for k in ("verbs", "resources", "apiGroups")
        )
        for n, r in custom
    }
    judge.each("k8s.rbac.wildcard_free", wild, observed=sorted(n for n, ok in wild.items() if not ok))
