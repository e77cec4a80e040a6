"""Provider region -> country, from data shipped with preuve (regions.yaml, endpoints.yaml)."""

from __future__ import annotations

import functools
import re
from importlib.resources import files

from preuve import yamlio


@functools.cache
def _regions() -> dict[str, dict[str, str]]:
    return yamlio.load(files(__package__).joinpath("regions.yaml").read_text())


@functools.cache
def _patterns() -> dict[str, list[re.Pattern[str]]]:
    raw = yamlio.load(files(__package__).joinpath("endpoints.yaml").read_text())
    out: dict[str, list[re.Pattern[str]]] = {}
    for provider, pats in raw.items():
        out[provider] = [
            re.compile(
                "^"
                + re.escape(p).replace(r"\{region\}", "(?P<region>[a-z0-9-]+)").replace(r"\{bucket\}", "[a-z0-9.-]+")
                + "$"
            )
            for p in pats
        ]
    return out


PROVIDERS: tuple[str, ...] = ("aws", "ovh", "scaleway", "outscale")


def region_country(provider: str, region: str | None) -> str | None:
    """Country of a provider's region, or None when the table does not know it (which must fail a check)."""
    if region is None:
        return None
    return _regions().get(provider, {}).get(region)


def endpoint_region(provider: str, host: str) -> str | None:
    """The region a public endpoint host names (s3.eu-west-3.amazonaws.com -> eu-west-3), else None."""
    for pat in _patterns().get(provider, []):
        m = pat.match(host.lower())
        if m:
            return m.group("region")
    return None


def normalise_s3_location(value: str | None) -> str:
    """GetBucketLocation's legacy answers: no constraint means us-east-1, "EU" means eu-west-1."""
    if value in (None, ""):
        return "us-east-1"
    if value == "EU":
        return "eu-west-1"
    return value


def country_of(provider: str, region: str | None) -> str:
    """For verdicts: 'FR', or 'unknown (aws region eu-foo-1)', which no allowlist contains."""
    from preuve.location.countries import normalise_country

    found = region_country(provider, region)
    return normalise_country(found) if found else f"unknown ({provider} region {region})"
