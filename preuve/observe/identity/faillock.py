"""Account lockout as configured: faillock.conf and sshd's PAM auth stack."""

from __future__ import annotations

from preuve.observe.baseline_facts import FAILLOCK, parse_faillock
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact("faillock", FAILLOCK, parse_faillock, fixture="faillock", doc="faillock.conf and sshd's PAM auth stack"),
)
