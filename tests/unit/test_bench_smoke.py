"""The bench's findings-agreement functions on small synthetic tool outputs (pure; no lab, no timing)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import agree  # noqa: E402

PREUVE_TLS = {
    "versions": {"SSLv2": False, "SSLv3": False, "TLSv1.0": True, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": False},
    "cipher_suites": {
        "TLSv1.0": ["TLS_RSA_WITH_AES_128_CBC_SHA"],
        "TLSv1.2": ["TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"],
    },
    "suite_details": {
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": {"ephemeral_key": {"type": "DH", "size": 1024}},
        "TLS_RSA_WITH_AES_128_CBC_SHA": {"ephemeral_key": None},
    },
    "certificate": {"chain": [{"key_type": "RSA", "key_size": 1024, "signature_hash": "sha1"}]},
}


def _sslyze_suite(name: str, dh: int | None = None) -> dict:
    key = {"type_name": "DH", "size": dh} if dh else None
    return {"cipher_suite": {"name": name}, "ephemeral_key": key}


SSLYZE = {
    "server_scan_results": [
        {
            "scan_result": {
                "tls_1_0_cipher_suites": {
                    "result": {"accepted_cipher_suites": [_sslyze_suite("TLS_RSA_WITH_AES_128_CBC_SHA")]}
                },
                "tls_1_2_cipher_suites": {
                    "result": {
                        "accepted_cipher_suites": [
                            _sslyze_suite("TLS_RSA_WITH_AES_128_CBC_SHA"),
                            _sslyze_suite("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", dh=1024),
                        ]
                    }
                },
                "tls_1_3_cipher_suites": {"result": {"accepted_cipher_suites": []}},
                "certificate_info": {
                    "result": {
                        "certificate_deployments": [
                            {
                                "received_certificate_chain": [
                                    {
                                        "public_key": {"algorithm": "RSAPublicKey", "key_size": 1024},
                                        "signature_hash_algorithm": {"name": "sha1"},
                                    }
                                ]
                            }
                        ]
                    }
                },
            }
        }
    ],
}

TESTSSL = [
    {"id": "TLS1", "finding": "offered (deprecated)"},
    {"id": "TLS1_1", "finding": "not offered"},
    {"id": "TLS1_2", "finding": "offered"},
    {"id": "TLS1_3", "finding": "not offered + downgraded to weaker protocol"},
    {"id": "cipher_x2f", "finding": "x2f  AES128-SHA  RSA  AES  128  TLS_RSA_WITH_AES_128_CBC_SHA"},
    {
        "id": "cipher_x33",
        "finding": "x33     DHE-RSA-AES128-SHA     DH 1024    AES    128      TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    },
    {"id": "cipher_order_TLSv1.2", "finding": "ECDHE-RSA-AES128-SHA at TLSv1.2"},
    {"id": "cert_keySize", "finding": "RSA 1024 bits"},
    {"id": "cert_signatureAlgorithm", "finding": "SHA1 with RSA"},
]


def _tls(peer: str, view: dict) -> dict[str, agree.Agreement]:
    return {a.item: a for a in agree.compare_tls(agree.preuve_tls_view(PREUVE_TLS), view, peer)}


def test_tls_views_agree_on_the_same_server():
    views = {"sslyze": agree.sslyze_tls_view(SSLYZE), "testssl.sh": agree.testssl_tls_view(TESTSSL)}
    for peer, view in views.items():
        statuses = {item: a.status for item, a in _tls(peer, view).items()}
        assert set(statuses.values()) == {"agree"}, (peer, statuses)
    ours = agree.preuve_tls_view(PREUVE_TLS)
    assert (ours["dhe_bits"], ours["cert_key"]) == (1024, "RSA 1024")
    assert ours["versions"] == ["TLSv1.0", "TLSv1.2"]


def test_testssl_has_no_per_version_split_so_suites_compare_as_a_union():
    assert "suites (any version)" in _tls("testssl.sh", agree.testssl_tls_view(TESTSSL))


def test_differences_are_named_exactly():
    other = [
        *TESTSSL[:5],
        {"id": "cert_keySize", "finding": "EC 256 bits"},
        {"id": "cert_signatureAlgorithm", "finding": "ECDSA with SHA256"},
    ]
    found = _tls("testssl.sh", agree.testssl_tls_view(other))
    assert found["suites (any version)"].detail == "only preuve: TLS_DHE_RSA_WITH_AES_128_CBC_SHA"
    assert found["cert_key"].detail == "preuve 'RSA 1024', testssl.sh 'EC 256'"
    assert found["cert_sig_hash"].detail == "preuve 'sha1', testssl.sh 'sha256'"
    assert found["dhe_bits"].detail == f"preuve 1024, testssl.sh {agree.NO_DHE!r}"


def test_per_version_suite_differences():
    ours = {"suites": {"TLSv1.2": ["A", "B"], "TLSv1.3": ["C"]}}
    theirs = {"suites": {"TLSv1.2": ["A"]}}
    [result] = agree.compare_views(ours, theirs, "sslyze", ["suites"])
    assert result.status == "differ"
    assert result.detail == "TLSv1.2: only preuve: B | TLSv1.3: only preuve: C"


PREUVE_SSH = {
    "kex": ["curve25519-sha256", "diffie-hellman-group1-sha1", "kex-strict-s-v00@openssh.com"],
    "ciphers_c2s": ["aes128-ctr", "3des-cbc"],
    "ciphers_s2c": ["aes128-ctr", "3des-cbc"],
    "macs_c2s": ["hmac-sha1"],
    "macs_s2c": ["hmac-sha1"],
    "host_key_algorithms": ["rsa-sha2-512", "ssh-rsa", "ssh-ed25519"],
    "host_keys": [{"type": "ssh-rsa", "bits": 1024}, {"type": "ssh-ed25519", "bits": 256}],
}
SSH_AUDIT = {
    "kex": [
        {"algorithm": "curve25519-sha256"},
        {"algorithm": "diffie-hellman-group1-sha1"},
        {"algorithm": "kex-strict-s-v00@openssh.com"},
    ],
    "enc": [{"algorithm": "3des-cbc"}, {"algorithm": "aes128-ctr"}],
    "mac": [{"algorithm": "hmac-sha1"}],
    "key": [
        {"algorithm": "rsa-sha2-512", "keysize": 1024},
        {"algorithm": "ssh-rsa", "keysize": 1024},
        {"algorithm": "ssh-ed25519"},
    ],
}


def test_ssh_views_agree_and_unsized_key_types_are_named():
    found = agree.compare_ssh(agree.preuve_ssh_view(PREUVE_SSH), agree.ssh_audit_view(SSH_AUDIT))
    assert {a.item: a.status for a in found} == dict.fromkeys(agree.SSH_ITEMS, "agree")
    assert "no size for ssh-ed25519" in found[-1].detail


def test_ssh_difference_and_unreported_item():
    audit = {
        **SSH_AUDIT,
        "mac": [{"algorithm": "hmac-sha1"}, {"algorithm": "hmac-md5"}],
        "key": [{"algorithm": "ssh-ed25519"}],
    }
    ours = agree.preuve_ssh_view(PREUVE_SSH)
    found = {a.item: a for a in agree.compare_ssh(ours, agree.ssh_audit_view(audit))}
    assert found["macs"].detail == "only ssh-audit: hmac-md5"
    assert found["host_key_bits"].status == "not compared"
    assert agree.ssh_key_type("rsa-sha2-256-cert-v01@openssh.com") == "ssh-rsa"
