"""logrotate's parsed configuration (`logrotate -d`), maxage, and the rotated files with their age."""

from __future__ import annotations

from preuve.observe.baseline_facts import LOGROTATE, parse_logrotate
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact(
        "logrotate",
        LOGROTATE,
        parse_logrotate,
        fixture="logrotate",
        doc="`logrotate -d` parse, maxage, rotated files and their age",
    ),
)
