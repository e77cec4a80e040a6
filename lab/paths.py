"""Where the lab keeps its state: one directory, fixed relative paths.

The scanner, the tests and the bench read several of these files directly
(client key, known_hosts, CA certs, sshd configs, lab.json), so the layout is
part of the lab's contract and is spelled out once, here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path("/var/tmp/preuve-lab")
LOCK_FILE = Path("/run/preuve-lab.lock")
"""Global lock: the pv-* namespaces are machine-wide whatever the state dir."""


def state_dir() -> Path:
    """The lab's state directory (env ``PREUVE_LAB_DIR`` overrides).

    Lab users' homes live inside it, so every parent must be searchable by
    others (``/var/tmp`` is; a pytest ``tmp_path`` is not).
    """
    env = os.environ.get("PREUVE_LAB_DIR")
    return Path(env) if env else DEFAULT_STATE_DIR


@dataclass(frozen=True)
class LabPaths:
    """Every file the lab writes, derived from the state directory."""

    root: Path

    @classmethod
    def current(cls) -> LabPaths:
        return cls(state_dir())

    # --- contract paths (others build on these) ---
    @property
    def lab_json(self) -> Path:
        return self.root / "lab.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def auditor_key(self) -> Path:
        return self.keys / "auditor"

    @property
    def auditor_pub(self) -> Path:
        return self.keys / "auditor.pub"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def known_hosts_wrong(self) -> Path:
        return self.root / "known_hosts.wrong"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def ca_fr(self) -> Path:
        return self.pki / "ca-fr.pem"

    @property
    def ca_us(self) -> Path:
        return self.pki / "ca-us.pem"

    @property
    def sshd(self) -> Path:
        return self.root / "sshd"

    def sshd_config(self, profile: str) -> Path:
        return self.sshd / f"{profile}.conf"

    # --- internal layout ---
    def host_keys(self, profile: str) -> Path:
        return self.sshd / "hostkeys" / profile

    @property
    def pki_private(self) -> Path:
        return self.pki / "private"

    @property
    def etc(self) -> Path:
        """Private /etc files bind-mounted over the host's for the sshd."""
        return self.root / "etc"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    def nginx_config(self, profile: str) -> Path:
        return self.nginx / f"{profile}.conf"

    @property
    def nft(self) -> Path:
        return self.root / "nft"

    @property
    def router_ruleset(self) -> Path:
        return self.nft / "router.nft"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def pid_file(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"
