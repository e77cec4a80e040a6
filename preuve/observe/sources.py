"""Which collector feeds which check fixture.

A check asks for evidence by naming a fixture (`tls`, `ssh`, `sshd`, ...); the run plans exactly the
observations its selected checks need (one per collector and target; host facts batched into one SSH round
trip). To add a source: one line here, a collector in `collectors.py`, a target kind in `inputs/targets.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    fixture: str  # the fixture name checks use
    collector: str  # the collector that produces the observation
    kind: str  # the target kind it is collected on
    fact: str | None = None  # for batched host facts: which fact of the observation
    doc: str = ""


SOURCES: dict[str, Source] = {
    s.fixture: s
    for s in (
        Source("tls", "tls", "tls_endpoint", doc="TLS endpoint: accepted versions, suites, groups, certificate chain"),
        Source("ssh", "ssh_protocol", "ssh_endpoint", doc="SSH server seen from outside: banner, KEXINIT, host keys"),
        Source("sshd", "ssh_host", "host", "sshd_config", doc="effective sshd configuration (`sshd -T`)"),
    )
}
