"""journald's merged configuration (storage, retention limits) as `systemd-analyze cat-config` shows it."""

from __future__ import annotations

from preuve.observe.baseline_facts import JOURNALD, parse_journald
from preuve.observe.registry import HostFact

HOST_FACTS = (HostFact("journald", JOURNALD, parse_journald, fixture="journald", doc="merged journald configuration"),)
