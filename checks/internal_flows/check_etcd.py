"""etcd judged on what it answers a client with no credentials, on both its client and its peer port."""

from preuve.judge import check


@check(
    "ETCD-CLIENT-CERT-AUTH",
    requirements={
        "13.2.b#3": "etcd client and peer ports refuse clear text and any TLS client without a certificate",
    },
    target="etcd_member",
    severity="critical",
    rule="etcd --client-cert-auth et --peer-client-cert-auth, TLS seul, sur les deux ports",
)
def check_etcd_client_cert_auth(etcd, judge):
    judge.each(
        "etcd.clear_text_refused",
        {role: not p["clear"].get("accepted") for role, p in etcd.items()},
        observed={f"{role} :{p['port']}": p["clear"]["answer"] for role, p in etcd.items()},
    )
    judge.each(
        "etcd.client_certificate_required",
        {role: not p["tls_without_client_certificate"]["accepted"] for role, p in etcd.items()},
        observed={f"{role} :{p['port']}": p["tls_without_client_certificate"]["answer"] for role, p in etcd.items()},
    )
