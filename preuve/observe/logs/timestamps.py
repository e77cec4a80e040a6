"""The timestamp of the newest line of the system log (never its text): is the host still logging?"""

from __future__ import annotations

import re

from preuve.observe.registry import HostFact

# Only the leading timestamp words of the newest line leave the host, never the message itself. A journal store
# holding journal files is listed too (`<dir>\tjournal`): journald stamps every entry with __REALTIME_TIMESTAMP,
# microseconds since the epoch (UTC), so a journald-only host is judged on it instead of being an error.
LOG_TIMESTAMPS = (
    'for f in /var/log/syslog /var/log/messages; do [ -f "$f" ] || continue; '
    'l=$(tail -n 1 "$f") || exit 1; printf \'%s\\t%s\\n\' "$f" "$(printf \'%s\' "$l" | cut -d\' \' -f1-3)"; done; '
    'for d in /var/log/journal /run/log/journal; do [ -d "$d" ] || continue; '
    '[ -n "$(find "$d" -name \'*.journal\' 2>/dev/null | head -n 1)" ] && printf \'%s\\tjournal\\n\' "$d"; done; true'
)


JOURNAL_STAMP = "__REALTIME_TIMESTAMP (µs since the epoch, UTC)"


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def parse_log_timestamps(text: str) -> dict[str, dict]:
    """{file: {"timestamp": leading words, "year_and_zone": bool}} for the newest line of each local log."""
    out = {}
    for line in text.splitlines():
        path, _, words = line.partition("\t")
        if words == "journal":
            out[path] = {"timestamp": JOURNAL_STAMP, "year_and_zone": True, "kind": "journal"}
            continue
        first = words.split(" ", 1)[0]
        stamp = first if RFC3339.match(first) else words
        out[path] = {"timestamp": stamp, "year_and_zone": bool(RFC3339.match(first))}
    return out


HOST_FACTS = (
    HostFact(
        "log_timestamps",
        LOG_TIMESTAMPS,
        parse_log_timestamps,
        fixture="log_timestamps",
        doc="timestamp of the newest line of /var/log/syslog or messages (no message text)",
    ),
)
