"""Observed but absent is `fail`, not `error` (issue 12, point 3), for the Kubernetes, Kubernetes-location and network
checks: each check that can report `error` is shown failing when what it looks for was observed missing, and
still `error` when nothing could be observed. Checks are called directly on evidence shaped as the collectors
write it (the collectors themselves are exercised by tests/unit/test_kubernetes_checks.py and
tests/lab/test_segmentation_probes.py)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from checks.kubernetes import check_apiserver, check_rbac, check_tenants, check_velero
from checks.location import check_kubernetes as loc
from checks.network import check_host_firewall, check_segmentation
from preuve.inputs.params import Params
from preuve.judge import ObservationUnavailable
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.network.listening import parse_iptables, parse_nft

PARAMS = Params()
TARGET = SimpleNamespace(
    spec=SimpleNamespace(
        tenants=[SimpleNamespace(name="acme", namespaces=["acme"])], velero=True, provider="aws", admins=[]
    )
)
POD = {"pod": "kube-apiserver-cp-1", "flags": {"anonymous-auth": "false"}}
METRICS_DOWN = {"transformations": None, "metrics_error": "GET /metrics refused: HTTP 403"}


def run(check, **kw) -> Judge:
    judge = Judge()
    check(judge=judge, **kw)
    return judge


def test_missing_encryption_config_fails_even_when_metrics_are_unreadable():
    j = run(check_apiserver.check_secrets_encryption, k8s_apiserver={"pods": [POD], **METRICS_DOWN}, params=PARAMS)
    assert [e.label for e in j.failed] == ["k8s.encryption.config"]


def test_identity_writes_fail_even_when_the_flags_are_not_visible():
    seen = {
        "pods": [],
        "transformations": [
            {"resource": "secrets", "transformation_type": "to_storage", "transformer_prefix": "identity"}
        ],
    }
    j = run(check_apiserver.check_secrets_encryption, k8s_apiserver=seen, params=PARAMS)
    assert [e.label for e in j.failed] == ["k8s.encryption.kms"]


def test_encryption_with_nothing_observable_is_still_an_error():
    with pytest.raises(ObservationUnavailable, match=r"no kube-apiserver pod visible.*HTTP 403"):
        run(check_apiserver.check_secrets_encryption, k8s_apiserver={"pods": [], **METRICS_DOWN}, params=PARAMS)


def test_unlabelled_tenant_namespace_fails_on_a_managed_control_plane():
    tenants = {"namespaces": [{"metadata": {"name": "acme", "labels": {}}}]}
    j = run(
        check_apiserver.check_pod_security,
        k8s_apiserver={"pods": []},
        k8s_tenants=tenants,
        target=TARGET,
        params=PARAMS,
    )
    assert [e.label for e in j.failed] == ["k8s.tenants.pod_security"]
    labelled = {
        "namespaces": [{"metadata": {"name": "acme", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}]
    }
    with pytest.raises(ObservationUnavailable, match="no kube-apiserver pod visible"):
        run(
            check_apiserver.check_pod_security,
            k8s_apiserver={"pods": []},
            k8s_tenants=labelled,
            target=TARGET,
            params=PARAMS,
        )


def test_missing_audit_flags_fail():
    j = run(check_apiserver.check_audit_log, k8s_apiserver={"pods": [POD]}, params=PARAMS)
    assert {e.label for e in j.failed} == {"k8s.audit.policy_file", "k8s.audit.sinks"}


def test_anonymous_grant_fails_even_when_the_anonymous_state_is_unknown():
    rbac = {
        "clusterroles": [],
        "roles": [],
        "rolebindings": [],
        "anonymous_flags": {"error": "HTTP 403"},
        "clusterrolebindings": [
            {
                "metadata": {"name": "anon"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "system:unauthenticated"}],
            }
        ],
    }
    j = run(
        check_rbac.check_rbac_anonymous, k8s_rbac={**rbac, "anonymous_probe": {"error": "TLS refused"}}, params=PARAMS
    )
    assert j.failed and "anonymous auth state unknown" in j.failed[0].observed["ClusterRoleBinding/anon -> view"]


def test_declared_tenant_namespace_missing_from_the_cluster_fails():
    j = run(
        check_tenants.check_default_deny,
        k8s_tenants={"namespaces": [], "networkpolicies": []},
        target=TARGET,
        params=PARAMS,
    )
    assert j.failed and j.failed[0].observed == {"acme": "namespace missing"}
    j = run(check_tenants.check_quota, k8s_tenants={"resourcequotas": []}, target=TARGET)
    assert j.failed


def test_velero_not_installed_fails_backups_and_locations():
    now = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    j = run(check_velero.check_velero_backups, k8s_velero={"installed": False}, target=TARGET, params=PARAMS, now=now)
    assert [e.label for e in j.failed] == ["k8s.velero.schedules"]
    j = run(loc.check_velero_locations, k8s_location={"velero": {"installed": False}}, target=TARGET, params=PARAMS)
    assert [e.label for e in j.failed] == ["loc.k8s.velero.locations"]


def test_cluster_without_nodes_fails_location():
    j = run(loc.check_nodes, k8s_location={"nodes": []}, target=TARGET, params=PARAMS)
    assert [e.label for e in j.failed] == ["loc.k8s.nodes"]


def test_host_without_any_firewall_tool_fails():
    facts = parse_nft('{"preuve_absent": "neither nft nor iptables-save is installed on the host"}')
    j = run(check_host_firewall.check_host_firewall, host_firewall=facts)
    assert [e.label for e in j.failed] == ["network.host_firewall_tool", "network.host_firewall"]
    assert j.failed[0].observed == "neither nft nor iptables-save is installed on the host"


def test_iptables_only_host_is_judged_from_iptables_save():
    dropping = parse_nft(
        "# iptables-save\n*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -p tcp -m tcp --dport 22 -s 198.18.1.0/24 -j ACCEPT\nCOMMIT\n"
    )
    assert not run(check_host_firewall.check_host_firewall, host_firewall=dropping).failed
    empty = parse_iptables("# iptables-save\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n")
    assert run(check_host_firewall.check_host_firewall, host_firewall=empty).failed


def _probe(expect: str, state: str, verdict: str, port: int) -> dict:
    return {
        "dst": "198.18.2.10",
        "dst_name": "ssh-good",
        "dst_zone": "production",
        "proto": "tcp",
        "port": port,
        "expect": expect,
        "flow": None,
        "line": None,
        "state": state,
        "reason": state,
        "verdict": verdict,
    }


def test_a_deviation_fails_even_when_other_probes_could_not_be_sent():
    seg = {
        "vantage": "pub-ns",
        "zone": "public",
        "probes": [_probe("blocked", "open", "deviation", 5432), _probe("blocked", "error", "error", 22)],
    }
    j = run(check_segmentation.check_denied_flows, segmentation=seg)
    assert j.failed and "tcp/5432: observed open" in j.failed[0].offending[0]
    seg["probes"] = [_probe("blocked", "error", "error", 22)]
    with pytest.raises(ObservationError, match="could not be sent"):
        run(check_segmentation.check_denied_flows, segmentation=seg)


def test_anonymous_probe_fails_on_any_decision_but_401_and_is_an_error_on_a_server_error():
    def probe(code, reason, message=None):
        return {"resource": {"path": "/api/v1/namespaces", "code": code, "reason": reason, "message": message}}

    assert not run(check_apiserver.check_anonymous_probe, k8s_probe=probe(401, "Unauthorized")).failed
    assert run(check_apiserver.check_anonymous_probe, k8s_probe=probe(200, None)).failed  # served to anyone
    with pytest.raises(ObservationUnavailable, match="503 ServiceUnavailable"):
        run(check_apiserver.check_anonymous_probe, k8s_probe=probe(503, "ServiceUnavailable", "etcd down"))
