"""S3-TLS-ONLY judges behaviour, not only the policy's text; a self-hosted S3 (`provider: own`) is located by its site.

Both on recorded facts here (the lab proves them live: tests/lab/test_storage_both_ways.py, where the TLS-only listener
198.18.4.50:443 refuses plain HTTP and the plain moto listener answers a bucket whose policy denies clear text).
"""

from __future__ import annotations

import pytest

from preuve.exitcodes import Exit
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.storage.s3 import plain_http_urls
from preuve.results.messages import sentence
from preuve_checks.s3.check_location import check_bucket_location, check_kms_location, check_replication_location
from preuve_checks.s3.check_protection import check_tls_only
from tests.conftest import preuve

DENY = {
    "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]
}


def _failed(j: Judge) -> str:
    return "; ".join(sentence(e, e.label, "en") for e in j.failed)


def _protection(url: str, probes: list[tuple[str, bool, str]], policy=DENY) -> dict:
    return {
        "policy": policy,
        "transport": {
            "scanner_url": url,
            "scanner_scheme": url.split(":", 1)[0],
            "plain_http": [{"url": u, "accepted": a, "answer": t} for u, a, t in probes],
        },
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://s3.eu-west-3.amazonaws.com", ["http://s3.eu-west-3.amazonaws.com:80"]),
        ("https://minio.corp.example:9000", ["http://minio.corp.example:80", "http://minio.corp.example:9000"]),
        ("http://198.18.4.20:5000", ["http://198.18.4.20:5000"]),
    ],
)
def test_where_plain_http_is_tried(url, expected):
    assert plain_http_urls(url) == expected


def test_policy_text_alone_no_longer_passes_a_bucket_read_in_clear():
    """The false pass of issue 12: the policy denies SecureTransport=false, preuve read the bucket over http://."""
    j = Judge()
    check_tls_only(_protection("http://198.18.4.20:5000", [("http://198.18.4.20:5000", True, "HTTP 200")]), j)
    msg = _failed(j)
    assert "the scanner's own access to this bucket was UNENCRYPTED" in msg and "HTTP 200" in msg
    assert "s3.policy.denies_insecure_transport" not in msg  # the policy itself was fine


def test_tls_only_bucket_passes_on_policy_and_refusal():
    j = Judge()
    check_tls_only(_protection("https://s3.lab", [("http://s3.lab:80", False, "refused: HTTP 403 AccessDenied")]), j)
    assert j.expectations and not j.failed, _failed(j)


def test_refused_plain_http_without_policy_still_fails_on_the_policy():
    """Another endpoint of the provider may serve the bucket in clear: the policy is the only bucket-wide rule."""
    j = Judge()
    check_tls_only(_protection("https://s3.lab", [("http://s3.lab:80", False, "refused")], policy=None), j)
    assert [e.label for e in j.failed] == ["s3.policy.denies_insecure_transport"]


def test_https_endpoint_that_also_answers_in_clear_fails():
    j = Judge()
    check_tls_only(
        _protection(
            "https://minio.lab:9000",
            [("http://minio.lab:80", False, "refused"), ("http://minio.lab:9000", True, "HTTP 200")],
        ),
        j,
    )
    assert [e.label for e in j.failed] == ["s3.plain_http_refused"] and "http://minio.lab:9000" in _failed(j)


def test_no_probe_recorded_is_an_error_not_a_pass():
    with pytest.raises(ObservationError, match="plain-HTTP"):
        check_tls_only({"policy": DENY}, Judge())


def _bucket(
    provider: str,
    region: str,
    site_country: str | None,
    kms: str | None = None,
    source: str = "bare key id (bucket region)",
) -> dict:
    return {
        "provider": provider,
        "region": region,
        "site": "dc-1",
        "site_country": site_country,
        "endpoint": "minio",
        "replication": [{"bucket": "replica", "region": region, "status": "Enabled"}],
        "encryption": {"kms_key": kms, "kms_key_region": region if kms else None, "kms_key_region_source": source},
    }


@pytest.mark.parametrize(("site", "ok"), [("FR", True), ("GB", False)])
def test_self_hosted_s3_is_located_by_its_site_not_its_region_name(site, ok):
    """MinIO answers us-east-1: as `aws` that is the US; as `own` at a French site it is France (and a British
    site fails), for the bucket, the replicas it holds and the keys of its own KMS."""
    facts = _bucket("own", "us-east-1", site, kms="theta-key")
    for check in (check_bucket_location, check_replication_location, check_kms_location):
        j = Judge()
        check(s3_bucket=facts, params=Params(), judge=j)
        assert (not j.failed) is ok, _failed(j)
        assert j.expectations[0].observed in (site, [site])
    as_aws = Judge()
    check_bucket_location(s3_bucket=_bucket("aws", "us-east-1", "FR"), params=Params(), judge=as_aws)
    assert as_aws.failed and as_aws.expectations[0].observed == "US"


def test_self_hosted_s3_with_an_aws_kms_key_is_located_by_the_key_arn():
    facts = _bucket("own", "us-east-1", "FR", kms="arn:aws:kms:us-east-1:1:key/k", source="key ARN")
    j = Judge()
    check_kms_location(s3_bucket=facts, params=Params(), judge=j)
    assert j.failed and j.expectations[0].observed == "US"


def test_own_provider_needs_a_site_with_file_and_line(tmp_path):
    inv = tmp_path / "inventory.yaml"
    head = "version: 1\nname: own\nsites:\n  - {name: dc-1, country: FR}\ns3:\n  endpoints:\n"
    keys = "       access_key: {env: K}, secret_key: {env: S}}\n"
    inv.write_text(head + "    - {name: ceph, provider: rgw, url: 'https://rgw.corp.example',\n" + keys)
    proc = preuve("lint", "-i", inv)
    assert proc.returncode == Exit.INVALID_INPUT and f"{inv}:7: s3.endpoints[0].provider" in proc.stderr
    assert "'own'" in proc.stderr, proc.stderr  # the message lists the accepted values
    inv.write_text(
        head
        + "    - {name: minio, provider: own, url: 'https://minio.corp.example:9000',\n"
        + keys
        + "    - {name: garage, provider: own, url: 'https://garage.corp.example', site: dc-9,\n"
        + keys
    )
    proc = preuve("lint", "-i", inv)
    assert proc.returncode == Exit.INVALID_INPUT, proc.stderr
    assert f"{inv}:7: s3.endpoints[0].provider: provider 'own' (a self-hosted S3) needs 'site'" in proc.stderr
    assert f"{inv}:9: s3.endpoints[1].site: unknown site 'dc-9'" in proc.stderr, proc.stderr
    inv.write_text(inv.read_text().replace("site: dc-9", "site: dc-1").replace(":9000',", ":9000', site: dc-1,"))
    proc = preuve("lint", "-i", inv)
    assert proc.returncode == Exit.COMPLIANT, proc.stderr
