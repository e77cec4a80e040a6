"""The certificate a TLS server presents: key, signature hash, validity window, name."""

import datetime as dt

from preuve.judge import check

MIN_BITS = {"RSA": "min_rsa_bits", "EC": "min_ec_bits"}


def leaf(tls: dict) -> dict:
    return tls["certificate"]["chain"][0]


@check(
    "TLS-CERT-KEY",
    requirements=["10.2.c", "10.5.a"],
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats ; RGS B1 (RSA ≥ 2048, ECDSA ≥ 256)",
)
def check_cert_key(tls, params, judge):
    cert = leaf(tls)
    judge.one_of("tls.cert.key_type", cert["key_type"], ["EC", "RSA", "Ed25519", "Ed448"])
    if cert["key_type"] in MIN_BITS:
        judge.at_least("tls.cert.key_size", cert["key_size"], getattr(params.tls, MIN_BITS[cert["key_type"]]))


@check(
    "TLS-CERT-SIGNATURE",
    requirements=["10.2.c"],
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats (SHA-2 uniquement)",
)
def check_cert_signature(tls, params, judge):
    chain = [
        c for c in tls["certificate"]["chain"] if c["subject"] != c["issuer"]
    ]  # a root's self-signature is not used
    judge.subset(
        "tls.cert.signature_hashes", [c["signature_hash"] for c in chain], params.tls.signature_hashes_allowed
    )


@check(
    "TLS-CERT-VALIDITY",
    requirements=["10.2.c"],
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats (période de validité)",
)
def check_cert_validity(tls, now, params, judge):
    cert = leaf(tls)
    not_before = dt.datetime.fromisoformat(cert["not_before"].replace("Z", "+00:00"))
    not_after = dt.datetime.fromisoformat(cert["not_after"].replace("Z", "+00:00"))
    judge.equals("tls.cert.started", not_before <= now, True)
    judge.at_least("tls.cert.days_left", (not_after - now).days, params.tls.cert_min_days_left)


@check(
    "TLS-CERT-NAME",
    requirements=["10.2.c"],
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats (SAN obligatoire)",
)
def check_cert_name(tls, judge):
    judge.equals("tls.cert.hostname_matches", tls["certificate"]["hostname_matches"], True)
