"""Where each bucket, its replicas and its encryption key are (19.2.b, 19.2.d, 12.5.d).

The region comes from S3 itself (HeadBucket), never from the bucket's name or the inventory, and becomes a
country through preuve.location's provider table: `eu-west-2` is London, `eu-central-2` Zurich. An unknown
region is reported as such and is never allowed.
"""

from preuve.judge import check
from preuve.location import allowed_set, country_of, normalise_country


def located(facts: dict, region: str | None) -> str:
    """The country of data on this endpoint: a self-hosted S3 (`own`) is in its site's country whatever region
    name it reports (MinIO answers us-east-1 by default); a provider's region goes through its table."""
    if facts["provider"] == "own":
        site = facts.get("site_country")
        return normalise_country(site) if site else f"unknown (self-hosted S3 {facts.get('endpoint')} has no site)"
    return country_of(facts["provider"], region)


def absent(facts: dict, judge) -> bool:
    """The endpoint answered that the declared bucket does not exist (HeadBucket 404): a finding, not an error."""
    return judge.absent("s3.bucket.exists", facts.get("absent"), "the declared bucket exists")


@check(
    "S3-BUCKET-LOCATION",
    requirements={
        "19.2.b#1": "the bucket's region is in an allowed (EU) country",
    },
    target="s3_bucket",
    severity="critical",
    rule="SecNumCloud 19.2.b (données stockées dans l'UE)",
)
def check_bucket_location(s3_bucket, params, judge):
    if absent(s3_bucket, judge):
        return
    allowed = allowed_set(params.location.allowed_countries)
    judge.one_of("s3.bucket.country", located(s3_bucket, s3_bucket["region"]), allowed)


@check(
    "S3-REPLICATION-LOCATION",
    requirements={
        "19.2.b#1": "every replication destination bucket is in an allowed (EU) country",
    },
    target="s3_bucket",
    severity="critical",
    rule="SecNumCloud 19.2.b (réplicas dans l'UE)",
)
def check_replication_location(s3_bucket, params, judge):
    if absent(s3_bucket, judge):
        return
    destinations = s3_bucket["replication"]
    if not destinations:
        judge.not_applicable("no replication configured on this bucket")
    allowed = allowed_set(params.location.allowed_countries)
    countries = [located(s3_bucket, d["region"]) for d in destinations]  # found on the same endpoint
    judge.subset("s3.replication.countries", countries, allowed)


@check(
    "S3-KMS-LOCATION",
    requirements={
        "19.2.d#1": "the bucket's KMS key is in an allowed (EU) region",
    },
    target="s3_bucket",
    severity="high",
    rule="SecNumCloud 19.2.d (clés de chiffrement dans l'UE)",
)
def check_kms_location(s3_bucket, params, judge):
    if absent(s3_bucket, judge):
        return
    enc = s3_bucket["encryption"]
    if not enc["kms_key"]:
        judge.not_applicable(f"no KMS key (default encryption: {enc['algorithm'] or 'none'})")
    allowed = allowed_set(params.location.allowed_countries)
    if s3_bucket["provider"] == "own" and enc.get("kms_key_region_source") == "key ARN":
        country = country_of("aws", enc["kms_key_region"])  # a self-hosted S3 using an AWS KMS key, by its ARN
    else:
        country = located(s3_bucket, enc["kms_key_region"])  # own: its own KMS, at its site
    judge.one_of("s3.kms.country", country, allowed)
