"""sslyze is the referee: every lab TLS endpoint and scripted edge servers scanned by preuve's prober and by
sslyze, and the facts both observe must be identical. No tolerance: any difference fails.

What is compared (both observe it): versions; accepted suites per version (those sslyze knows how to offer);
DH sizes of DHE suites; curves supported at the highest version; the chain as presented (fingerprints);
whether it is in order; OCSP staple; secure renegotiation; client-initiated renegotiation; compression; fallback
SCSV; EMS (servers whose highest version is <= TLS 1.2: sslyze says True for any TLS 1.3 server); HSTS max-age.
Not compared: what only preuve observes (suite preference, which curve a suite was negotiated with)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from support.tls_servers import (
    LOOPBACK,
    NGINX,
    NginxLab,
    TlsServer,
    free_port,
    make_ca,
    make_leaf,
    make_self_signed,
    wait_for_port,
    write_dhparam_1024,
)

from preuve.observe import tls

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not shutil.which(NGINX), reason="needs nginx")]
SNI = "localhost"
_VERSIONS = {
    "SSL_2_0": "SSLv2",
    "SSL_3_0": "SSLv3",
    "TLS_1_0": "TLSv1.0",
    "TLS_1_1": "TLSv1.1",
    "TLS_1_2": "TLSv1.2",
    "TLS_1_3": "TLSv1.3",
}


# --- the two views ----------------------------------------------------------------------------


def preuve_view(facts: dict, sslyze_known: dict[str, set[str]]) -> dict:
    highest = max((v for v, ok in facts["versions"].items() if ok), key=list(tls.VERSIONS).index, default=None)
    cert = facts["certificate"] or {}
    view = {
        "versions": facts["versions"],
        "suites": {v: sorted(set(s) & sslyze_known[v]) for v, s in facts["cipher_suites"].items()},
        "dh_sizes": {
            s: d["ephemeral_key"]["size"]
            for s, d in facts["suite_details"].items()
            if d["ephemeral_key"] and d["ephemeral_key"]["type"] == "DH"
        },
        "curves": (facts["groups"] or {}).get("supported", []),
        "chain": [c["sha256"] for c in cert.get("chain", [])],
        "chain_in_order": cert.get("chain_in_order"),
        "ocsp_stapled": cert.get("ocsp_stapled"),
        "renegotiation": {k: facts["renegotiation"][k] for k in ("secure", "client_initiated_accepted")},
        "compression": facts["compression"],
        "fallback_scsv": facts["fallback_scsv"],
        "hsts_max_age": (facts["hsts"] or {}).get("max_age"),
    }
    if highest != "TLSv1.3":
        view["ems"] = facts["extended_master_secret"]
    return view


def sslyze_view(result, http: bool) -> dict:
    scan = result.scan_result
    versions, suites, dh = {}, {}, {}
    for code, name in _VERSIONS.items():
        accepted = getattr(scan, f"{code.lower()}_cipher_suites").result.accepted_cipher_suites
        versions[name] = bool(accepted)
        if accepted:
            suites[name] = sorted(a.cipher_suite.name for a in accepted)
        for a in accepted:
            key = a.ephemeral_key
            if key is not None and key.type_name == "DH":
                dh[a.cipher_suite.name] = min(dh.get(a.cipher_suite.name, 1 << 20), key.size)
    curves = scan.elliptic_curves.result
    deployment = scan.certificate_info.result.certificate_deployments[0]
    reneg = scan.session_renegotiation.result
    highest = result.connectivity_result.highest_tls_version_supported.name
    view = {
        "versions": versions,
        "suites": suites,
        "dh_sizes": dh,
        "curves": sorted(c.name for c in curves.supported_curves or []),
        "chain": [c.fingerprint(hashes.SHA256()).hex() for c in deployment.received_certificate_chain],
        "chain_in_order": deployment.received_chain_has_valid_order,
        "ocsp_stapled": deployment.ocsp_response is not None,
        "renegotiation": {
            "secure": reneg.supports_secure_renegotiation,
            "client_initiated_accepted": reneg.client_renegotiations_success_count > 0,
        },
        "compression": scan.tls_compression.result.supports_compression,
        "fallback_scsv": scan.tls_fallback_scsv.result.supports_fallback_scsv,
        "hsts_max_age": None,
    }
    if http and scan.http_headers.result and scan.http_headers.result.strict_transport_security_header:
        view["hsts_max_age"] = scan.http_headers.result.strict_transport_security_header.max_age
    if highest != "TLS_1_3":
        view["ems"] = scan.tls_extended_master_secret.result.supports_ems_extension
    return view


def sslyze_known() -> dict[str, set[str]]:
    from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
    from sslyze.server_connectivity import TlsVersionEnum

    return {
        _VERSIONS[v.name]: {s.name for s in CipherSuitesRepository.get_all_cipher_suites(v)} for v in TlsVersionEnum
    }


def sslyze_scan(targets: list[tuple[str, int, str | None, bool]]) -> dict:
    """Every target in one sslyze Scanner, all the scan commands whose facts are compared."""
    from sslyze import Scanner, ServerNetworkConfiguration, ServerNetworkLocation, ServerScanRequest
    from sslyze.plugins.scan_commands import ScanCommand

    commands = {
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
        ScanCommand.ELLIPTIC_CURVES,
        ScanCommand.CERTIFICATE_INFO,
        ScanCommand.SESSION_RENEGOTIATION,
        ScanCommand.TLS_COMPRESSION,
        ScanCommand.TLS_EXTENDED_MASTER_SECRET,
        ScanCommand.TLS_FALLBACK_SCSV,
        ScanCommand.HTTP_HEADERS,
    }
    requests, keys = [], {}
    for host, port, sni, _http in targets:
        request = ServerScanRequest(
            server_location=ServerNetworkLocation(hostname=host, port=port),
            network_configuration=ServerNetworkConfiguration(tls_server_name_indication=sni or host),
            scan_commands=commands,
        )
        requests.append(request)
        keys[request.uuid] = (host, port, sni)
    # one connection at a time per server: the renegotiating openssl s_server serves connections one by one
    scanner = Scanner(per_server_concurrent_connections_limit=1, concurrent_server_scans_limit=len(requests))
    scanner.queue_scans(requests)
    out = {}
    for result in scanner.get_results():
        assert result.scan_result is not None, f"sslyze could not scan {keys[result.uuid]}"
        failed = {
            name: (attempt.error_reason, attempt.error_trace and list(attempt.error_trace.format())[-1])
            for name in vars(result.scan_result)
            if (attempt := getattr(result.scan_result, name))
            and getattr(attempt, "status", None) is not None
            and attempt.status.value == "ERROR"
        }
        assert not failed, f"sslyze failed on {keys[result.uuid]}: {failed}"  # the referee must have answered
        out[keys[result.uuid]] = result
    return out


def referee(targets: list[tuple[str, int, str | None, bool]]) -> dict[tuple, tuple[dict, dict]]:
    theirs = sslyze_scan(targets)
    known = sslyze_known()
    views = {}
    for host, port, sni, http in targets:
        facts, _raw = tls.collect(host, port, sni=sni, timeout=5, http_path="/" if http else None)
        views[(host, port, sni)] = (preuve_view(facts, known), sslyze_view(theirs[(host, port, sni)], http))
    return views


# --- scripted edge servers ----------------------------------------------------------------------


EDGES = {
    # name: (certificate kind, nginx directives)
    "tls13-only": ("ec", ["ssl_protocols TLSv1.3;"]),
    "cbc-never-preferred": (
        "ec",
        [
            "ssl_protocols TLSv1.2;",
            "ssl_prefer_server_ciphers on;",
            "ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA';",
        ],
    ),
    "rsa-kex-at-the-bottom": (
        "rsa",
        [
            "ssl_protocols TLSv1.2;",
            "ssl_prefer_server_ciphers on;",
            "ssl_ciphers 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256';",
        ],
    ),
    "dhe-1024": (
        "rsa",
        ["ssl_protocols TLSv1.2;", "ssl_ciphers 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0';", "ssl_dhparam {dh};"],
    ),
    "legacy-only": (
        "rsa",
        ["ssl_protocols TLSv1 TLSv1.1;", "ssl_ciphers 'AES128-SHA:DES-CBC3-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0';"],
    ),
    "expired": ("expired", ["ssl_protocols TLSv1.2 TLSv1.3;"]),
    "wrong-name": ("wrong-name", ["ssl_protocols TLSv1.2 TLSv1.3;"]),
    "us-issued": (
        "us",
        ["ssl_protocols TLSv1.2 TLSv1.3;", 'add_header Strict-Transport-Security "max-age=300" always;'],
    ),
}


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("referee")
    fr, us = make_ca(root, "fr", "FR"), make_ca(root, "us", "US")
    dh = write_dhparam_1024(root / "dh1024.pem")
    rsa_cert = make_self_signed(
        root, "rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA256(), days=365
    )
    certs = {
        "ec": make_leaf(root, "ec", fr),
        "rsa": rsa_cert,
        "expired": make_leaf(root, "expired", fr, not_before_days=-30, not_after_days=-1),
        "wrong-name": make_leaf(root, "wrong-name", fr, dns_names=("other.example",)),
        "us": make_leaf(root, "us-leaf", us),
    }
    with NginxLab(root) as lab:
        servers = {}
        for name, (kind, directives) in EDGES.items():
            text = "\n".join(f"        {d}" for d in directives).replace("{dh}", str(dh))
            servers[name] = lab.add(name, certs[kind], text)
        lab.start()
        with _renegotiating_server(root, rsa_cert) as reneg:
            servers["renegotiating"] = reneg
            yield servers


def _renegotiating_server(root: Path, cert):
    """openssl s_server allowing client-initiated renegotiation (nginx never does)."""
    import contextlib

    @contextlib.contextmanager
    def run():
        port = free_port()
        proc = subprocess.Popen(
            [
                "openssl",
                "s_server",
                "-accept",
                f"{LOOPBACK}:{port}",
                "-cert",
                str(cert.cert),
                "-key",
                str(cert.key),
                "-tls1_2",
                "-client_renegotiation",
                "-www",
                "-quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, proc=proc)
            yield TlsServer("renegotiating", LOOPBACK, port, cert)
        finally:
            proc.terminate()
            proc.wait(timeout=5)

    return run()


def test_edge_servers_preuve_and_sslyze_agree(edges: dict[str, TlsServer]) -> None:
    targets = [(LOOPBACK, s.port, SNI, name != "renegotiating") for name, s in edges.items()]
    views = referee(targets)
    for name, server in edges.items():
        ours, theirs = views[(LOOPBACK, server.port, SNI)]
        assert ours == theirs, name
    # the edges are what they claim: each a case a naive prober gets wrong
    by_name = {name: views[(LOOPBACK, s.port, SNI)][0] for name, s in edges.items()}
    assert by_name["tls13-only"]["versions"]["TLSv1.2"] is False and by_name["tls13-only"]["versions"]["TLSv1.3"]
    assert "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" in by_name["cbc-never-preferred"]["suites"]["TLSv1.2"]
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in by_name["rsa-kex-at-the-bottom"]["suites"]["TLSv1.2"]
    assert by_name["dhe-1024"]["dh_sizes"] == {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": 1024}
    assert by_name["renegotiating"]["renegotiation"]["client_initiated_accepted"] is True
    assert by_name["legacy-only"]["versions"]["TLSv1.0"] and not by_name["legacy-only"]["versions"]["TLSv1.2"]


def test_preference_of_edge_servers(edges: dict[str, TlsServer]) -> None:
    """What only preuve observes, against the nginx configuration (the oracle): CBC accepted but never
    preferred, static RSA last."""
    cbc, _ = tls.collect(LOOPBACK, edges["cbc-never-preferred"].port, sni=SNI, timeout=5, http_path=None)
    assert cbc["preference"]["TLSv1.2"]["server_order"] is True
    assert cbc["preference"]["TLSv1.2"]["order"][-1] == "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    rsa_kex, _ = tls.collect(LOOPBACK, edges["rsa-kex-at-the-bottom"].port, sni=SNI, timeout=5, http_path=None)
    assert rsa_kex["preference"]["TLSv1.2"]["order"] == [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
    ]
    us, _ = tls.collect(LOOPBACK, edges["us-issued"].port, sni=SNI, timeout=5)
    assert [c["issuer_country"] for c in us["certificate"]["chain"]] == ["US", "US"]
    assert us["hsts"]["max_age"] == 300
    wrong, _ = tls.collect(LOOPBACK, edges["wrong-name"].port, sni=SNI, timeout=5, http_path=None)
    assert wrong["certificate"]["hostname_matches"] is False
    expired, _ = tls.collect(LOOPBACK, edges["expired"].port, sni=SNI, timeout=5, http_path=None)
    assert expired["certificate"]["chain"][0]["not_after"] < expired["certificate"]["chain"][0]["not_before"][:4] + "9"


def test_lab_endpoints_preuve_and_sslyze_agree(lab) -> None:
    """Every TLS endpoint of the lab inventory, from the scanner's namespace (as a run sees them)."""
    import yaml

    from preuve.observe.network.netns import enter

    inventory = yaml.safe_load((Path(__file__).resolve().parents[2] / "inventories" / "lab.yaml").read_text())
    targets = [(e["address"], e["port"], e.get("sni"), e.get("http", True)) for e in inventory["tls_endpoints"]]
    assert len(targets) >= 3
    with enter(inventory["scanner"]["netns"]):
        views = referee(targets)
    for (host, port, sni, _http), name in zip(targets, [e["name"] for e in inventory["tls_endpoints"]], strict=True):
        ours, theirs = views[(host, port, sni)]
        assert ours == theirs, name
