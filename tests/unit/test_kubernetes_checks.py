"""Kubernetes (CaaS) and Kubernetes location checks, against the API stand-in over real HTTPS on loopback.

No mocks: the stand-in (preuve_lab.kube_standin) serves the two seeded clusters over TLS with a cluster CA, the
real `preuve run` reads them with the official kubernetes client, and every check is judged on that evidence.
The same checks run against a real cluster with `-m realcluster` (see test_realcluster at the end).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import yaml

from preuve_lab.kube_seed import seed
from preuve_lab.kube_standin import Cluster, serve_in_thread
from preuve_lab.kubeapi import write_pki, write_tokens
from tests.conftest import REPO, Run, scan

CAAS = REPO / "profiles" / "secnumcloud-3.2-caas.yaml"
SELECT = ("--select", "K8S-*", "--select", "LOC-K8S-*")

# Every Kubernetes check, with what its failure on the non-compliant cluster must show (observed value).
EXPECTED_FAILURES = {
    "K8S-ANONYMOUS-PROBE": '403 Forbidden: namespaces is forbidden: User "system:anonymous"',
    "K8S-ANONYMOUS-AUTH": "observed true (default); expected: false",
    "K8S-OIDC-MFA": "observed []",
    "K8S-STATIC-TOKENS": "observed /etc/kubernetes/tokens.csv; expected: null",
    "K8S-AUDIT-LOG": "observed 30; expected: >= 183",
    "K8S-SECRETS-ENCRYPTION": 'observed ["identity"]',
    "K8S-POD-SECURITY": 'observed ["PodSecurity"]',
    "K8S-RBAC-ANONYMOUS": "ClusterRoleBinding/anonymous-view -> view",
    "K8S-RBAC-CLUSTER-ADMIN": "ServiceAccount:ci/deployer",
    "K8S-RBAC-WILDCARDS": "ClusterRole/ops-everything",
    "K8S-TENANT-DEFAULT-DENY": '"globex": []',
    "K8S-TENANT-CROSS-BINDING": "acme/globex-deployer: ServiceAccount globex/deployer",
    "K8S-TENANT-QUOTA": '"globex": []',
    "K8S-VELERO-BACKUPS": '"phase": "PartiallyFailed"',
    "LOC-K8S-NODES": '"node-3": "us-east-1 -> US"',
    "LOC-K8S-VOLUMES": '"pvc-3f1c2a9e-acme-db": "us-east-1 -> US"',
    "LOC-K8S-STORAGECLASSES": '"us-east-1 -> US"',
    "LOC-K8S-VELERO": '"s3Url": "http://minio.backup.example.com:9000"',
    "K8S-VERSION-SUPPORTED": "Kubernetes release: observed -",  # 1.29, past its end of life (preuve/data/eol.yaml)
    "K8S-IMAGES-ALLOWED": '"globex/web/web": "docker.io/library/nginx:latest"',
    "K8S-TENANT-EGRESS": "acme/allow-egress-anywhere egress[1]: ipBlock 0.0.0.0/0",  # reopens the default deny
    "K8S-IMAGE-ADMISSION": "none enforced (present: {'validatingadmissionpolicies'",  # a VAP bound to nothing
}


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    """The good and weak clusters on loopback HTTPS, plus a port that accepts and never answers."""
    d = tmp_path_factory.mktemp("kube")
    ca, cert, key = write_pki(d, ["127.0.0.1"])
    tokens = write_tokens(d)
    servers = {
        p: serve_in_thread(Cluster(seed(p, tokens["scanner"], tokens["noaccess"])), cert=cert, key=key)
        for p in ("good", "weak")
    }
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads: a timeout, not a refusal
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down = closed.getsockname()[1]
    closed.close()  # nothing listens there any more: connection refused, the API is down
    yield {
        "dir": d,
        "ca": ca,
        "ports": {p: s.server_address[1] for p, s in servers.items()},
        "silent": silent.getsockname()[1],
        "down": down,
    }
    for s in servers.values():
        s.shutdown()
        s.server_close()
    silent.close()


def _cluster(name: str, port: int, token_file: Path, ca: Path) -> dict:
    return {
        "name": name,
        "server": f"https://127.0.0.1:{port}",
        "ca_file": str(ca),
        "token": {"file": str(token_file)},
        "provider": "aws",
        "admins": ["Group:system:masters", "Group:oidc:platform-admins"],
        "tenants": [{"name": "acme", "namespaces": ["acme"]}, {"name": "globex", "namespaces": ["globex"]}],
        "image_registries": ["registry.lab.example.eu/platform/", "registry.k8s.io/"],
    }


@pytest.fixture(scope="module")
def k8s_run(standins, tmp_path_factory) -> Run:
    d, ca, ports = standins["dir"], standins["ca"], standins["ports"]
    inv = {
        "version": 1,
        "name": "k8s-loopback",
        "defaults": {"timeout": 2},
        "kubernetes": {
            "clusters": [
                _cluster("k8s-good", ports["good"], d / "scanner.token", ca),
                _cluster("k8s-weak", ports["weak"], d / "scanner.token", ca),
                _cluster("k8s-refused", ports["good"], d / "wrong.token", ca),
                _cluster("k8s-noaccess", ports["good"], d / "noaccess.token", ca),
                _cluster("k8s-silent", standins["silent"], d / "scanner.token", ca),
                _cluster("k8s-down", standins["down"], d / "scanner.token", ca),
            ]
        },
    }
    kubeconfig = d / "kubeconfig"  # the kubeconfig route (as `realcluster` uses) to the same good cluster
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "good",
                "clusters": [
                    {
                        "name": "good",
                        "cluster": {"server": f"https://127.0.0.1:{ports['good']}", "certificate-authority": str(ca)},
                    }
                ],
                "users": [{"name": "scanner", "user": {"token": (d / "scanner.token").read_text().strip()}}],
                "contexts": [{"name": "good", "context": {"cluster": "good", "user": "scanner"}}],
            }
        )
    )
    inv["kubernetes"]["clusters"].append(
        {
            **{
                k: v for k, v in _cluster("k8s-kubeconfig", 0, d, ca).items() if k not in ("server", "ca_file", "token")
            },
            "kubeconfig": str(kubeconfig),
        }
    )
    path = d / "inventory.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    run = scan(tmp_path_factory.mktemp("k8s") / "run", *SELECT, "--timeout", "2", inventory=path, profile=CAAS)
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    return run


def test_the_list_covers_every_kubernetes_check():
    from preuve.judge.catalogue import load_catalogue

    ids = {
        i
        for i, info in load_catalogue().items()
        if i.startswith(("K8S-", "LOC-K8S-")) and info.spec.target == "k8s_cluster"  # canaries: their own targets
    }
    assert ids == set(EXPECTED_FAILURES)


@pytest.mark.parametrize("check_id", sorted(EXPECTED_FAILURES))
def test_each_check_both_ways(k8s_run, check_id):
    good, weak = k8s_run.result(check_id, "k8s-good"), k8s_run.result(check_id, "k8s-weak")
    assert good["status"] == "pass", good["message"]["en"]
    assert weak["status"] == "fail", weak["message"]["en"]
    assert EXPECTED_FAILURES[check_id] in weak["message"]["en"]
    assert "observed" in weak["message"]["en"] and "expected" in weak["message"]["en"]
    assert weak["evidence"][0]["path"] == "observations/kubernetes/k8s-weak.json"


@pytest.mark.parametrize(
    ("cluster", "reason"),
    [
        ("k8s-refused", "HTTP 401 Unauthorized"),
        ("k8s-noaccess", "HTTP 403 Forbidden"),
        ("k8s-silent", "timeout"),
        ("k8s-down", "Connection refused"),
    ],
)
def test_refused_or_silent_cluster_is_error_never_pass(k8s_run, cluster, reason):
    results = [r for r in k8s_run.results if r["target"]["name"] == cluster]
    assert len(results) == len(EXPECTED_FAILURES)
    if cluster == "k8s-noaccess":  # the unauthenticated probe needs no credentials: it still judges (401 -> pass)
        assert k8s_run.result("K8S-ANONYMOUS-PROBE", cluster)["status"] == "pass"
        results = [r for r in results if r["check_id"] != "K8S-ANONYMOUS-PROBE"]
    assert {r["status"] for r in results} == {"error"}
    assert all(reason in r["message"]["en"] for r in results), results[0]["message"]


def test_kubeconfig_route_judges_like_server_route(k8s_run):
    assert k8s_run.statuses("k8s-kubeconfig") == k8s_run.statuses("k8s-good")
    assert set(k8s_run.statuses("k8s-kubeconfig").values()) == {"pass"}


def test_one_observation_per_cluster_and_no_token_in_evidence(k8s_run, standins):
    files = sorted(p.name for p in (k8s_run.out / "observations" / "kubernetes").iterdir())
    assert files == sorted(
        f"{c}.json"
        for c in ("k8s-good", "k8s-weak", "k8s-refused", "k8s-noaccess", "k8s-silent", "k8s-down", "k8s-kubeconfig")
    )
    token = (standins["dir"] / "scanner.token").read_text().strip()
    for p in (k8s_run.out / "observations" / "kubernetes").iterdir():
        assert token not in p.read_text()
    assert k8s_run.code == 1  # findings on k8s-weak


def test_standin_answers_like_an_apiserver(standins):
    """The bodies the behavioural checks depend on, byte for byte (copied from kube-apiserver v1.29)."""
    import ssl
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(standins["ca"]))
    base = f"https://127.0.0.1:{standins['ports']['good']}"

    def get(path: str, token: str | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=3) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    assert get("/api/v1/namespaces") == (
        401,
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Unauthorized","reason":"Unauthorized","code":401}',
    )
    token = (standins["dir"] / "scanner.token").read_text().strip()
    code, body = get("/api/v1/nodes/nope", token)
    assert (code, body) == (
        404,
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
        b'"nodes \\"nope\\" not found","reason":"NotFound","details":{"name":"nope",'
        b'"kind":"nodes"},"code":404}',
    )
    assert get("/apis/example.com/v1/things", token) == (404, b"404 page not found\n")
    nobody = (standins["dir"] / "noaccess.token").read_text().strip()
    assert get("/apis/rbac.authorization.k8s.io/v1/clusterroles", nobody) == (
        403,
        (
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"clusterroles.rbac.'
            b'authorization.k8s.io is forbidden: User \\"system:serviceaccount:preuve:nobody\\" cannot list resource '
            b'\\"clusterroles\\" in API group \\"rbac.authorization.k8s.io\\" at the cluster scope",'
            b'"reason":"Forbidden","details":{"group":"rbac.authorization.k8s.io","kind":"clusterroles"},"code":403}'
        ),
    )


KUBEADM_BINDING = "RoleBinding/kube-public/kubeadm:bootstrap-signer-clusterinfo -> kubeadm:bootstrap-signer-clusterinfo"


def test_kubeadm_cluster_info_binding_is_expected_when_anonymous_requests_are_refused(k8s_run):
    """Stock kubeadm binds system:anonymous to get kube-public/cluster-info; with anonymous auth off it is inert."""
    r = k8s_run.result("K8S-RBAC-ANONYMOUS", "k8s-good")
    assert r["status"] == "pass", r["message"]["en"]
    note = r["observed"]["k8s.rbac.anonymous_grants"][KUBEADM_BINDING]
    assert note.startswith("kubeadm's public cluster-info binding (get configmaps/cluster-info): expected; inert")
    assert "unauthenticated GET /api/v1/namespaces: 401" in note and "--anonymous-auth=false" in note
    assert "configmaps/cluster-info: 401" in note


def test_kubeadm_cluster_info_binding_is_a_finding_when_anonymous_auth_is_on(k8s_run):
    r = k8s_run.result("K8S-RBAC-ANONYMOUS", "k8s-weak")
    assert r["status"] == "fail"
    offending = r["expectations"][0]["offending"]
    assert KUBEADM_BINDING in offending and "ClusterRoleBinding/anonymous-view -> view" in offending
    note = r["observed"]["k8s.rbac.anonymous_grants"][KUBEADM_BINDING]
    assert "the cluster CA and API address are given to anyone" in note
    assert "configmaps/cluster-info: 200 (readable by anyone)" in note and "true (default, unset)" in note
    assert "system:public-info-viewer" not in offending  # kubernetes.anonymous_bindings_allowed


def test_anonymous_grant_judged_with_the_anonymous_state():
    """Unit: every signal of anonymous auth counts, a widened kubeadm Role is no longer kubeadm's, an inert
    custom grant still fails (saying it is inert), an unknown state cannot pass kubeadm's binding."""
    from checks.kubernetes.check_rbac import check_rbac_anonymous
    from preuve.inputs.params import Params
    from preuve.judge import ObservationUnavailable
    from preuve.judge.check_api import Judge

    cluster = seed("good", "t", "n")
    objs = cluster["objects"]
    rbac = {
        "clusterroles": [o for o in objs if o["kind"] == "ClusterRole"],
        "clusterrolebindings": [o for o in objs if o["kind"] == "ClusterRoleBinding"],
        "roles": [o for o in objs if o["kind"] == "Role"],
        "rolebindings": [o for o in objs if o["kind"] == "RoleBinding"],
    }
    refused = {"resource": {"path": "/api/v1/namespaces", "code": 401}}
    flag_off = {"pods": [{"pod": "kube-apiserver-cp-1", "anonymous-auth": "false"}]}

    def judge(rbac=rbac, probe=refused, flags=flag_off):
        j = Judge()
        check_rbac_anonymous(
            k8s_rbac={**rbac, "anonymous_flags": flags, "anonymous_probe": probe}, params=Params(), judge=j
        )
        return j

    assert not judge().failed
    assert judge(flags={"pods": [{"pod": "p", "anonymous-auth": None}]}).failed  # unset = true: on
    on = {
        "resource": {
            "path": "/api/v1/namespaces",
            "code": 403,
            "message": 'namespaces is forbidden: User "system:anonymous" cannot list',
        }
    }
    assert judge(probe=on).failed  # the behaviour says on, whatever the flag says
    with pytest.raises(ObservationUnavailable, match="cannot be judged"):
        judge(probe={}, flags={"error": "HTTP 403"})
    wide = [
        {**r, "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list"]}]}
        if r["metadata"]["name"] == "kubeadm:bootstrap-signer-clusterinfo"
        else r
        for r in rbac["roles"]
    ]
    j = judge(rbac={**rbac, "roles": wide})
    assert (
        j.failed
        and "grants Role kubeadm:bootstrap-signer-clusterinfo to User:system:anonymous (inert while"
        in (j.failed[0].observed[KUBEADM_BINDING])
    )


def test_star_on_star_clusterrole_counts_as_cluster_admin(k8s_run):
    """ops-everything grants * on * in *: cluster-admin in all but name; its undeclared holder fails the check."""
    r = k8s_run.result("K8S-RBAC-CLUSTER-ADMIN", "k8s-weak")
    assert r["status"] == "fail"
    assert "Group:oidc:ops-contractors" in r["expectations"][0]["offending"]
    grants = r["observed"]["k8s.rbac.cluster_admin_grants"]
    assert grants["ClusterRoleBinding/ops-contractors -> ops-everything (verbs * on resources * in apiGroups *)"] == [
        "Group:oidc:ops-contractors"
    ]
    good = k8s_run.result("K8S-RBAC-CLUSTER-ADMIN", "k8s-good")
    assert good["status"] == "pass" and good["observed"]["k8s.rbac.cluster_admins"] == [
        "Group:oidc:platform-admins",
        "Group:system:masters",
    ]


def test_nonresource_star_role_counts_as_cluster_admin():
    from checks.kubernetes.check_rbac import admin_roles

    rbac = {
        "clusterroles": [
            {"metadata": {"name": "urls"}, "rules": [{"nonResourceURLs": ["*"], "verbs": ["*"]}]},
            {"metadata": {"name": "reader"}, "rules": [{"nonResourceURLs": ["*"], "verbs": ["get"]}]},
        ]
    }
    assert admin_roles(rbac) == {"cluster-admin": "cluster-admin", "urls": "verbs * on nonResourceURLs *"}


def test_flag_parsing():
    from preuve.observe.k8s.cluster import parse_flags

    assert parse_flags(["kube-apiserver", "--a=1", "--b", "2", "--c", "--d=x=y"]) == {
        "a": "1",
        "b": "2",
        "c": "true",
        "d": "x=y",
    }


@pytest.mark.realcluster
def test_realcluster(tmp_path, request):
    """Opt-in: the same checks against a real cluster.

    KUBECONFIG=... pytest -m realcluster tests/unit/test_kubernetes_checks.py"""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig or "realcluster" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("opt-in: set KUBECONFIG and run with -m realcluster")
    cluster = {
        "name": "real",
        "kubeconfig": kubeconfig,
        "provider": os.environ.get("PREUVE_KUBE_PROVIDER", "aws"),
        "velero": False,
        "tenants": [{"name": "default", "namespaces": ["default"]}],
    }
    if os.environ.get("PREUVE_KUBE_CONTEXT"):
        cluster["context"] = os.environ["PREUVE_KUBE_CONTEXT"]
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"version": 1, "name": "real", "kubernetes": {"clusters": [cluster]}}))
    run = scan(tmp_path / "run", *SELECT, inventory=inv, profile=CAAS)
    results = run.results
    assert {r["check_id"] for r in results} == set(EXPECTED_FAILURES)
    # Every check judged the cluster (pass, fail or not applicable); only a control plane the API does not show
    # (managed clusters: no kube-apiserver pod) may leave the flag checks in error, and it says so.
    for r in results:
        assert r["status"] != "error" or "no kube-apiserver pod visible" in r["message"]["en"], r["message"]["en"]


def test_inventory_errors_name_the_line(tmp_path):
    from tests.conftest import preuve

    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        "version: 1\nname: bad\nkubernetes:\n  clusters:\n"
        "    - {name: a, server: 'https://10.0.0.1:6443', token: inline-secret}\n"
        "    - {name: b, kubeconfig: /k, token: {env: T}}\n"
    )
    proc = preuve("lint", "-i", inv, "-p", CAAS)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3
    assert "inventory.yaml:5: kubernetes.clusters[0].token" in out and "never inlined" in out
    assert "inventory.yaml:6: kubernetes.clusters[1]" in out and "'token' and 'ca_file' go with 'server'" in out
    inv.write_text(
        "version: 1\nname: bad\nkubernetes:\n  clusters:\n"
        "    - {name: c, server: 'https://10.0.0.2:6443', admins: [root],\n"
        "       tenants: [{name: x, namespaces: [n]}, {name: y, namespaces: [n]}]}\n"
    )
    proc = preuve("lint", "-i", inv, "-p", CAAS)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3
    assert "namespace 'n' already belongs to 'x'" in out and "expected User:name" in out


def test_apiserver_replicas_that_disagree_cannot_be_judged():
    from preuve.judge import ObservationUnavailable
    from preuve.judge.catalogue import load_catalogue

    module = __import__(load_catalogue()["K8S-ANONYMOUS-AUTH"].spec.module, fromlist=["flags"])
    one = {"pod": "kube-apiserver-cp-1", "flags": {"anonymous-auth": "false", "advertise-address": "10.0.0.1"}}
    two = {"pod": "kube-apiserver-cp-2", "flags": {"anonymous-auth": "false", "advertise-address": "10.0.0.2"}}
    assert module.flags({"pods": [one, two]})["anonymous-auth"] == "false"  # per-node addresses may differ
    three = {"pod": "kube-apiserver-cp-3", "flags": {"advertise-address": "10.0.0.3"}}
    with pytest.raises(ObservationUnavailable, match=r"disagree on \['anonymous-auth'\]"):
        module.flags({"pods": [one, three]})
    with pytest.raises(ObservationUnavailable, match="no kube-apiserver pod visible"):
        module.flags({"pods": []})
