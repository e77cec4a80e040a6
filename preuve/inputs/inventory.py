"""Inventory: what to scan, where it is, and how to reach it (DESIGN.md §2).

Secrets are never inlined: a password or token is a reference to an environment variable or a file, resolved
at run time and registered with the redactor so it can never reach a report or a log.
"""

import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from preuve.inputs.errors import InputError, InputProblem, field_path
from preuve.inputs.roster import Roster, RosterFile
from preuve.inputs.roster import lint as roster_lint
from preuve.inputs.software import SoftwareInventory, SoftwareInventoryFile
from preuve.inputs.software import lint as software_lint
from preuve.inputs.source import Located, credentials_in_url, load_yaml, validate

Name = str


class Strict(BaseModel):
    # defer_build (every input model): a model's validator is built when it first validates, not at import. A run
    # validates a few top-level models (their nested models are built inside them): a validator per nested model
    # built at start-up was ~10 ms for nothing. Same schema, same errors. The input model modules do without
    # `from __future__ import annotations`: pydantic would evaluate each annotation string at import (~6 ms).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SecretRef(Strict):
    """A secret by reference: exactly one of `env` (variable name) or `file` (path)."""

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "SecretRef":
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self

    def resolve(self) -> str:
        """Read the secret; raises KeyError/OSError with a message that names the reference, not the value."""
        if self.env is not None:
            if self.env not in os.environ:
                raise KeyError(f"environment variable {self.env} is not set")
            return os.environ[self.env]
        return Path(self.file).read_text().strip()  # type: ignore[arg-type]


def _no_inline_secret(value: object) -> object:
    if isinstance(value, str):
        raise ValueError("secrets are referenced, never inlined: use {env: VAR} or {file: /path}")
    return value


def _no_url_credentials(value: object, *, user_allowed: bool = False) -> object:
    """A password, token or signature inside a URL is an inline secret like any other (and would be copied into
    inputs/ and into every observation's query): refused, and never echoed."""
    if isinstance(value, str) and credentials_in_url(value, user_allowed=user_allowed):
        raise ValueError(
            "credentials inside a URL are inline secrets: remove them and reference the secret "
            "({env: VAR} or {file: /path}) in the field made for it"
        )
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        try:
            port = urlsplit(value).port
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65535:
            raise ValueError("the URL's port is outside 1-65535")
    return value


MIN_SECRET_CHARS = 12  # the redactor's own minimum (preuve.evidence.redact)
"""Shortest secret accepted. Every resolved secret is masked wherever it appears in evidence; a shorter one
(a 7-letter access key id) also occurs by chance inside facts (a certificate's CN) and masking it there would
rewrite what a check judges. 12 is also ANSSI's minimum length for a password (recommandations relatives à
l'authentification multifacteur et aux mots de passe, R20-R21)."""


class Site(Strict):
    name: Name
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    provider: str | None = None
    city: str | None = None


class Zone(Strict):
    name: Name
    kind: Literal["admin", "production", "supervision", "dmz", "public", "backup", "other"]
    cidrs: list[str] = Field(min_length=1)
    gateways: list[str] = Field(
        [], description="router addresses in the zone (declared equipment: the live-host sweep expects them)"
    )

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for c in v:
            ipaddress.ip_network(c, strict=True)
        return v

    @field_validator("gateways")
    @classmethod
    def _gateways(cls, v: list[str]) -> list[str]:
        for a in v:
            ipaddress.ip_address(a)
        return v


class SshAccess(Strict):
    """How preuve logs in to read host facts (read-only commands such as `sshd -T`)."""

    user: str = "root"
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = None
    password: SecretRef | None = None
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    sshd_config: str | None = Field(None, description="path of sshd_config when not the default")
    jump: str | None = Field(None, description="name of another inventory host to jump through")

    @field_validator("password", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class Placed(Strict):
    """Something with a name and an address, somewhere (zone, site) and labelled (tags)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)


class Host(Placed):
    ssh: SshAccess | None = None
    data_volumes: list[str] = Field(
        [],
        description="block devices holding customer data, each to be a LUKS2 volume (10.1.a), e.g. /dev/sdb, "
        "/dev/disk/by-id/...; the scanning account needs one sudo rule per device (cryptsetup luksDump DEVICE)",
    )

    package_mirrors: list[str] | None = Field(
        None,
        description="URL prefixes package sources may use, e.g. the DMZ mirror (12.10.c); unset: SOURCES-MIRRORS "
        "is not applicable",
    )

    @field_validator("data_volumes")
    @classmethod
    def _volumes(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if not d.startswith("/dev/") or any(c.isspace() or c in "*?[" for c in d)]
        if bad:
            raise ValueError(f"data_volumes are device paths under /dev/ (no space, no wildcard): {bad}")
        return v


class TlsEndpoint(Placed):
    port: int = Field(443, ge=1, le=65535)
    sni: str | None = None
    http: bool = Field(True, description="speaks HTTP over TLS (HSTS is then checked)")
    admin: bool = Field(False, description="an administration interface (stricter checks apply)")


class SshEndpoint(Placed):
    """An SSH server checked from the outside only (no login): protocol and host keys."""

    port: int = Field(22, ge=1, le=65535)


class Scanner(Strict):
    """Where the scanner runs from; `netns` runs the whole scan inside a network namespace (the lab)."""

    netns: str | None = None
    zone: Name | None = None


class VantagePoint(Strict):
    """Where segmentation probes are sent from: the scanner itself (neither field), a network namespace on the
    scanner, or an inventory host reached over SSH."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    zone: Name
    netns: str | None = None
    ssh: Name | None = Field(None, description="inventory host to probe from (stdlib probe over SSH)")

    @model_validator(mode="after")
    def _one(self) -> "VantagePoint":
        if self.netns is not None and self.ssh is not None:
            raise ValueError("give at most one of 'netns' or 'ssh' (neither: the scanner itself)")
        return self


class Defaults(Strict):
    ssh: SshAccess | None = None
    timeout: float = Field(5.0, gt=0, le=600, description="seconds, for every network operation")


class S3Endpoint(Strict):
    """An S3 API endpoint; its country comes from the provider's endpoint host, else from its declared site.
    `own`: a self-hosted S3 (MinIO, Ceph RGW, Garage…) whose region names mean nothing: everything on it (buckets,
    replicas on it, keys of its own KMS) is located by its `site`, which it must declare."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    provider: Literal["aws", "ovh", "scaleway", "outscale", "own"]
    url: str = Field(pattern=r"^https?://[^/\s]+/?$", description="scheme://host[:port]")
    region: str = Field("us-east-1", description="region used to sign requests")
    site: Name | None = Field(None, description="inventory site hosting a private endpoint")
    access_key: SecretRef
    secret_key: SecretRef
    ca_file: str | None = None

    @field_validator("access_key", "secret_key", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class S3Bucket(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="the S3 bucket name")
    endpoint: Name
    role: Literal["customer-data", "backup", "logs"]
    owner: str | None = Field(None, description="customer owning the data (one key per customer, 10.1.a)")
    tags: list[str] = []


class S3TenantCanary(Strict):
    """A customer's own S3 key on the public object storage interface (9.6.i): it must read its tenant's buckets
    (`owner`) and nothing of the provider's (no owner, configuration backups, S3 log stores) or other customers'."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="target name in results")
    endpoint: Name = Field(description="the s3.endpoints entry whose URL the customer uses")
    tenant: str = Field(description="the customer: buckets whose `owner` is this are its own")
    access_key: SecretRef
    secret_key: SecretRef
    tags: list[str] = []

    @field_validator("access_key", "secret_key", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class S3Section(Strict):
    endpoints: list[S3Endpoint] = []
    buckets: list[S3Bucket] = []
    tenant_canaries: list[S3TenantCanary] = []


class ConfigBackup(Strict):
    """Where copies of the technical infrastructure's configuration land (17.5.a): etcd snapshots, network devices'
    configurations. Read with the S3 endpoint's (read-only) key: newest object under `prefix`, its object lock."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["etcd", "network", "other"] = Field(description="what is saved: etcd snapshots, device configs")
    endpoint: Name = Field(description="name of an s3.endpoints entry")
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: str = Field("", description="key prefix of these copies (empty: the whole bucket)")
    site: Name | None = None
    tags: list[str] = []


class Canary(Strict):
    """A file known to be in every snapshot, and the sha256 its restored copy must have."""

    path: str = Field(pattern=r"^/")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class BackupRepository(Strict):
    """A restic or borg repository, opened from the scanner (read-only, plus a restore into a scratch dir)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    tool: Literal["restic", "borg"]
    repository: str = Field(description="restic repository string or borg repository path/URL")
    password: SecretRef | None = Field(None, description="repository password; none for an unencrypted borg repo")
    site: Name = Field(description="inventory site holding the backups")
    primary_site: Name = Field(description="inventory site of the data backed up")
    canary: Canary | None = None
    scratch_dir: str | None = Field(None, description="where restore drills write (default: a temp dir)")
    backend_env: dict[str, SecretRef] = Field({}, description="backend credentials, e.g. AWS_SECRET_ACCESS_KEY")
    host: Name | None = Field(None, description="inventory host to run restic/borg on over SSH (default: the scanner)")
    tags: list[str] = []

    @field_validator("password", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("repository", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v, user_allowed=True)  # sftp:user@host:/path names a user, no secret

    @field_validator("backend_env", mode="before")
    @classmethod
    def _inline_env(cls, v: object) -> object:
        for value in (v or {}).values() if isinstance(v, dict) else ():
            _no_inline_secret(value)
        return v


class SshCanary(Strict):
    """A canary administrator whose key alone must NOT open an SSH session (MFA enforced, 9.6.f)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    port: int = Field(22, ge=1, le=65535)
    known_hosts: str = Field(description="the server's host key must be known: a canary key is never offered blind")
    user: str
    private_key: SecretRef = Field(description="the canary's private key, by reference ({file: path})")
    totp: SecretRef | None = Field(None, description="base32 TOTP seed: the right code is tried too (RFC 6238)")
    totp_lookahead: int = Field(1, ge=0, le=10, description="TOTP steps ahead the server accepts (pam_oath window)")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("private_key", "totp", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v)


class OidcAdminClient(Strict):
    """The OIDC client an admin interface logs in through: its password grant must be refused (9.6.f, 9.6.h)."""

    issuer: str = Field(pattern=r"^https://[^?#\s]+$", description="issuer URL (discovery at /.well-known/...)")
    client_id: str = Field(min_length=1)
    client_secret: SecretRef | None = Field(None, description="for a confidential client, by reference")
    ca_file: str | None = Field(None, description="CA bundle to verify the IdP (default: the web admin's ca_file)")
    scope: str = Field("openid", description="scope requested with the password grant")
    redirect_uri: str | None = Field(
        None,
        pattern=r"^https://[^?#\s]+$",
        description="the client's registered redirect URI: when given, the browser login's code step is probed",
    )

    @field_validator("client_secret", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("issuer", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class WebAdmin(Strict):
    """A web administration interface and its canary account (password and TOTP seed by reference only)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(pattern=r"^https://", description="an admin page, e.g. https://admin.example/admin/")
    login_url: str = Field(pattern=r"^https://", description="where the login form posts")
    ca_file: str | None = Field(None, description="CA bundle to verify the server (default: the system's)")
    user: str
    password: SecretRef
    totp: SecretRef | None = Field(None, description="base32 TOTP seed of the canary (RFC 6238)")
    totp_lookahead: int = Field(1, ge=0, le=10, description="TOTP steps ahead the application accepts")
    oidc: OidcAdminClient | None = Field(None, description="its IdP client: the canary's password grant is tried")
    fields: dict[str, str] = Field(
        {"user": "username", "password": "password", "otp": "otp"}, description="form field names"
    )
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("password", "totp", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("url", "login_url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class LockoutCanary(Strict):
    """A dedicated account LOCK-ACTIVE locks on purpose (9.5.b), then resets with the host's scanning account.

    Never an account anything else uses: it is locked for the length of the probe. Its key and TOTP seed are
    references; the reset is `sudo -n faillock [--dir D] --user U --reset`, allowed by a sudo rule for exactly
    that command line.
    """

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    host: Name = Field(description="inventory host (address, known_hosts, and the scanning account that resets)")
    user: str = Field(pattern=r"^[a-z_][a-z0-9_.-]*$", description="the canary account, dedicated to this probe")
    private_key: SecretRef = Field(description="the canary's private key, by reference ({file: path})")
    totp: SecretRef | None = Field(None, description="base32 TOTP seed, if the server asks a code after the key")
    totp_lookahead: int = Field(1, ge=0, le=10, description="TOTP steps ahead the server accepts (pam_oath window)")
    faillock_dir: str | None = Field(None, description="pam_faillock dir= when not the default /var/run/faillock")
    tags: list[str] = []

    @field_validator("private_key", "totp", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class Baseline(Strict):
    """Access, hygiene, logs and time (issue 5): which hosts are judged and the canaries that prove MFA."""

    host_tags: list[str] | None = Field(
        None, description="hosts carrying one of these tags are judged (default: every host with SSH access)"
    )
    ssh_canaries: list[SshCanary] = []
    web_admins: list[WebAdmin] = []
    lockout_canaries: list[LockoutCanary] = []
    roster: Roster | RosterFile | None = Field(
        None,
        description="declared active administrators and technical accounts (9.2.c, 9.4.a, 9.4.c, 9.5.d), inline or "
        "{file: roster.yaml}",
    )
    software_inventory: SoftwareInventory | SoftwareInventoryFile | None = Field(
        None,
        description="declared software inventory: packages and versions per host or host tag (8.1.b), inline or "
        "{file: software.yaml}",
    )


class IdentityCanary(Strict):
    """An administrator account of one side (provider or customer), by reference: it must open the login of its
    own side's consoles and be refused by the other side's (9.6.c, 9.6.d)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    audience: Literal["provider", "customer"]
    user: str
    password: SecretRef
    fields: dict[str, str] = Field({"user": "username", "password": "password"}, description="login form fields")

    @field_validator("password", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class AdminConsole(Strict):
    """An administration console and whose it is: the provider's or the one offered to customers (9.6.a-c); or, in
    a SaaS, the interface its end users log in to (`end-user`, 9.6.g: distinct from the customers' admin consoles)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    audience: Literal["provider", "customer", "end-user"]
    url: str = Field(pattern=r"^https://", description="a page that sends an anonymous visitor to its IdP's login")
    ca_file: str | None = Field(None, description="CA bundle verifying the console and its IdP")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class AdminPlane(Strict):
    """An administration plane: the provider's consoles, those offered to customers, and one canary administrator
    per side (9.6.a-d). One target: its consoles are judged against each other."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    consoles: list[AdminConsole] = Field(min_length=2)
    canaries: list[IdentityCanary] = []


class KubeTenant(Strict):
    """A customer of the CaaS offer and the namespaces that are its own (9.7: isolation between tenants)."""

    name: Name
    namespaces: list[str] = Field(min_length=1)


class KubeTenantCanary(Strict):
    """A token of one tenant, as a customer gets it from the CaaS public API (9.6.j): it must read its own
    namespaces and nothing of the provider's or another tenant's. By reference only; used for GET requests."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="target name in results")
    tenant: Name = Field(description="the tenant (kubernetes.clusters[].tenants) the token belongs to")
    token: SecretRef

    @field_validator("token", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)


class KubeCluster(Strict):
    """A Kubernetes cluster read through its API (GET only): a kubeconfig (and context), or server + CA + token."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    server: str | None = Field(None, pattern=r"^https://[^/\s]+/?$", description="https://host:port of the API")
    ca_file: str | None = Field(None, description="cluster CA bundle (with `server`)")
    token: SecretRef | None = Field(None, description="bearer token of a read-only account (with `server`)")
    kubeconfig: str | None = Field(None, description="kubeconfig file (instead of server/ca_file/token)")
    context: str | None = Field(None, description="kubeconfig context (default: the current one)")
    provider: Literal["aws", "ovh", "scaleway", "outscale"] | None = Field(
        None, description="region table for node, volume and Velero regions (unknown region = fail)"
    )
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []
    tenants: list[KubeTenant] = []
    admins: list[str] = Field(
        ["Group:system:masters"], description="subjects allowed cluster-admin, as Kind:name (9.3.c)"
    )
    image_registries: list[str] | None = Field(
        None,
        description="image reference prefixes workloads may use, e.g. registry.example.eu/platform/ (12.10.a); "
        "unset: K8S-IMAGES-ALLOWED is not applicable",
    )
    velero_namespace: str = "velero"
    velero: bool = Field(True, description="the cluster is expected to be backed up by Velero")
    provider_namespaces: list[str] = Field(
        ["kube-system"], description="namespaces of the provider's own resources (a tenant canary must not read them)"
    )
    tenant_canaries: list[KubeTenantCanary] = []

    @field_validator("token", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("server", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)

    @model_validator(mode="after")
    def _access(self) -> "KubeCluster":
        if (self.server is None) == (self.kubeconfig is None):
            raise ValueError("give exactly one of 'server' (with ca_file and token) or 'kubeconfig'")
        if self.kubeconfig is not None and (self.token or self.ca_file):
            raise ValueError("'token' and 'ca_file' go with 'server'; a kubeconfig carries its own")
        return self


class KubernetesSection(Strict):
    clusters: list[KubeCluster] = []


class LogStore(Strict):
    """A central log store whose retention is read from its API (12.6.c): an S3 bucket (lifecycle rules under a
    prefix, through an `s3.endpoints` entry), Loki (`/config`, `/runtime_config`), Elasticsearch (ILM) or
    OpenSearch (ISM) with the index patterns that hold logs."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["s3", "loki", "elasticsearch", "opensearch"]
    url: str | None = Field(None, pattern=r"^https?://[^/\s]+/?$", description="scheme://host[:port] (HTTP kinds)")
    ca_file: str | None = Field(None, description="CA bundle to verify the server (default: the system's)")
    user: str | None = Field(None, description="basic-auth user of a read-only account")
    password: SecretRef | None = None
    api_key: SecretRef | None = Field(None, description="Elasticsearch/OpenSearch API key (instead of user/password)")
    tenant: str | None = Field(None, description="Loki tenant (X-Scope-OrgID) to judge; default every tenant")
    indices: list[str] = Field([], description="index patterns holding logs, e.g. logs-* (Elasticsearch, OpenSearch)")
    endpoint: Name | None = Field(None, description="name of an s3.endpoints entry (kind s3)")
    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="S3 bucket (kind s3)")
    prefix: str = Field("", description="S3 key prefix of the logs (empty: the whole bucket)")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("password", "api_key", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        return _no_inline_secret(v)

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "LogStore":
        if self.kind == "s3":
            missing = [f for f in ("endpoint", "bucket") if getattr(self, f) is None]
            extra = [f for f in ("url", "user", "password", "api_key", "tenant", "ca_file") if getattr(self, f)]
            extra += ["indices"] if self.indices else []
        else:
            missing = ["url"] if self.url is None else []
            missing += ["indices"] if self.kind != "loki" and not self.indices else []
            extra = [f for f in ("endpoint", "bucket", "prefix") if getattr(self, f)]
            extra += ["indices"] if self.kind == "loki" and self.indices else []
            extra += ["tenant"] if self.kind != "loki" and self.tenant else []
            if (self.user is None) != (self.password is None):
                raise ValueError("give both 'user' and 'password' (basic auth), or neither")
        if missing:
            raise ValueError(f"kind {self.kind} needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"{', '.join(extra)}: not used by kind {self.kind}")
        return self


class EtcdMember(Placed):
    """An etcd member (the Kubernetes control plane's store, 13.2.b): its client and peer ports must refuse clear
    text and any client without a certificate of the cluster's CA."""

    client_port: int = Field(2379, ge=1, le=65535)
    peer_port: int = Field(2380, ge=1, le=65535)
    ca_file: str | None = Field(None, description="the etcd CA, to verify the member's own certificate")


class IpsecGateway(Strict):
    """A strongSwan gateway read through swanctl (10.2.d, 13.2.b): on the scanner itself, or on `host` over SSH
    (an account that may use the vici socket: root, or the socket's group)."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    host: Name | None = Field(None, description="inventory host running charon (default: the scanner)")
    vici_uri: str | None = Field(None, pattern=r"^unix:///[^\s'\"]+$", description="vici socket, when not the default")
    config_files: list[str] = Field(
        ["/etc/swanctl/swanctl.conf"],
        description="swanctl.conf files whose proposals are judged (the vici listing has none); `secrets` are dropped",
    )
    tunnels: list[str] = Field([], description="connections that must be up (an IKE SA and an installed CHILD SA)")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("config_files")
    @classmethod
    def _paths(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if not p.startswith("/") or any(c.isspace() or c in "'\"$`;&|*?" for c in p)]
        if bad:
            raise ValueError(f"config_files are absolute paths without spaces or shell characters: {bad}")
        return v


class IdsSensor(Strict):
    """An intrusion detection sensor (Suricata, Zeek...) and where its events land: a Loki stream selector."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    engine: Literal["suricata", "zeek", "other"] = "suricata"
    store: Name = Field(description="the log_stores entry (kind loki) its events are shipped to")
    selector: str = Field(
        pattern=r"^\{.+\}$", description='LogQL stream selector of its events, e.g. {job="suricata", host="ids-1"}'
    )


class Interconnection(Strict):
    """A link of the service's information system with a third party or a public network (13.3.a): each must be
    watched by a detection sensor whose events reach the central store."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["internet", "third-party", "other"]
    zone: Name | None = None
    site: Name | None = None
    sensors: list[IdsSensor] = []
    tags: list[str] = []


class Bmc(Placed):
    """A baseboard management controller (IPMI, Redfish): the provider's administration equipment (9.7.c). Probed
    from every vantage point: IPMI on 623/udp, its web console, and kept out of production and customer zones."""

    web_port: int = Field(443, ge=1, le=65535, description="port of its web console")


class Management(Strict):
    """The administration plane as the network sees it (13.2.c, 9.7.c): BMCs, and what the clear-text protocol
    probes may send (an SNMP community is a secret by reference; `public` and `private` are always tried)."""

    bmcs: list[Bmc] = []
    snmp_communities: list[SecretRef] = Field(
        [], description="canary communities tried besides public and private (by reference; named by position)"
    )
    ftp_probe_user: str = Field(
        "preuve-probe",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
        description="user name sent with FTP USER to see whether a login goes on in clear (no password is sent)",
    )

    @field_validator("snmp_communities", mode="before")
    @classmethod
    def _inline(cls, v: object) -> object:
        for value in v if isinstance(v, list) else ():
            _no_inline_secret(value)
        return v


class EgressCanary(Strict):
    """An address outside the service's perimeter that answers HTTP with a page holding `marker` (12.14.a).
    `through_proxy: allowed` is a destination the proxies must let through (it also proves the canary is alive);
    `refused` is one they must refuse. No zone may reach either directly."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(pattern=r"^http://[^/\s:]+(:\d+)?(/\S*)?$", description="http://address[:port]/path")
    marker: str = Field("preuve-egress-canary", min_length=8, description="text the canary's page contains")
    through_proxy: Literal["allowed", "refused"] = "refused"

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class EgressProxy(Strict):
    """A forward proxy outbound flows must go through (12.14.a), tried from one vantage point that uses it."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(pattern=r"^http://[^/\s:]+:\d+/?$", description="http://address:port of the proxy")
    vantage: Name = Field(description="the vantage point (a network namespace or an SSH host) it is used from")
    tags: list[str] = []

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class Egress(Strict):
    canaries: list[EgressCanary] = []
    proxies: list[EgressProxy] = []


class WafEndpoint(Strict):
    """A public endpoint a web application firewall must protect (13.2.d): a harmless attack pattern (profile
    `network.waf_probes`) sent to it must be blocked, a plain request must not."""

    name: Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(pattern=r"^https?://[^/\s]+(/\S*)?$", description="a page of the endpoint, e.g. https://app/")
    ca_file: str | None = Field(None, description="CA bundle to verify the server (https)")
    zone: Name | None = None
    site: Name | None = None
    tags: list[str] = []

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> object:
        return _no_url_credentials(v)


class Inventory(Strict):
    version: Literal[1] = 1
    name: Name
    scanner: Scanner = Scanner()
    defaults: Defaults = Defaults()
    sites: list[Site] = []
    zones: list[Zone] = []
    hosts: list[Host] = []
    tls_endpoints: list[TlsEndpoint] = []
    ssh_endpoints: list[SshEndpoint] = []
    flow_matrix: str | None = None
    vantage_points: list[VantagePoint] = []
    s3: S3Section = S3Section()
    backups: list[BackupRepository] = []
    baseline: Baseline = Baseline()
    kubernetes: KubernetesSection = KubernetesSection()
    log_stores: list[LogStore] = []
    config_backups: list[ConfigBackup] = []
    admin_planes: list[AdminPlane] = []
    management: Management = Management()
    egress: Egress = Egress()
    waf_endpoints: list[WafEndpoint] = []
    interconnections: list[Interconnection] = []
    etcd_members: list[EtcdMember] = []
    ipsec_gateways: list[IpsecGateway] = []


_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _check_address(v: str) -> str:
    """An IP address, or a DNS name (RFC 1123 labels; a name whose last label is all digits, such as
    999.1.1.1, is a mistyped address, never a name: RFC 3696 section 2)."""
    try:
        ipaddress.ip_address(v)
        return v
    except ValueError:
        pass
    labels = v[:-1].split(".") if v.endswith(".") else v.split(".")
    if not v or len(v) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("expected an IP address or a DNS name")
    if labels[-1].isdigit():
        raise ValueError("not a valid IP address (each IPv4 part is 0-255), and a DNS name cannot end in digits")
    return v


def _cross_checks(inv: Inventory, located: Located) -> list[InputProblem]:
    """Rules that span several entries: unique names, known zones and sites, jump hosts."""
    problems: list[InputProblem] = []

    def add(loc: tuple, msg: str) -> None:
        problems.append(InputProblem(located.path, located.line_of(loc), field_path(loc), msg))

    zones = {z.name for z in inv.zones}
    sites = {s.name for s in inv.sites}
    seen: dict[str, tuple] = {}
    for section in ("hosts", "tls_endpoints", "ssh_endpoints"):
        for i, item in enumerate(getattr(inv, section)):
            key = (section, i, "name")
            if item.name in seen and seen[item.name][0] == section:
                add(key, f"duplicate name {item.name!r} (first at line {located.line_of(seen[item.name])})")
            seen.setdefault(item.name, key)
            if item.zone is not None and item.zone not in zones:
                add(
                    (section, i, "zone"),
                    f"unknown zone {item.zone!r}; declared zones: {sorted(zones) or 'none'}",
                )
            if item.site is not None and item.site not in sites:
                add(
                    (section, i, "site"),
                    f"unknown site {item.site!r}; declared sites: {sorted(sites) or 'none'}",
                )
    _unique_target_names(inv, located, add)
    host_names = {h.name for h in inv.hosts}
    for i, h in enumerate(inv.hosts):
        if h.ssh and h.ssh.jump is not None and h.ssh.jump not in host_names:
            add(("hosts", i, "ssh", "jump"), f"jump host {h.ssh.jump!r} is not an inventory host")
    for i, z in enumerate(inv.zones):
        for j, other in enumerate(inv.zones[:i]):
            for c in z.cidrs:
                for d in other.cidrs:
                    if ipaddress.ip_network(c).overlaps(ipaddress.ip_network(d)):
                        add(
                            ("zones", i, "cidrs"),
                            f"{c} overlaps {d} of zone {other.name!r} (line {located.line_of(('zones', j))})",
                        )
    _storage_checks(inv, add, sites)
    _admin_identity_checks(inv, add, zones, sites)
    _interconnection_checks(inv, add, zones, sites)
    for i, g in enumerate(inv.ipsec_gateways):
        if g.host is not None and g.host not in {h.name for h in inv.hosts}:
            add(("ipsec_gateways", i, "host"), f"unknown host {g.host!r}; swanctl runs there over SSH")
    _lockout_checks(inv, add)
    if isinstance(inv.baseline.roster, Roster):
        roster_lint(inv.baseline.roster, ("baseline", "roster"), add)
    if isinstance(inv.baseline.software_inventory, SoftwareInventory):
        software_lint(inv.baseline.software_inventory, ("baseline", "software_inventory"), add)
    _kubernetes_checks(inv, add, zones, sites)
    _admin_network_checks(inv, add, zones, sites)
    from preuve.inputs.log_stores import log_store_checks

    log_store_checks(inv, add, zones, sites)
    from preuve.inputs.flows import network_checks

    return problems + network_checks(inv, located.path, add)


def _admin_network_checks(inv: Inventory, add: Callable[[tuple, str], None], zones: set[str], sites: set[str]) -> None:
    """BMCs in known zones and sites; egress names unique, each proxy tried from a declared vantage point and able
    to show a canary it lets through (else a refused direct connection could be a dead canary)."""
    for i, b in enumerate(inv.management.bmcs):
        if b.zone is not None and b.zone not in zones:
            add(
                ("management", "bmcs", i, "zone"), f"unknown zone {b.zone!r}; declared zones: {sorted(zones) or 'none'}"
            )
        if b.site is not None and b.site not in sites:
            add(
                ("management", "bmcs", i, "site"), f"unknown site {b.site!r}; declared sites: {sorted(sites) or 'none'}"
            )
    for section in ("canaries", "proxies"):
        names: set[str] = set()
        for i, item in enumerate(getattr(inv.egress, section)):
            if item.name in names:
                add(("egress", section, i, "name"), f"duplicate name {item.name!r}")
            names.add(item.name)
    vantages = {v.name for v in inv.vantage_points}
    for i, p in enumerate(inv.egress.proxies):
        if p.vantage not in vantages:
            add(
                ("egress", "proxies", i, "vantage"),
                f"unknown vantage point {p.vantage!r}; declared: {sorted(vantages)}",
            )
    if inv.egress.proxies and not any(c.through_proxy == "allowed" for c in inv.egress.canaries):
        add(
            ("egress", "proxies"),
            "declare at least one egress canary with through_proxy: allowed: it proves the proxy and the canary work",
        )
    for i, w in enumerate(inv.waf_endpoints):
        if w.zone is not None and w.zone not in zones:
            add(("waf_endpoints", i, "zone"), f"unknown zone {w.zone!r}; declared zones: {sorted(zones) or 'none'}")
        if w.site is not None and w.site not in sites:
            add(("waf_endpoints", i, "site"), f"unknown site {w.site!r}; declared sites: {sorted(sites) or 'none'}")


TARGET_SECTIONS: tuple[tuple[str, ...], ...] = (
    ("hosts",),
    ("tls_endpoints",),
    ("ssh_endpoints",),
    ("baseline", "ssh_canaries"),
    ("baseline", "web_admins"),
    ("baseline", "lockout_canaries"),
    ("vantage_points",),
    ("egress", "proxies"),
    ("waf_endpoints",),
    ("s3", "endpoints"),
    ("s3", "buckets"),
    ("backups",),
    ("kubernetes", "clusters"),
    ("log_stores",),
    ("s3", "tenant_canaries"),
    ("config_backups",),
    ("admin_planes",),
    ("interconnections",),
    ("etcd_members",),
    ("ipsec_gateways",),
)


def _unique_target_names(inv: Inventory, located: Located, add: Callable[[tuple, str], None]) -> None:
    """A target name is its identity in results, junit.xml and the evidence file names: unique across the whole
    inventory, whatever the section (a host is also judged as an ssh_endpoint under its own name, a web admin's
    IdP client as `<name>-oidc`). Duplicates inside one section are reported by that section's own rule."""
    first: dict[str, tuple] = {}
    for section in TARGET_SECTIONS:
        items: object = inv
        for part in section:
            items = getattr(items, part)
        for i, item in enumerate(items):  # type: ignore[arg-type]
            names = [item.name] + ([f"{item.name}-oidc"] if getattr(item, "oidc", None) is not None else [])
            for name in names:
                loc = (*section, i, "name")
                if name in first and first[name][:-2] != section:
                    other = first[name]
                    add(
                        loc,
                        f"target name {name!r} is already used by {field_path(other[:-1])} (line "
                        f"{located.line_of(other)}): target names are unique across the inventory",
                    )
                first.setdefault(name, loc)


def _secret_refs(value: object, here: tuple) -> list[tuple[tuple, SecretRef]]:
    """Every secret reference in the inventory, with its field path."""
    if isinstance(value, SecretRef):
        return [(here, value)]
    if isinstance(value, BaseModel):
        return [r for k in type(value).model_fields for r in _secret_refs(getattr(value, k), (*here, k))]
    if isinstance(value, (list, tuple)):
        return [r for i, v in enumerate(value) for r in _secret_refs(v, (*here, i))]
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _secret_refs(v, (*here, k))]
    return []


def _short_secrets(inv: Inventory, add: Callable[[tuple, str], None], written: str = "") -> None:
    """A secret shorter than MIN_SECRET_CHARS cannot be masked safely (see there): refused, naming its reference,
    never its value. So is a secret also written in clear in the inventory (`written`, its text: a target name, a
    user, a comment): the inventory is copied into every run's inputs/ and names its evidence files, so it would
    leak there whatever the redactor does. A reference that cannot be read here (a CI job without the secret) is
    checked at run time (its length only)."""
    for loc, ref in _secret_refs(inv, ()):
        try:
            value = ref.resolve()
        except (KeyError, OSError, UnicodeDecodeError):
            continue
        if "PRIVATE KEY" in value:
            continue  # a key file: masked by its PEM shape and by its body's lines
        if 0 < len(value) < MIN_SECRET_CHARS:
            source = f"env {ref.env}" if ref.env is not None else f"file {ref.file}"
            add(
                loc,
                f"the secret in {source} is shorter than {MIN_SECRET_CHARS} characters: too short to be "
                "masked safely in evidence (it would also mask ordinary text); use a longer one",
            )
        elif value and value in written:
            source = f"env {ref.env}" if ref.env is not None else f"file {ref.file}"
            add(
                loc,
                f"the secret in {source} is also written in clear in this inventory (a name, a user, a URL or "
                "a comment): it would be copied into every run's inputs/; it is no secret, use another",
            )


def _kubernetes_checks(inv: Inventory, add: Callable[[tuple, str], None], zones: set[str], sites: set[str]) -> None:
    """Cluster names unique, zones and sites known, a namespace owned by one tenant only, admins as Kind:name."""
    names: set[str] = set()
    for i, c in enumerate(inv.kubernetes.clusters):
        at = ("kubernetes", "clusters", i)
        if c.name in names:
            add((*at, "name"), f"duplicate cluster name {c.name!r}")
        names.add(c.name)
        if c.zone is not None and c.zone not in zones:
            add((*at, "zone"), f"unknown zone {c.zone!r}; declared zones: {sorted(zones) or 'none'}")
        if c.site is not None and c.site not in sites:
            add((*at, "site"), f"unknown site {c.site!r}; declared sites: {sorted(sites) or 'none'}")
        owner: dict[str, str] = {}
        for j, t in enumerate(c.tenants):
            for k, ns in enumerate(t.namespaces):
                if ns in owner:
                    add((*at, "tenants", j, "namespaces", k), f"namespace {ns!r} already belongs to {owner[ns]!r}")
                owner.setdefault(ns, t.name)
        for j, k in enumerate(c.tenant_canaries):
            if k.tenant not in {t.name for t in c.tenants}:
                known = sorted(t.name for t in c.tenants) or "none"
                add((*at, "tenant_canaries", j, "tenant"), f"unknown tenant {k.tenant!r}; tenants of {c.name}: {known}")
        for j, ns in enumerate(c.provider_namespaces):
            if ns in owner:
                add((*at, "provider_namespaces", j), f"namespace {ns!r} belongs to tenant {owner[ns]!r}")
        for j, a in enumerate(c.admins):
            if a.partition(":")[0] not in ("User", "Group", "ServiceAccount") or not a.partition(":")[2]:
                add((*at, "admins", j), f"{a!r}: expected User:name, Group:name or ServiceAccount:namespace/name")


def _interconnection_checks(
    inv: Inventory, add: Callable[[tuple, str], None], zones: set[str], sites: set[str]
) -> None:
    """Known zones and sites; each sensor's store is a declared Loki log store (the only store queried for events)."""
    stores = {s.name: s.kind for s in inv.log_stores}
    for i, ic in enumerate(inv.interconnections):
        at = ("interconnections", i)
        if ic.zone is not None and ic.zone not in zones:
            add((*at, "zone"), f"unknown zone {ic.zone!r}; declared zones: {sorted(zones) or 'none'}")
        if ic.site is not None and ic.site not in sites:
            add((*at, "site"), f"unknown site {ic.site!r}; declared sites: {sorted(sites) or 'none'}")
        for j, s in enumerate(ic.sensors):
            if stores.get(s.store) != "loki":
                loki = sorted(n for n, k in stores.items() if k == "loki") or "none"
                add((*at, "sensors", j, "store"), f"{s.store!r} is no declared Loki log store; Loki stores: {loki}")


def _admin_identity_checks(inv: Inventory, add: Callable[[tuple, str], None], zones: set[str], sites: set[str]) -> None:
    """Both sides in each plane, a canary of each side, names unique."""
    for n, plane in enumerate(inv.admin_planes):
        at = ("admin_planes", n)
        names: set[str] = set()
        for i, c in enumerate(plane.canaries):
            if c.name in names:
                add((*at, "canaries", i, "name"), f"duplicate canary name {c.name!r}")
            names.add(c.name)
        for i, c in enumerate(plane.consoles):
            if c.zone is not None and c.zone not in zones:
                add((*at, "consoles", i, "zone"), f"unknown zone {c.zone!r}; declared zones: {sorted(zones) or 'none'}")
            if c.site is not None and c.site not in sites:
                add((*at, "consoles", i, "site"), f"unknown site {c.site!r}; declared sites: {sorted(sites) or 'none'}")
        sides = {c.audience for c in plane.consoles} - {"end-user"}
        if sides != {"provider", "customer"}:
            add(
                (*at, "consoles"),
                f"declare consoles of both audiences (provider and customer): only {sorted(sides)} found",
            )
        for side in ("provider", "customer"):
            if not any(k.audience == side for k in plane.canaries):
                add((*at, "canaries"), f"no {side} canary: the other side's consoles cannot be tried with one")


def _lockout_checks(inv: Inventory, add: Callable[[tuple, str], None]) -> None:
    """A lockout canary names an inventory host preuve logs in to (to reset the lock) and is probed once."""
    from preuve.inputs.targets import effective_ssh

    hosts = {h.name: h for h in inv.hosts}
    names: set[str] = set()
    for i, c in enumerate(inv.baseline.lockout_canaries):
        at = ("baseline", "lockout_canaries", i)
        if c.name in names:
            add((*at, "name"), f"duplicate lockout canary name {c.name!r}")
        names.add(c.name)
        if c.host not in hosts:
            add((*at, "host"), f"unknown host {c.host!r}; inventory hosts: {sorted(hosts) or 'none'}")
        elif (ssh := effective_ssh(hosts[c.host], inv)) is None:
            add((*at, "host"), f"host {c.host!r} has no ssh access: nobody could reset the lock")
        elif c.user == ssh.user:
            add((*at, "user"), f"{c.user!r} is the scanning account of {c.host!r}: use a dedicated canary account")
        shared = [
            m.name
            for m in inv.baseline.ssh_canaries
            if c.host in hosts and m.address == hosts[c.host].address and m.user == c.user
        ]
        if shared:
            add((*at, "user"), f"{c.user!r} is also the MFA canary {shared[0]!r}: a lockout canary must be dedicated")


def _storage_checks(inv: Inventory, add: Callable[[tuple, str], None], sites: set[str]) -> None:
    """S3 endpoints, buckets and backup repositories: unique names, known endpoints and sites."""
    endpoints = {e.name for e in inv.s3.endpoints}
    for section, items in (("endpoints", inv.s3.endpoints), ("buckets", inv.s3.buckets)):
        names: set[str] = set()
        for i, item in enumerate(items):
            if item.name in names:
                add(("s3", section, i, "name"), f"duplicate name {item.name!r}")
            names.add(item.name)
    for i, e in enumerate(inv.s3.endpoints):
        if e.provider == "own" and e.site is None:
            add(
                ("s3", "endpoints", i, "provider"),
                "provider 'own' (a self-hosted S3) needs 'site': its buckets are "
                f"located in that site's country; declared sites: {sorted(sites) or 'none'}",
            )
        if e.site is not None and e.site not in sites:
            add(("s3", "endpoints", i, "site"), f"unknown site {e.site!r}; declared sites: {sorted(sites) or 'none'}")
    for i, b in enumerate(inv.s3.buckets):
        if b.endpoint not in endpoints:
            add(("s3", "buckets", i, "endpoint"), f"unknown endpoint {b.endpoint!r}; declared: {sorted(endpoints)}")
    located_items: tuple[tuple[tuple[str, ...], list], ...] = (
        (("s3", "tenant_canaries"), inv.s3.tenant_canaries),
        (("config_backups",), inv.config_backups),
    )
    for section, items in located_items:
        for i, item in enumerate(items):
            if item.endpoint not in endpoints:
                add((*section, i, "endpoint"), f"unknown endpoint {item.endpoint!r}; declared: {sorted(endpoints)}")
    for i, k in enumerate(inv.s3.tenant_canaries):
        if not any(b.owner == k.tenant and b.endpoint == k.endpoint for b in inv.s3.buckets):
            add(
                ("s3", "tenant_canaries", i, "tenant"),
                f"no bucket of endpoint {k.endpoint!r} has owner {k.tenant!r}: the canary's key must read a bucket "
                "of its own (a key that reads nothing proves nothing)",
            )
    for i, c in enumerate(inv.config_backups):
        if c.site is not None and c.site not in sites:
            add(("config_backups", i, "site"), f"unknown site {c.site!r}; declared sites: {sorted(sites)}")
    names = set()
    for i, r in enumerate(inv.backups):
        if r.name in names:
            add(("backups", i, "name"), f"duplicate name {r.name!r}")
        names.add(r.name)
        for field in ("site", "primary_site"):
            if getattr(r, field) not in sites:
                add(("backups", i, field), f"unknown site {getattr(r, field)!r}; declared sites: {sorted(sites)}")
        if r.host is not None and r.host not in {h.name for h in inv.hosts}:
            add(("backups", i, "host"), f"unknown host {r.host!r}; the tools run there over SSH")
        if r.tool == "restic" and r.password is None:
            add(("backups", i, "password"), "restic repositories are always encrypted: give the password reference")


def namespace_problems(
    inv: Inventory, located: Located, problem: Callable[[str], str | None], *, scanner: bool = True
) -> list[InputProblem]:
    """`scanner.netns` and every vantage point's `netns` must name a network namespace of this machine (any name
    `ip netns list` shows). Checked by `lint` and before a live run, not by an offline re-judge (`preuve judge`),
    which enters no namespace; `scanner=False` when `--netns` overrides the inventory's. `problem(name)` says why
    a namespace cannot be entered (the engine's preuve.observe.network.netns.problem: inputs know no engine)."""
    wanted = [(("scanner", "netns"), inv.scanner.netns)] if scanner else []
    wanted += [(("vantage_points", i, "netns"), v.netns) for i, v in enumerate(inv.vantage_points)]
    return [
        InputProblem(located.path, located.line_of(loc), field_path(loc), why)
        for loc, ns in wanted
        if ns is not None and (why := problem(ns)) is not None
    ]


LOCAL_PATH_FIELDS = ("key_file", "known_hosts")  # on the scanner; `sshd_config` is a path on the target


def _local_paths(data: object, base: Path) -> object:
    """Scanner-side paths: `~` expanded, relative ones taken from the inventory file's folder."""
    if isinstance(data, list):
        return [_local_paths(x, base) for x in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for k, v in data.items():
        is_path = k in LOCAL_PATH_FIELDS or (k == "file" and isinstance(v, str)) or k == "flow_matrix"
        if is_path and isinstance(v, str):
            out[k] = str((base / Path(v).expanduser()).resolve())
        else:
            out[k] = _local_paths(v, base)
    return out


def load_inventory(path: Path | str) -> tuple[Inventory, Located]:
    """Load and validate an inventory; every problem found is reported at once."""
    located = load_yaml(Path(path))
    inv = validate(located, Inventory)
    problems = _cross_checks(inv, located)
    if problems:
        raise InputError(problems)
    written = inv
    inv = Inventory.model_validate(_local_paths(inv.model_dump(exclude_unset=True), Path(path).resolve().parent))
    if inv.flow_matrix:  # the recorded copy when this inventory is a run's (see flows.matrix_path)
        from preuve.inputs.flows import matrix_path

        inv = inv.model_copy(update={"flow_matrix": str(matrix_path(path, written))})
    if isinstance(inv.baseline.roster, RosterFile) and isinstance(written.baseline.roster, RosterFile):
        from preuve.inputs.roster import load_file

        roster = load_file(inv.baseline.roster, written.baseline.roster.file, Path(path).resolve().parent)
        inv = inv.model_copy(update={"baseline": inv.baseline.model_copy(update={"roster": roster})})
    software, written_software = inv.baseline.software_inventory, written.baseline.software_inventory
    if isinstance(software, SoftwareInventoryFile) and isinstance(written_software, SoftwareInventoryFile):
        from preuve.inputs.software import load_file as load_software

        declared = load_software(software, written_software.file, Path(path).resolve().parent)
        inv = inv.model_copy(update={"baseline": inv.baseline.model_copy(update={"software_inventory": declared})})
    problems = []

    def add(loc: tuple, msg: str) -> None:
        problems.append(InputProblem(located.path, located.line_of(loc), field_path(loc), msg))

    _short_secrets(inv, add, located.path.read_text(errors="replace"))  # after `file:` references are absolute
    if problems:
        raise InputError(problems)
    return inv, located
