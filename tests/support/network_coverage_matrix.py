"""Each check of the network and administration-plane coverage (issue 20, part B) with the lab targets it must
pass and fail on (inventories/lab.yaml), and why each failing one fails. tests/lab/test_network_coverage_both_ways
asserts it on a real scan of the lab; tests/unit/test_network_coverage_matrix checks the table itself."""

from __future__ import annotations

# check id -> {"pass": [targets], "fail": {target: text the failure must quote}}
MATRIX: dict[str, dict] = {
    "K8S-TENANT-CANARY-ISOLATED": {
        "pass": ["k8s-good-acme-canary"],
        "fail": {"k8s-weak-acme-canary": "get by name /api/v1/namespaces/kube-system/secrets/etcd-backup-credentials"},
    },
    "S3-TENANT-CANARY-ISOLATED": {
        "pass": ["s3-acme-canary"],
        "fail": {"s3-acme-leaky-canary": "GetObject by key pv-config-locked/etcd/snapshot-latest.db (provider)"},
    },
    "S3-TENANT-CANARY-LOGS": {
        "pass": ["s3-acme-canary"],
        "fail": {"s3-acme-leaky-canary": "GetObject by key pv-logs-unencrypted/"},
    },
    "CONFIG-BACKUP-FRESH": {
        "pass": ["etcd-snapshots", "network-configs", "etcd-snapshots-governance"],
        "fail": {"etcd-snapshots-stale": "expected: <= 26"},
    },
    "CONFIG-BACKUP-IMMUTABLE": {
        "pass": ["etcd-snapshots", "network-configs"],
        "fail": {"etcd-snapshots-governance": "GOVERNANCE", "etcd-snapshots-stale": "none"},
    },
    "ADMIN-IDP-SEPARATE": {
        "pass": ["admin-plane-good", "admin-plane-federated"],
        "fail": {"admin-plane-shared": "11447/realms/customers", "admin-plane-one-console": "11447/realms/customers"},
    },
    "ADMIN-CONSOLE-DISTINCT": {
        "pass": ["admin-plane-good", "admin-plane-federated", "admin-plane-shared"],
        "fail": {"admin-plane-one-console": "client shared-console"},
    },
    "ADMIN-CONSOLE-REFUSES-PROVIDER": {
        "pass": ["admin-plane-good"],
        "fail": {
            "admin-plane-federated": 'customer-console <- provider-admin": "accepted (second factor asked)',
            "admin-plane-shared": 'customer-console <- provider-admin": "accepted (second factor asked)',
            "admin-plane-one-console": "accepted (second factor asked)",
        },
    },
    "ADMIN-CONSOLE-REFUSES-CUSTOMER": {
        "pass": ["admin-plane-good", "admin-plane-federated"],
        "fail": {
            "admin-plane-shared": 'provider-console <- customer-admin": "accepted (second factor asked)',
            "admin-plane-one-console": "accepted (second factor asked)",
        },
    },
    "ADMIN-ENDUSER-DISTINCT": {
        "pass": ["admin-plane-good"],
        "fail": {"admin-plane-federated": "enduser-app"},
    },
    "IDS-EVENTS-RECENT": {
        "pass": ["internet-uplink"],
        "fail": {"partner-link": "ids-partner", "backup-site-link": "no IDS sensor declared"},
    },
    "ETCD-CLIENT-CERT-AUTH": {
        "pass": ["etcd-cert"],
        "fail": {"etcd-noauth": "HTTP/1.1 200 OK", "etcd-plain": "HTTP/1.1 200 OK"},
    },
    "IPSEC-IKEV2-ONLY": {"pass": ["ipsec-gw"], "fail": {"ipsec-weak": 'connection legacy": "IKEv1'}},
    "IPSEC-AEAD-PFS": {"pass": ["ipsec-gw"], "fail": {"ipsec-weak": "3des-sha1-modp1024"}},
    "IPSEC-CERT-AUTH": {"pass": ["ipsec-gw"], "fail": {"ipsec-weak": "pre-shared key"}},
    # ipsec-gw: IKE SA established with its peer; the CHILD SA needs kernel xfrm, which some sandboxes refuse
    # (ENOSYS): there the gateway fails for that reason, said in the test (tests/lab/test_network_coverage_both_ways)
    "IPSEC-TUNNELS-UP": {"pass": [], "fail": {"ipsec-weak": 'partner": "no IKE SA'}, "kernel_dependent": ["ipsec-gw"]},
}
