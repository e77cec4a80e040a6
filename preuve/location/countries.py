"""The EU-27 as ISO 3166-1 alpha-2 codes. Greece is GR in ISO and EL in EU usage: both are accepted."""

from __future__ import annotations

EU_COUNTRIES: frozenset[str] = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "EL",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
_ALIASES = {"EL": "GR", "UK": "GB"}


def normalise_country(code: str) -> str:
    """Upper-case ISO alpha-2, with the EU's EL (and the common UK) mapped to ISO GR / GB."""
    c = code.strip().upper()
    return _ALIASES.get(c, c)


def is_eu(code: str | None) -> bool:
    """True for an EU-27 member state (GB, CH, NO and anything unknown are not)."""
    return code is not None and normalise_country(code) in EU_COUNTRIES


def allowed_set(codes: list[str]) -> list[str]:
    """A profile's allowed countries normalised (EL and GR both mean Greece), sorted."""
    return sorted({normalise_country(c) for c in codes})
