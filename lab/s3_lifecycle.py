"""Lifecycle rules of the lab's log buckets (seeded by preuve_lab.s3): one keeps logs 400 days (with a move to a
cold class, which keeps them), one expires them after 90 days; a rule on another prefix must not count."""

from __future__ import annotations

from typing import Any

LOG_LIFECYCLE: dict[str, list[dict[str, Any]]] = {
    "pv-logs-good": [
        {
            "ID": "logs-400d",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
            "Expiration": {"Days": 400},
        },
        {"ID": "tmp-1d", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
    ],
    "pv-logs-short": [
        {"ID": "logs-90d", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 90}},
    ],
}
