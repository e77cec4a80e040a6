"""Which collector feeds which check fixture.

A check asks for `tls`, `ssh` or `sshd` by naming the fixture; the run plans exactly the observations its
selected checks need (one per collector and target, host facts batched into one SSH round trip).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    fixture: str
    collector: str
    kind: str
    fact: str | None = None


SOURCES: dict[str, Source] = {
    s.fixture: s
    for s in (
        Source("tls", "tls", "tls_endpoint"),
        Source("ssh", "ssh_protocol", "ssh_endpoint"),
        Source("sshd", "ssh_host", "host", "sshd_config"),
    )
}
