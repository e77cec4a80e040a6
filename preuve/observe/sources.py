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
        Source(
            "sshd",
            "ssh_host",
            "host",
            "sshd_effective",
            doc="effective sshd configuration per connection (`sshd -T -C` for each context Match blocks "
            "tell apart), the config files, and the methods offered after a `none` request",
        ),
        Source(
            "k8s_apiserver",
            "kubernetes",
            "k8s_cluster",
            "apiserver",
            doc="kube-apiserver flags (kube-system pod spec) and storage encryption counters (/metrics)",
        ),
        Source("k8s_probe", "kubernetes", "k8s_cluster", "probe", doc="what an unauthenticated client gets"),
        Source("k8s_rbac", "kubernetes", "k8s_cluster", "rbac", doc="ClusterRoles, Roles and their bindings"),
        Source(
            "k8s_tenants",
            "kubernetes",
            "k8s_cluster",
            "tenants",
            doc="Namespaces, NetworkPolicies, ResourceQuotas, RoleBindings",
        ),
        Source(
            "k8s_location",
            "kubernetes",
            "k8s_cluster",
            "location",
            doc="Nodes, PersistentVolumes, StorageClasses, Velero storage and snapshot locations",
        ),
        Source("k8s_velero", "kubernetes", "k8s_cluster", "velero", doc="Velero Schedules and Backups"),
        Source("ssh_canary", "ssh_mfa", "ssh_canary", doc="SSH server's answer to a canary admin's key alone"),
        Source("web_admin", "web_mfa", "web_admin", doc="web admin answers: anonymous, password alone, + TOTP"),
        Source("oidc_client", "oidc", "oidc_client", doc="IdP discovery and its answer to the canary's password grant"),
        Source(
            "lockout",
            "ssh_lockout",
            "lockout_canary",
            doc="a lockout canary: login, N failures, correct login (locked?), reset, login again",
        ),
        Source("sshd_admin", "ssh_host", "baseline_host", "sshd_admin", doc="`sshd -T -C` for each admin user"),
        Source("shadow", "ssh_host", "baseline_host", "shadow", doc="/etc/shadow: scheme, cost, shared salts"),
        Source(
            "password_hashing",
            "ssh_host",
            "baseline_host",
            "password_hashing",
            doc="login.defs ENCRYPT_METHOD and pam_unix hashing options",
        ),
        Source("journald", "ssh_host", "baseline_host", "journald", doc="merged journald configuration"),
        Source(
            "journal",
            "ssh_host",
            "baseline_host",
            "journal",
            doc="journal stores: oldest entry (file headers), disk usage, filesystem size and free space",
        ),
        Source(
            "logrotate",
            "ssh_host",
            "baseline_host",
            "logrotate",
            doc="`logrotate -d` parse, maxage, rotated files and their age",
        ),
        Source(
            "rsyslog",
            "ssh_host",
            "baseline_host",
            "rsyslog",
            doc="rsyslog forwarding actions, established connections (with processes), collector certificate check",
        ),
        Source(
            "syslog_ng",
            "ssh_host",
            "baseline_host",
            "syslog_ng",
            doc="log daemons running, syslog-ng network destinations (merged config), their log paths, "
            "TLS endpoints verified from the host",
        ),
        Source(
            "clock",
            "ssh_host",
            "baseline_host",
            "timesync",
            doc="the clock daemon running (chronyd or systemd-timesyncd), its state and configured sources",
        ),
        Source("faillock", "ssh_host", "baseline_host", "faillock", doc="faillock.conf and sshd's PAM auth stack"),
        Source(
            "log_timestamps",
            "ssh_host",
            "baseline_host",
            "log_timestamps",
            doc="timestamp of the newest line of /var/log/syslog or messages (no message text)",
        ),
        Source("segmentation", "segmentation", "vantage", doc="flow-matrix probes sent from one vantage point"),
        Source("flow_matrix", "flow_matrix", "flow_matrix", doc="the flow matrix file (13.1.a)"),
        Source(
            "public_segmentation",
            "segmentation",
            "public_vantage",
            doc="flow-matrix probes sent from a vantage point of a public zone",
        ),
        Source("listening", "ssh_host", "baseline_host", "listening", doc="listening TCP sockets (`ss -H -ltn`)"),
        Source(
            "host_firewall",
            "ssh_host",
            "baseline_host",
            "nft_ruleset",
            doc="host firewall base chains (`nft -j list ruleset`)",
        ),
        Source(
            "s3_bucket",
            "s3_bucket",
            "s3_bucket",
            "location",
            doc="S3 bucket location: region (HeadBucket), replication destinations' regions, encryption key",
        ),
        Source(
            "s3_protection",
            "s3_bucket",
            "s3_bucket",
            "protection",
            doc="S3 bucket protection: default encryption, bucket policy, versioning and object lock (backups)",
        ),
        Source(
            "s3_endpoint",
            "s3_endpoint",
            "s3_endpoint",
            doc="S3 endpoint: host, resolved addresses and their registry country, each bucket's key and owner",
        ),
        Source(
            "log_store",
            "log_store",
            "log_store",
            doc="central log store retention: S3 lifecycle, Loki /config + /runtime_config, ILM or ISM policies",
        ),
        Source(
            "host",
            "host_commands",
            "host",
            doc="out-of-tree checks: testinfra's `host` (file, package, service, run), each command it sent "
            "and the answer, over one SSH connection (preuve.observe.host.testinfra_host)",
        ),
        Source(
            "backup_repo",
            "backup",
            "backup_repo",
            doc="restic/borg repository: snapshots, encryption, restore drill, partial data check",
        ),
    )
}
