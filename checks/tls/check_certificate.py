"""The certificate a TLS server presents: key, signature hash, validity window, name."""

import datetime as dt

from preuve.judge import check

MIN_BITS = {"RSA": "min_rsa_bits", "EC": "min_ec_bits"}


def leaf(tls: dict) -> dict:
    return tls["certificate"]["chain"][0]


@check(
    "TLS-CERT-KEY",
    requirements={
        "10.2.c#3": "the certificate key is of accepted type and size",
        "10.2.a#1": "the certificate key meets the RGS sizes (RSA >= 2048, ECDSA >= 256)",
    },
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
    requirements={
        "10.2.c#3": "the chain is signed with SHA-2",
        "10.2.a#1": "no MD5 or SHA-1 signature in the chain",
    },
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats (SHA-2 uniquement)",
)
def check_cert_signature(tls, params, judge):
    chain = [
        c for c in tls["certificate"]["chain"] if c["subject"] != c["issuer"]
    ]  # a root's self-signature is not used
    judge.subset("tls.cert.signature_hashes", [c["signature_hash"] for c in chain], params.tls.signature_hashes_allowed)


@check(
    "TLS-CERT-VALIDITY",
    requirements={
        "10.2.c#3": "the certificate is valid and not close to expiry",
    },
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
    requirements={
        "10.2.c#3": "the certificate's subjectAltName covers the service name",
    },
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS certificats (SAN obligatoire)",
)
def check_cert_name(tls, judge):
    judge.equals("tls.cert.hostname_matches", tls["certificate"]["hostname_matches"], True)


def issuer_verdict(cert: dict, params) -> tuple[bool, str]:
    """(issued in the EU?, what was seen) for one certificate of the chain.

    The issuer's C= is self-declared by the CA: it is the evidence an auditor can read, and what is judged. An
    issuer without C= (kubeadm's "CN=kubernetes", many private CAs) proves nothing: it passes only when the
    provider declared it in the profile (tls.ca_issuers_declared_eu), and the observation says so."""
    country = cert.get("issuer_country")
    if country is None:
        declared = cert.get("issuer") in params.tls.ca_issuers_declared_eu
        return declared, f"{cert.get('issuer')}: no C={' (declared EU in the profile)' if declared else ''}"
    return country.upper() in {c.upper() for c in params.tls.ca_countries_allowed}, f"{cert.get('issuer')}: {country}"


@check(
    "TLS-CA-EU",
    requirements={
        "10.6.a#1": "every presented certificate's issuer has an EU member state as C=",
    },
    target="tls_endpoint",
    severity="high",
    rule="10.6.a : certificats issus d'une AC d'un État membre de l'UE (pays de l'émetteur le long de la chaîne)",
)
def check_ca_country(tls, params, judge):
    chain = tls["certificate"]["chain"]
    verdicts = {f"{i}: {c.get('subject')}": issuer_verdict(c, params) for i, c in enumerate(chain)}
    judge.each(
        "tls.cert.issuer_countries",
        {k: ok for k, (ok, _) in verdicts.items()},
        observed={k: seen for k, (_, seen) in verdicts.items()},
    )
