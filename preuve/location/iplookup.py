"""Offline IP-to-country, a *secondary* signal: it flags, it never decides a location verdict.

iptocc (MIT OR Apache-2.0) ships Regional Internet Registry delegation data inside the wheel: no network, no
account, and a licence compatible with Apache-2.0. geoip2fast was considered: its data derives from MaxMind
GeoLite2 (CC BY-SA 4.0 plus MaxMind's EULA) and its last release is from 2024. An RIR country is where a block
was *assigned*, not where a server stands, hence "flag, never override".
"""

from __future__ import annotations

import ipaddress


def ip_country(address: str) -> str | None:
    """ISO alpha-2 country the address block is registered to; None for private, reserved or unknown blocks."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if not ip.is_global:
        return None
    import iptocc

    return iptocc.country_code(str(ip))
