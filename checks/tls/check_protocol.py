"""What a TLS server accepts: versions, suites, key exchange, groups, renegotiation, compression, HSTS.

Judged on what the server *accepts* during real handshakes, not on what a configuration file says.
"""

from preuve.judge import check

GROUP_ALIASES = {"prime256v1": "secp256r1", "x25519": "X25519", "x448": "X448"}
FORWARD_SECRET = {"ECDHE", "DHE"}


def accepted_suites(tls: dict) -> list[str]:
    return sorted({s for suites in tls["cipher_suites"].values() for s in suites})


@check(
    "TLS-VERSIONS",
    requirements={
        "10.2.c#1": "only TLS 1.2 and 1.3 are accepted (R3, R4)",
    },
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS R3, R4",
)
def check_versions(tls, params, judge):
    accepted = [v for v, ok in sorted(tls["versions"].items()) if ok]
    judge.subset("tls.versions", accepted, params.tls.versions_allowed)
    judge.non_empty("tls.versions.usable", [v for v in accepted if v in params.tls.versions_allowed])


@check(
    "TLS-SUITES",
    requirements={
        "10.2.a#1": "every accepted suite is AEAD with ECDHE",
        "10.2.c#2": "only the guide's recommended suites are accepted",
        "10.2.b#1": "only annex A.1's recommended suites are accepted, none of annex A.2's degraded ones",
    },
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS annexe A.1",
)
def check_suites(tls, params, judge):
    judge.subset("tls.suites", accepted_suites(tls), params.tls.suites_allowed)


@check(
    "TLS-FORWARD-SECRECY",
    requirements={
        "10.2.a#1": "every accepted suite uses an ephemeral key exchange",
        "10.2.c#2": "forward secrecy on every suite",
    },
    target="tls_endpoint",
    severity="high",
    rule="ANSSI-TLS §2.2 (échange de clé éphémère)",
)
def check_forward_secrecy(tls, judge):
    details = tls["suite_details"]
    legacy = [s for v, suites in tls["cipher_suites"].items() if v != "TLSv1.3" for s in suites]
    judge.each(
        "tls.forward_secrecy",
        {s: details[s]["key_exchange"] in FORWARD_SECRET for s in sorted(set(legacy))},
        observed={s: details[s]["key_exchange"] for s in sorted(set(legacy))},
    )


@check(
    "TLS-GROUPS",
    requirements={
        "10.2.a#1": "every key-exchange group meets the RGS sizes",
        "10.2.c#2": "only the guide's groups are accepted",
    },
    target="tls_endpoint",
    severity="medium",
    rule="ANSSI-TLS groupes (courbes et tailles DH)",
)
def check_groups(tls, params, judge):
    groups = (tls.get("groups") or {}).get("supported") or []
    judge.subset("tls.groups", sorted(GROUP_ALIASES.get(g, g) for g in groups), params.tls.groups_allowed)
    dh = {
        s: d["ephemeral_key"]["size"]
        for s, d in sorted(tls["suite_details"].items())
        if d.get("ephemeral_key") and d["ephemeral_key"]["type"] == "DH"
    }
    judge.each(
        "tls.dh_sizes",
        {s: size >= params.tls.min_dh_bits for s, size in dh.items()},
        observed=dh,
        at_least=params.tls.min_dh_bits,
    )


@check(
    "TLS-RENEGOTIATION",
    requirements={
        "10.2.c#4": "secure renegotiation only, never client-initiated",
    },
    target="tls_endpoint",
    severity="medium",
    rule="ANSSI-TLS §2.4 (renégociation sécurisée)",
)
def check_renegotiation(tls, judge):
    judge.equals("tls.renegotiation.secure", tls["renegotiation"]["secure"], True)
    judge.equals("tls.renegotiation.client_initiated", tls["renegotiation"]["client_initiated_accepted"], False)


@check(
    "TLS-COMPRESSION",
    requirements={
        "10.2.c#4": "TLS compression is off",
    },
    target="tls_endpoint",
    severity="medium",
    rule="ANSSI-TLS §2.4 (pas de compression)",
)
def check_compression(tls, judge):
    judge.equals("tls.compression", tls["compression"], False)


@check(
    "TLS-HSTS",
    requirements={
        "9.6.e#1": "browsers cannot be taken back to clear HTTP (HSTS)",
        "10.2.c#4": "HTTPS services send HSTS of at least one year",
    },
    target="tls_endpoint",
    severity="medium",
    rule="RFC 6797 (HSTS) sur les interfaces HTTPS",
)
def check_hsts(tls, target, params, judge):
    if not target.spec.http:
        judge.not_applicable("the endpoint does not serve HTTP")
    judge.at_least("tls.hsts.max_age", (tls.get("hsts") or {}).get("max_age"), params.tls.hsts_min_max_age)
