"""Where an S3 endpoint is, and one key per customer on it (19.2.b, 10.1.a).

The endpoint's country comes from the provider's public host name (s3.eu-west-3.amazonaws.com) or, for a private
endpoint, from the inventory site that hosts it; a host that is neither is unknown and fails. The IP registry's
country (iptocc) is a second signal with its own low-severity check: it flags, it never changes the first.
"""

from preuve.judge import check
from preuve.location import allowed_set, country_of, endpoint_region, normalise_country


def endpoint_country(ep: dict) -> str:
    region = endpoint_region(ep["provider"], ep["host"])
    if region is not None:
        return country_of(ep["provider"], region)
    if ep.get("site_country"):
        return normalise_country(ep["site_country"])
    return f"unknown (host {ep['host']} is no {ep['provider']} endpoint and no site is declared)"


@check(
    "S3-ENDPOINT-LOCATION",
    requirements={
        "19.2.b#2": "requests are processed where the endpoint is: an allowed (EU) country",
    },
    target="s3_endpoint",
    severity="critical",
    rule="SecNumCloud 19.2.b (traitement dans l'UE)",
)
def check_endpoint_location(s3_endpoint, params, judge):
    allowed = allowed_set(params.location.allowed_countries)
    judge.one_of("s3.endpoint.country", endpoint_country(s3_endpoint), allowed)


@check(
    "S3-ENDPOINT-IP-COUNTRY",
    requirements={},
    target="s3_endpoint",
    severity="low",
    rule="signal secondaire : pays d'attribution RIR des adresses (iptocc)",
)
def check_endpoint_ip_country(s3_endpoint, params, judge):
    registered = {a: c for a, c in s3_endpoint["ip_countries"].items() if c}
    if not registered:
        judge.not_applicable(f"no registry country for {sorted(s3_endpoint['ip_countries'])} (private or reserved)")
    judge.subset(
        "s3.endpoint.ip_countries",
        sorted({normalise_country(c) for c in registered.values()}),
        allowed_set(params.location.allowed_countries),
    )


@check(
    "S3-KEY-PER-CUSTOMER",
    requirements={
        "10.1.a#2": "every customer's bucket has its own KMS key, used by no other customer",
    },
    target="s3_endpoint",
    severity="high",
    rule="SecNumCloud 10.1.a (au moins une clé par commanditaire)",
)
def check_key_per_customer(s3_endpoint, judge):
    owned = {b: k for b, k in s3_endpoint["bucket_keys"].items() if k["owner"]}
    if not owned:
        judge.not_applicable("no bucket on this endpoint declares its owner")
    owners_of: dict[str, set[str]] = {}
    for k in owned.values():
        if k["kms_key"]:
            owners_of.setdefault(k["kms_key"], set()).add(k["owner"])
    judge.each(
        "s3.keys.customer_key",
        {b: bool(k["kms_key"]) for b, k in sorted(owned.items())},
        observed={b: k["kms_key"] or k["algorithm"] or "none" for b, k in sorted(owned.items())},
    )
    judge.each(
        "s3.keys.single_owner",
        {key: len(owners) == 1 for key, owners in sorted(owners_of.items())},
        observed={key: sorted(owners) for key, owners in sorted(owners_of.items())},
    )
