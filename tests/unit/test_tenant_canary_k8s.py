"""A tenant's token on the Kubernetes API stand-in (real HTTPS on loopback, the lab's seeded clusters): the good
cluster refuses every foreign read; the weak one refuses every list (what a naive check looks at) yet answers a GET
by name of another tenant's and the provider's Secrets. A token that reads nothing at all is an error, not a pass."""

from __future__ import annotations

import pytest

from checks.isolation.check_tenant_canaries import check_k8s_tenant_canary
from preuve.inputs.inventory import KubeCluster
from preuve.inputs.targets import Target
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.k8s import tenant_canary
from preuve_lab.kube_seed import seed
from preuve_lab.kube_standin import Cluster, serve_in_thread
from preuve_lab.kubeapi import write_pki, write_tokens


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    d = tmp_path_factory.mktemp("kube")
    ca, cert, key = write_pki(d, ["127.0.0.1"])
    tokens = write_tokens(d)
    servers = {
        p: serve_in_thread(
            Cluster(seed(p, tokens["scanner"], tokens["noaccess"], tenant_token=tokens["tenant-acme"])),
            cert=cert,
            key=key,
        )
        for p in ("good", "weak")
    }
    yield d, ca, {p: s.server_address[1] for p, s in servers.items()}
    for s in servers.values():
        s.shutdown()
        s.server_close()


def _observe(clusters, profile: str, token: str = "tenant-acme") -> dict:
    d, ca, ports = clusters
    cluster = KubeCluster.model_validate(
        {
            "name": f"k8s-{profile}",
            "server": f"https://127.0.0.1:{ports[profile]}",
            "ca_file": str(ca),
            "token": {"file": str(d / "scanner.token")},
            "tenants": [{"name": "acme", "namespaces": ["acme"]}, {"name": "globex", "namespaces": ["globex"]}],
            "provider_namespaces": ["kube-system", "velero"],
            "tenant_canaries": [
                {"name": "acme-canary", "tenant": "acme", "token": {"file": str(d / f"{token}.token")}}
            ],
        }
    )
    target = Target(
        "k8s_tenant_canary",
        "acme-canary",
        "127.0.0.1",
        ports[profile],
        None,
        None,
        (),
        (cluster, cluster.tenant_canaries[0]),
    )
    _, found, _, _ = tenant_canary.collect(target, (), 5.0, {})
    return found


def _judge(found: dict) -> Judge:
    judge = Judge()
    check_k8s_tenant_canary(found, judge)
    return judge


def test_good_cluster_refuses_every_foreign_read(clusters):
    found = _observe(clusters, "good")
    assert all(c["allowed"] for c in found["control"])
    gets = [a for a in found["attempts"] if a["how"] == "get by name"]
    assert {a["namespace"] for a in gets} == {"globex", "kube-system", "velero"}  # names came from the scanner
    assert not _judge(found).failed


def test_weak_cluster_refuses_lists_but_answers_gets_by_name(clusters):
    found = _observe(clusters, "weak")
    lists = [a for a in found["attempts"] if a["how"] == "list"]
    assert lists and not any(a["allowed"] for a in lists)  # the naive check: nothing listed, "isolated"
    failed = _judge(found).failed
    assert len(failed) == 1
    offending = failed[0].offending
    assert "get by name /api/v1/namespaces/globex/secrets/api-key (tenant globex)" in offending
    assert "get by name /api/v1/namespaces/kube-system/secrets/etcd-backup-credentials (provider)" in offending
    assert not any("velero" in o for o in offending)
    assert all(a.get("body") == "discarded" for a in found["attempts"] if a["allowed"])


def test_a_token_that_reads_nothing_is_an_error(clusters):
    with pytest.raises(ObservationError, match="cannot read its own tenant's namespaces"):
        _observe(clusters, "good", token="noaccess")
