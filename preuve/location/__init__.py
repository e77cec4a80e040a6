"""Where data is: countries, provider regions, endpoint hosts, and an offline IP-to-country second signal.

Public API (shared with the Kubernetes checks):

    EU_COUNTRIES                         frozenset of ISO alpha-2 codes of the EU-27 (EL and GR both Greece)
    normalise_country(code) -> str       "EL" -> "GR", upper-case
    is_eu(code) -> bool
    region_country(provider, region) -> str | None          None = unknown (callers must fail, not pass)
    endpoint_region(provider, host) -> str | None           region named by a public endpoint host
    ip_country(address) -> str | None    RIR country of an IP (iptocc), None for private/reserved/unknown
    normalise_s3_location(value) -> str  legacy GetBucketLocation values: None/"" -> us-east-1, "EU" -> eu-west-1
    PROVIDERS                            providers with a region table
    country_of(provider, region) -> str  for verdicts: "FR" or "unknown (aws region eu-foo-1)"
    allowed_set(codes) -> list[str]      a profile's allowed countries normalised (EL -> GR)
"""

from preuve.location.countries import EU_COUNTRIES, allowed_set, is_eu, normalise_country
from preuve.location.iplookup import ip_country
from preuve.location.regions import PROVIDERS, country_of, endpoint_region, normalise_s3_location, region_country

__all__ = [
    "EU_COUNTRIES",
    "PROVIDERS",
    "allowed_set",
    "country_of",
    "endpoint_region",
    "ip_country",
    "is_eu",
    "normalise_country",
    "normalise_s3_location",
    "region_country",
]
