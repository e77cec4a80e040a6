"""`sshd -T -C` evaluated for each administrator account (the configuration an admin's login really gets)."""

from __future__ import annotations

from preuve.observe.baseline_facts import SSHD_ADMIN, parse_sshd_admin
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact(
        "sshd_admin",
        SSHD_ADMIN,
        parse_sshd_admin,
        fixture="sshd_admin",
        doc="`sshd -T -C` for each admin user",
        many_processes=True,
    ),
)
