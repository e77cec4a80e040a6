"""The location model (preuve.location): EU-27, provider region tables, endpoint hosts, IP second signal."""

from __future__ import annotations

import pytest

from preuve.location import (
    EU_COUNTRIES,
    allowed_set,
    country_of,
    endpoint_region,
    ip_country,
    is_eu,
    normalise_s3_location,
    region_country,
)
from preuve.observe.backup.repository import public_repository, transport


def test_eu27_with_greece_both_ways_and_not_gb_ch_no():
    assert len(EU_COUNTRIES - {"EL"}) == 27
    assert is_eu("EL") and is_eu("GR") and is_eu("fr")
    for code in ("GB", "UK", "CH", "NO", "US", None):
        assert not is_eu(code)
    assert allowed_set(["EL", "FR"]) == ["FR", "GR"]


@pytest.mark.parametrize(
    ("provider", "region", "country"),
    [
        ("aws", "eu-west-3", "FR"),
        ("aws", "eu-west-2", "GB"),  # the name says "eu": London is not in the EU
        ("aws", "eu-central-2", "CH"),  # Zurich
        ("aws", "eu-central-1", "DE"),
        ("aws", "us-east-1", "US"),
        ("outscale", "eu-west-2", "FR"),  # same name, other provider, other country
        ("outscale", "cloudgouv-eu-west-1", "FR"),
        ("ovh", "uk", "GB"),
        ("ovh", "gra", "FR"),
        ("ovh", "de", "DE"),
        ("scaleway", "nl-ams", "NL"),
        ("scaleway", "pl-waw", "PL"),
    ],
)
def test_region_tables(provider, region, country):
    assert region_country(provider, region) == country


def test_unknown_region_or_provider_is_unknown_never_allowed():
    assert region_country("aws", "eu-nowhere-9") is None
    assert region_country("nocloud", "eu-west-3") is None
    assert country_of("aws", "eu-nowhere-9") == "unknown (aws region eu-nowhere-9)"
    assert country_of("aws", "eu-nowhere-9") not in allowed_set(sorted(EU_COUNTRIES))


def test_endpoint_hosts_name_their_region():
    assert endpoint_region("aws", "s3.eu-west-3.amazonaws.com") == "eu-west-3"
    assert endpoint_region("aws", "s3.dualstack.eu-central-2.amazonaws.com") == "eu-central-2"
    assert endpoint_region("ovh", "s3.uk.io.cloud.ovh.net") == "uk"
    assert endpoint_region("scaleway", "s3.fr-par.scw.cloud") == "fr-par"
    assert endpoint_region("outscale", "oos.eu-west-2.outscale.com") == "eu-west-2"
    assert endpoint_region("aws", "minio.internal.example") is None


def test_legacy_get_bucket_location_values():
    assert normalise_s3_location(None) == "us-east-1"
    assert normalise_s3_location("") == "us-east-1"
    assert normalise_s3_location("EU") == "eu-west-1"
    assert normalise_s3_location("eu-west-3") == "eu-west-3"


def test_ip_country_is_offline_and_silent_on_reserved_space():
    assert ip_country("198.18.4.20") is None  # benchmarking range: no registry country
    assert ip_country("10.0.0.1") is None
    assert ip_country("not an ip") is None
    assert ip_country("8.8.8.8") == "US"  # RIR data shipped in the iptocc wheel, no network


def test_repository_transport_and_credentials_hidden():
    assert transport("restic", "/srv/restic") == "local"
    assert transport("restic", "rest:https://backup.example/repo") == "rest+https"
    assert transport("restic", "rest:http://backup.example/repo") == "rest+http"
    assert transport("restic", "s3:http://198.18.4.20:5000/bucket") == "s3+http"
    assert transport("restic", "s3:s3.eu-west-3.amazonaws.com/bucket") == "s3+https"
    assert transport("restic", "sftp:backup@host:/srv/repo") == "sftp"
    assert transport("borg", "ssh://backup@host/./repo") == "ssh"
    assert transport("borg", "backup@host:repo") == "ssh"
    assert public_repository("rest:https://user:secret@host/repo") == "rest:https://***@host/repo"
