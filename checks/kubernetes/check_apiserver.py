"""The Kubernetes API server, the admin interface of a CaaS offer: by behaviour from outside, then by its flags.

Flags are read from the kube-apiserver pod spec in kube-system (a kubeadm static pod's mirror); on a managed
control plane that pod is not visible and these checks are `error` (no evidence), never `pass`.
"""

from preuve.judge import ObservationUnavailable, check


def flags(k8s_apiserver: dict) -> dict[str, str]:
    """The kube-apiserver flags; replicas (HA control plane) that disagree cannot be judged as one server."""
    pods = k8s_apiserver.get("pods") or []
    if not pods:
        raise ObservationUnavailable("no kube-apiserver pod visible in kube-system (managed control plane?)")
    ignored = {"advertise-address", "etcd-servers", "bind-address"}  # per-node by nature
    first = {k: v for k, v in pods[0]["flags"].items() if k not in ignored}
    for pod in pods[1:]:
        other = {k: v for k, v in pod["flags"].items() if k not in ignored}
        if other != first:
            keys = sorted(k for k in first.keys() | other.keys() if first.get(k) != other.get(k))
            pair = f"{pods[0]['pod']} and {pod['pod']}"
            raise ObservationUnavailable(f"kube-apiserver replicas {pair} disagree on {keys}")
    return pods[0]["flags"]


def answer(probe: dict) -> str:
    text = f"{probe['code']} {probe.get('reason') or ''}".strip()
    return f"{text}: {probe['message']}" if probe.get("message") and probe["code"] != 401 else text


@check(
    "K8S-ANONYMOUS-PROBE",
    requirements={
        "9.6.h#1": "an unauthenticated request to the Kubernetes API gets 401, not a 403 for system:anonymous",
    },
    target="k8s_cluster",
    severity="critical",
    rule="CIS Kubernetes 1.2.1 (by behaviour)",
)
def check_anonymous_probe(k8s_probe, judge):
    res = k8s_probe["resource"]
    if res["code"] == 429 or res["code"] >= 500:  # the server did not decide about the request: nothing to judge
        raise ObservationUnavailable(f"the unauthenticated probe got {answer(res)}, not an authentication decision")
    judge.equals("k8s.probe.unauthenticated", answer(res), "401 Unauthorized")


@check(
    "K8S-ANONYMOUS-AUTH",
    requirements={
        "9.6.h#1": "the API server runs with --anonymous-auth=false",
    },
    target="k8s_cluster",
    severity="high",
    rule="CIS Kubernetes 1.2.1",
)
def check_anonymous_auth(k8s_apiserver, judge):
    judge.equals("k8s.apiserver.anonymous_auth", flags(k8s_apiserver).get("anonymous-auth", "true (default)"), "false")


@check(
    "K8S-OIDC-MFA",
    requirements={
        "9.6.f#1": "the API server accepts OIDC tokens only with the MFA claim (amr/acr) it requires",
        "9.5.a#3": "multi-factor authentication is in place for the Kubernetes API",
    },
    target="k8s_cluster",
    severity="high",
    rule="OIDC required claim amr/acr",
)
def check_oidc_mfa(k8s_apiserver, params, judge):
    f = flags(k8s_apiserver)
    if "authentication-config" in f:
        raise ObservationUnavailable(
            f"structured authentication config {f['authentication-config']} is a control-plane file, "
            "not visible through the API: judge its claimValidationRules on the node"
        )
    claims = [c.strip() for c in f.get("oidc-required-claim", "").split(",") if c.strip()]
    judge.non_empty("k8s.oidc.issuer", [f["oidc-issuer-url"]] if f.get("oidc-issuer-url") else [])
    judge.non_empty(
        "k8s.oidc.mfa_claims",
        [c for c in claims if c.partition("=")[0] in params.kubernetes.mfa_claims and c.partition("=")[2]],
    )


@check(
    "K8S-STATIC-TOKENS",
    requirements={
        "9.6.f#1": "no static token file offers a single-factor way into the Kubernetes API",
    },
    target="k8s_cluster",
    severity="high",
    rule="CIS Kubernetes 1.2.2",
)
def check_static_tokens(k8s_apiserver, judge):
    f = flags(k8s_apiserver)
    judge.equals("k8s.apiserver.token_auth_file", f.get("token-auth-file"), None)


@check(
    "K8S-AUDIT-LOG",
    requirements={
        "12.6.c#1": "a file sink keeps the API audit log the profile's retention (a webhook's is the store's)",
        "12.6.b#1": "API actions are audited (--audit-policy-file and a log or webhook sink)",
    },
    target="k8s_cluster",
    severity="high",
    rule="CIS Kubernetes 1.2.16-1.2.19",
)
def check_audit_log(k8s_apiserver, params, judge):
    f = flags(k8s_apiserver)
    judge.non_empty("k8s.audit.policy_file", [f["audit-policy-file"]] if f.get("audit-policy-file") else [])
    sinks = [k for k in ("audit-log-path", "audit-webhook-config-file") if f.get(k)]
    judge.non_empty("k8s.audit.sinks", sinks)
    if f.get("audit-log-path") and f["audit-log-path"] != "-":
        maxage = f.get("audit-log-maxage")
        judge.at_least(
            "k8s.audit.maxage_days",
            int(maxage) if maxage and maxage.isdigit() else None,
            params.kubernetes.audit_log_min_maxage_days,
        )


@check(
    "K8S-SECRETS-ENCRYPTION",
    requirements={
        "10.1.a#3": "the provider that writes Secrets (storage metrics) is a KMS provider",
        "10.5.c#1": "the Secrets' encryption key is held by a KMS, not in a file on the control plane",
    },
    target="k8s_cluster",
    severity="high",
    rule="CIS Kubernetes 1.2.27-1.2.28 (KMS provider)",
)
def check_secrets_encryption(k8s_apiserver, params, judge):
    # Each half judges on its own evidence: a missing --encryption-provider-config or an `identity` write seen in
    # /metrics is a finding even when the other half cannot be read; `error` only when nothing failed.
    unseen = []
    try:
        f = flags(k8s_apiserver)
        judge.non_empty(
            "k8s.encryption.config", [f["encryption-provider-config"]] if f.get("encryption-provider-config") else []
        )
    except ObservationUnavailable as exc:
        unseen.append(str(exc))
    if k8s_apiserver.get("transformations") is None:
        unseen.append(k8s_apiserver.get("metrics_error") or "/metrics was not read")
    else:
        writes = sorted(
            {
                t.get("transformer_prefix", "")
                for t in k8s_apiserver["transformations"]
                if t.get("transformation_type") == "to_storage" and t.get("resource", "secrets") == "secrets"
            }
        )
        judge.non_empty("k8s.encryption.writes_observed", writes)
        allowed = params.kubernetes.encryption_prefixes_allowed
        judge.each("k8s.encryption.kms", {p: any(p.startswith(a) for a in allowed) for p in writes}, observed=writes)
    if unseen and not judge.failed:
        raise ObservationUnavailable("; ".join(unseen))


@check(
    "K8S-POD-SECURITY",
    requirements={
        "9.7.a#4": "Pod Security admission refuses privileged pods in every tenant namespace",
    },
    target="k8s_cluster",
    severity="high",
    rule="Pod Security Standards (enforce restricted/baseline)",
)
def check_pod_security(k8s_apiserver, k8s_tenants, target, params, judge):
    # The namespace labels are read through the API whatever the control plane: an unlabelled tenant namespace
    # fails even when the kube-apiserver flags are not visible (managed control plane); `error` only otherwise.
    labels = {n["metadata"]["name"]: (n["metadata"].get("labels") or {}) for n in k8s_tenants["namespaces"]}
    levels = {
        ns: labels.get(ns, {}).get("pod-security.kubernetes.io/enforce")
        for t in target.spec.tenants
        for ns in t.namespaces
    }
    judge.each(
        "k8s.tenants.pod_security",
        {ns: lvl in params.kubernetes.pod_security_levels_allowed for ns, lvl in levels.items()},
        observed=levels,
    )
    try:
        f = flags(k8s_apiserver)
    except ObservationUnavailable:
        if judge.failed:
            return
        raise
    disabled = [p.strip() for p in f.get("disable-admission-plugins", "").split(",") if p.strip()]
    judge.excludes("k8s.admission.disabled", disabled, ["PodSecurity"])
