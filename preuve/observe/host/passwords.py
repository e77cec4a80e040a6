"""How a host stores and hashes passwords: /etc/shadow schemes and costs, login.defs and pam_unix options."""

from __future__ import annotations

from preuve.observe.baseline_facts import PASSWORD_HASHING, SHADOW, parse_password_hashing, parse_shadow
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact("shadow", SHADOW, parse_shadow, fixture="shadow", doc="/etc/shadow: scheme, cost, shared salts"),
    HostFact(
        "password_hashing",
        PASSWORD_HASHING,
        parse_password_hashing,
        fixture="password_hashing",
        doc="login.defs ENCRYPT_METHOD and pam_unix hashing options",
    ),
)
