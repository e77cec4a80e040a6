"""Where each bucket, its replicas and its encryption key are (19.2.b, 19.2.d, 12.5.d).

The region comes from S3 itself (HeadBucket), never from the bucket's name or the inventory, and becomes a
country through preuve.location's provider table: `eu-west-2` is London, `eu-central-2` Zurich. An unknown
region is reported as such and is never allowed.
"""

from preuve.judge import check
from preuve.location import allowed_set, country_of


@check("S3-BUCKET-LOCATION", requirements=["19.2.b", "12.5.d"], target="s3_bucket", severity="critical",
       rule="SecNumCloud 19.2.b (données stockées dans l'UE)")  # fmt: skip
def check_bucket_location(s3_bucket, params, judge):
    allowed = allowed_set(params.location.allowed_countries)
    judge.one_of("s3.bucket.country", country_of(s3_bucket["provider"], s3_bucket["region"]), allowed)


@check("S3-REPLICATION-LOCATION", requirements=["19.2.b", "12.5.d"], target="s3_bucket", severity="critical",
       rule="SecNumCloud 19.2.b (réplicas dans l'UE)")  # fmt: skip
def check_replication_location(s3_bucket, params, judge):
    destinations = s3_bucket["replication"]
    if not destinations:
        judge.not_applicable("no replication configured on this bucket")
    allowed = allowed_set(params.location.allowed_countries)
    countries = [country_of(s3_bucket["provider"], d["region"]) for d in destinations]
    judge.subset("s3.replication.countries", countries, allowed)


@check("S3-KMS-LOCATION", requirements=["19.2.d", "10.1.a"], target="s3_bucket", severity="high",
       rule="SecNumCloud 19.2.d (clés de chiffrement dans l'UE)")  # fmt: skip
def check_kms_location(s3_bucket, params, judge):
    enc = s3_bucket["encryption"]
    if not enc["kms_key"]:
        judge.not_applicable(f"no KMS key (default encryption: {enc['algorithm'] or 'none'})")
    allowed = allowed_set(params.location.allowed_countries)
    judge.one_of("s3.kms.country", country_of(s3_bucket["provider"], enc["kms_key_region"]), allowed)
