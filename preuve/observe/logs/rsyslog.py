"""rsyslog's forwarding actions, the connections they hold, and the collector certificate check."""

from __future__ import annotations

from preuve.observe.baseline_facts import RSYSLOG, parse_rsyslog
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact(
        "rsyslog",
        RSYSLOG,
        parse_rsyslog,
        fixture="rsyslog",
        doc="rsyslog forwarding actions, established connections (with processes), collector certificate check",
    ),
)
