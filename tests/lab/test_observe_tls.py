"""TLS observer against real nginx servers on 127.0.0.1 (no mocks).

Oracles are independent of the code under test: the nginx configurations and the certificates
this file builds (key, hash, validity are known by construction).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from support.tls_servers import (
    HSTS_MAX_AGE,
    HSTS_VALUE,
    LOOPBACK,
    NGINX,
    NginxLab,
    TlsServer,
    closed_port,
    hello_size_limiting_proxy,
)

from preuve.observe import tls
from preuve.observe.errors import ObservationError

_requires_nginx = pytest.mark.skipif(not shutil.which(NGINX), reason="needs nginx")


def nginx_test(fn):
    """Real nginx servers on loopback (no root needed)."""
    return pytest.mark.lab(_requires_nginx(fn))


SNI = "localhost"
VERSIONS = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
WEAK_SUITES = [
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
]


@pytest.fixture(scope="session")
def nginx_lab(tmp_path_factory: pytest.TempPathFactory):
    with NginxLab(tmp_path_factory.mktemp("tls")) as lab:
        lab.add_compliant()
        lab.add_weak()
        lab.start()
        yield lab


@pytest.fixture(scope="session")
def compliant(nginx_lab: NginxLab) -> TlsServer:
    return nginx_lab.servers[0][0]


@pytest.fixture(scope="session")
def weak(nginx_lab: NginxLab) -> TlsServer:
    return nginx_lab.servers[1][0]


@pytest.fixture(scope="session")
def compliant_obs(compliant: TlsServer) -> tuple[dict, dict]:
    return tls.collect(LOOPBACK, compliant.port, sni=SNI, timeout=3)


@pytest.fixture(scope="session")
def weak_obs(weak: TlsServer) -> tuple[dict, dict]:
    return tls.collect(LOOPBACK, weak.port, sni=SNI, timeout=3)


# --- compliant server -------------------------------------------------------------------------


@nginx_test
def test_compliant_versions_and_suites(compliant_obs: tuple[dict, dict]) -> None:
    facts, _raw = compliant_obs
    assert facts["versions"] == {v: v in ("TLSv1.2", "TLSv1.3") for v in VERSIONS}
    assert facts["cipher_suites"]["TLSv1.2"] == [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ]
    assert set(facts["cipher_suites"]) == {"TLSv1.2", "TLSv1.3"}
    assert "TLS_AES_256_GCM_SHA384" in facts["cipher_suites"]["TLSv1.3"]
    for name, detail in facts["suite_details"].items():
        assert detail["aead"] and not detail["cbc"], name
        assert detail["key_exchange"] == "ECDHE" and detail["forward_secrecy"], name
        assert detail["ephemeral_key"]["type"] == "ECDH", name
    assert facts["suite_details"]["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"] | {"ephemeral_key": None} == {
        "key_exchange": "ECDHE",
        "authentication": "ECDSA",
        "encryption": "AES_256_GCM",
        "mac": "SHA384",
        "aead": True,
        "cbc": False,
        "export": False,
        "null_encryption": False,
        "anonymous": False,
        "forward_secrecy": True,
        "key_size": 256,
        "ephemeral_key": None,
    }


@nginx_test
def test_compliant_groups_certificate_hsts(compliant_obs: tuple[dict, dict], compliant: TlsServer) -> None:
    facts, _raw = compliant_obs
    assert facts["groups"]["supported"] == ["X25519", "secp256r1", "secp384r1"]  # X25519:prime256v1:secp384r1
    assert "secp521r1" in facts["groups"]["rejected"]

    cert = facts["certificate"]
    leaf = cert["chain"][0]
    assert (leaf["key_type"], leaf["key_size"], leaf["curve"]) == ("EC", 256, "secp256r1")
    assert leaf["signature_hash"] == "sha256"
    assert leaf["san_dns"] == ["localhost"] and leaf["san_ip"] == [LOOPBACK]
    assert leaf["subject_country"] == "FR" and leaf["self_issued"] and not leaf["is_ca"]
    assert leaf["sha256"] == compliant.cert.certificate.fingerprint(_sha256()).hex()
    assert leaf["not_after"] == compliant.cert.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cert["hostname_matches"] is True
    assert cert["trusted_by_system"] is False and cert["trusted_by"] == []  # self-signed

    assert facts["hsts"] == {
        "header": HSTS_VALUE,
        "max_age": HSTS_MAX_AGE,
        "include_subdomains": True,
        "preload": False,
        "http_status": 200,
        "path": "/",
    }
    assert facts["renegotiation"] == {
        "secure": True,
        "client_initiated_accepted": False,
        "client_initiated_successes": 0,
    }
    assert facts["compression"] is False
    assert facts["extended_master_secret"] is True  # checked over TLS 1.2, not assumed from TLS 1.3
    assert facts["fallback_scsv"] is True
    assert facts["errors"] == {}


# --- weak server ------------------------------------------------------------------------------


@nginx_test
def test_weak_versions_and_suites(weak_obs: tuple[dict, dict]) -> None:
    facts, _raw = weak_obs
    assert facts["versions"] == {v: v in ("TLSv1.0", "TLSv1.1", "TLSv1.2") for v in VERSIONS}
    assert facts["cipher_suites"] == {"TLSv1.0": WEAK_SUITES, "TLSv1.1": WEAK_SUITES, "TLSv1.2": WEAK_SUITES}
    details = facts["suite_details"]
    static_rsa = sorted(s for s, d in details.items() if d["key_exchange"] == "RSA")
    assert static_rsa == ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"]
    assert all(d["cbc"] and not d["aead"] and d["mac"] == "SHA1" for d in details.values())
    assert details["TLS_RSA_WITH_AES_128_CBC_SHA"]["forward_secrecy"] is False
    assert details["TLS_RSA_WITH_AES_128_CBC_SHA"]["ephemeral_key"] is None
    dhe = details["TLS_DHE_RSA_WITH_AES_128_CBC_SHA"]
    assert dhe["ephemeral_key"] == {"type": "DH", "size": 1024, "curve": None}


@nginx_test
def test_weak_certificate_and_headers(weak_obs: tuple[dict, dict], compliant_obs: tuple[dict, dict]) -> None:
    facts, _raw = weak_obs
    leaf = facts["certificate"]["chain"][0]
    assert (leaf["key_type"], leaf["key_size"], leaf["curve"]) == ("RSA", 1024, None)
    assert leaf["signature_hash"] == "sha1"
    assert leaf["signature_algorithm"] == "sha1WithRSAEncryption"
    validity = _parse(leaf["not_after"]) - _parse(leaf["not_before"])
    assert dt.timedelta(days=3649) < validity < dt.timedelta(days=3651)
    assert facts["hsts"] == {
        "header": None,
        "max_age": None,
        "include_subdomains": False,
        "preload": False,
        "http_status": 200,
        "path": "/",
    }
    assert facts["renegotiation"]["secure"] is True
    assert facts["compression"] is False
    # static RSA exists on the weak server only
    assert not any(d["key_exchange"] == "RSA" for d in compliant_obs[0]["suite_details"].values())


# --- evidence quality -------------------------------------------------------------------------


@nginx_test
def test_facts_and_raw_are_json_deterministic_and_small(compliant_obs: tuple[dict, dict], compliant: TlsServer) -> None:
    facts, raw = compliant_obs
    assert json.loads(json.dumps(facts)) == facts
    assert len(json.dumps(raw)) < 60_000  # trimmed: no trust-store PEMs, no rejected-suite lists
    assert "BEGIN CERTIFICATE" in raw["chain_pem"][0]  # the chain as presented, for auditors
    assert raw["side_requests"]["session"]["hops"][0]["strict_transport_security"] == [HSTS_VALUE]
    again, _ = tls.collect(LOOPBACK, compliant.port, sni=SNI, timeout=3)
    assert again == facts


@nginx_test
def test_elimination_costs_one_handshake_per_accepted_suite_plus_one(weak_obs: tuple[dict, dict]) -> None:
    """Suites by elimination: n accepted suites of a version cost n + 1 handshakes, one more tells whether the
    server imposes its order; groups likewise; the whole weak server in a few dozen handshakes, not hundreds."""
    facts, raw = weak_obs
    probes = [p["probe"] for p in raw["probes"]]
    for version in ("TLSv1.0", "TLSv1.1", "TLSv1.2"):
        assert sum(p.startswith(f"{version} suites") for p in probes) == 4 + 1, version
        assert f"{version} preference" in probes
    assert sum(p.startswith("TLSv1.3 suites") for p in probes) == 1  # refused at once
    # RSA certificate: curves by elimination too (an ECDSA one at TLS <= 1.2 needs one probe per curve)
    assert sum(p.startswith("TLSv1.2 groups") for p in probes) == len(facts["groups"]["supported"]) + 1
    assert raw["handshakes"] == len(raw["probes"]) < 40
    # nginx without ssl_prefer_server_ciphers follows the client's order
    assert facts["preference"]["TLSv1.2"]["server_order"] is False


@nginx_test
def test_server_preference_is_observed(compliant_obs: tuple[dict, dict]) -> None:
    """ssl_prefer_server_ciphers on + COMPLIANT_CIPHERS: the picks follow nginx's list, not ours."""
    facts, _raw = compliant_obs
    assert facts["preference"]["TLSv1.2"] == {
        "server_order": True,
        "order": [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ],
    }


@nginx_test
def test_sni_mismatch_and_no_http(compliant: TlsServer) -> None:
    facts, raw = tls.collect(LOOPBACK, compliant.port, sni="other.example", timeout=3, http_path=None)
    assert facts["certificate"]["hostname_matches"] is False
    assert facts["hsts"] is None and "http" not in raw
    assert facts["server_name"] == "other.example"


@nginx_test
def test_collect_many_keys_results_and_errors(compliant: TlsServer, weak: TlsServer) -> None:
    dead = closed_port()
    results = tls.collect_many(
        [
            {"host": LOOPBACK, "port": compliant.port, "sni": SNI},
            {"host": LOOPBACK, "port": weak.port, "sni": SNI, "http_path": None},
            {"host": LOOPBACK, "port": dead},
        ],
        timeout=3,
    )
    assert results[tls.endpoint_key(LOOPBACK, compliant.port, SNI)][0]["versions"]["TLSv1.3"] is True
    assert results[tls.endpoint_key(LOOPBACK, weak.port, SNI)][0]["hsts"] is None
    assert isinstance(results[(LOOPBACK, dead, None)], ObservationError)


@nginx_test
def test_server_resetting_big_hellos_is_enumerated_in_chunks(weak: TlsServer, weak_obs: tuple[dict, dict]) -> None:
    """A reset is not a refusal: behind a box that resets ClientHellos over 600 bytes (every suite offered at
    once is ~900), the weak server's TLS 1.0-1.2 and their suites are still found (a naive prober would report
    "no TLS 1.0" and pass TLS-VERSIONS)."""
    with hello_size_limiting_proxy(weak.port) as port:
        facts, raw = tls.collect(LOOPBACK, port, sni=SNI, timeout=3, http_path=None)
    assert facts["versions"] == weak_obs[0]["versions"]
    assert facts["cipher_suites"] == weak_obs[0]["cipher_suites"]
    assert any(p["answer"] == "reset" for p in raw["probes"])


# --- failures ---------------------------------------------------------------------------------


# --- pure helpers -----------------------------------------------------------------------------


def _sha256():
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _parse(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
