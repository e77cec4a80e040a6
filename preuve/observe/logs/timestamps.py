"""The timestamp of the newest line of the system log (never its text): is the host still logging?"""

from __future__ import annotations

from preuve.observe.baseline_facts import LOG_TIMESTAMPS, parse_log_timestamps
from preuve.observe.registry import HostFact

HOST_FACTS = (
    HostFact(
        "log_timestamps",
        LOG_TIMESTAMPS,
        parse_log_timestamps,
        fixture="log_timestamps",
        doc="timestamp of the newest line of /var/log/syslog or messages (no message text)",
    ),
)
