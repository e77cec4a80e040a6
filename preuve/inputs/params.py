"""Profile parameters: every threshold and allowlist a check judges against, with ANSSI defaults.

Checks never hard-code a threshold; a profile (or an auditor's stricter one) overrides these values.
Sources: ANSSI "Recommandations de sécurité relatives à TLS" v1.2 (annexe A.1, R3-R4), ANSSI "Usage sécurisé
d'(Open)SSH" DAT-NT-007 (R1, R7-R10, R15, R17-R23, R27-R28), ANSSI guide des mécanismes cryptographiques.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from preuve.location.countries import EU_COUNTRIES


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


ANSSI_TLS13_SUITES = [
    "TLS_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256",
]
ANSSI_TLS12_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
]


class TlsParams(Strict):
    versions_allowed: list[str] = ["TLSv1.2", "TLSv1.3"]
    suites_allowed: list[str] = ANSSI_TLS13_SUITES + ANSSI_TLS12_SUITES
    groups_allowed: list[str] = [
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "X25519",
        "X448",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
    ]
    min_dh_bits: int = Field(2048, ge=1024)
    min_rsa_bits: int = Field(2048, ge=1024)
    min_ec_bits: int = Field(256, ge=160)
    signature_hashes_allowed: list[str] = ["sha256", "sha384", "sha512"]
    cert_min_days_left: int = Field(30, ge=0, description="fail when the leaf expires sooner than this")
    hsts_min_max_age: int = Field(31536000, ge=0, description="seconds (one year)")
    ca_countries_allowed: list[str] = Field(
        default_factory=lambda: sorted(EU_COUNTRIES),
        description="10.6.a: issuer countries (C=) accepted along certificate chains, by default the EU-27",
    )
    ca_issuers_declared_eu: list[str] = Field(
        [], description="issuer DNs (RFC 4514) without C= that the provider declares as EU CAs of its own"
    )


class SshParams(Strict):
    kex_allowed: list[str] = [
        "sntrup761x25519-sha512@openssh.com",
        "sntrup761x25519-sha512",
        "mlkem768x25519-sha256",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group14-sha256",
    ]
    # Pseudo-algorithms announce extensions (RFC 8308, strict KEX against Terrapin); they are not choices.
    kex_pseudo: list[str] = ["ext-info-s", "ext-info-c", "kex-strict-s-v00@openssh.com"]
    host_key_algorithms_allowed: list[str] = [
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-ed25519",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "ssh-ed25519-cert-v01@openssh.com",
        "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256-cert-v01@openssh.com",
    ]
    ciphers_allowed: list[str] = [
        "aes256-gcm@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-ctr",
        "aes192-ctr",
        "aes128-ctr",
    ]
    macs_allowed: list[str] = [
        "hmac-sha2-512-etm@openssh.com",
        "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512",
        "hmac-sha2-256",
    ]
    host_key_types_forbidden: list[str] = ["ssh-dss"]
    # Terrapin (CVE-2023-48795): a prefix-truncation attack on ChaCha20-Poly1305 and on the encrypt-then-MAC modes,
    # defeated when both ends use the strict key exchange (kex-strict-*-v00@openssh.com, OpenSSH 9.6 and backports).
    terrapin_algorithms: list[str] = Field(
        ["chacha20-poly1305@openssh.com", "*-etm@openssh.com"],
        description="ciphers and MACs (globs) Terrapin (CVE-2023-48795) applies to: allowed only with strict KEX",
    )
    terrapin_allow_with_strict_kex: bool = Field(
        True,
        description="Terrapin-affected algorithms pass when the server offers kex-strict-s-v00@openssh.com "
        "(ANSSI's TLS guide recommends ChaCha20-Poly1305); false: never. Without strict KEX they always fail",
    )
    min_rsa_bits: int = Field(2048, ge=1024)
    min_ecdsa_bits: int = Field(256, ge=160)
    max_auth_tries: int = Field(3, ge=1, description="the ANSSI guide's example uses 2")
    max_login_grace_time: int = Field(60, ge=1, description="seconds")
    log_levels_allowed: list[str] = ["VERBOSE", "INFO"]


class LocationParams(Strict):
    """Where data may be (SecNumCloud 19.2.b-d, 12.5.d): by default the EU-27 (Greece as GR or EL)."""

    allowed_countries: list[str] = Field(
        default_factory=lambda: sorted(EU_COUNTRIES),
        description="ISO 3166-1 alpha-2 codes where customer data, backups and keys may be",
    )
    s3_encryption_allowed: list[str] = Field(
        ["aws:kms", "aws:kms:dsse", "AES256"], description="default bucket encryption algorithms accepted (10.1)"
    )


class BackupParams(Strict):
    """Backups (12.5.a-d): freshness, restore drill and partial data check."""

    max_age_hours: float = Field(26.0, gt=0, description="latest snapshot no older than this (daily + margin)")
    drill_sample_size: int = Field(3, ge=1, description="files restored by the drill: the canary + sampled files")
    data_check_fraction: float = Field(
        0.1, gt=0, le=1, description="share of pack data read per run; the subset rotates day by day"
    )
    data_check_seconds: int = Field(60, ge=1, description="time budget of `borg check --max-duration`")
    transport_schemes_allowed: list[str] = Field(
        ["https", "sftp", "ssh", "s3+https", "rest+https"],
        description="repository URL schemes accepted (12.5.d: transfers encrypted); a local path is not applicable",
    )
    config_max_age_hours: float = Field(
        26.0, gt=0, description="newest configuration backup (etcd snapshot, device config) no older than this (17.5.a)"
    )
    config_lock_modes_allowed: list[str] = Field(
        ["COMPLIANCE"],
        description="S3 object lock modes that make a configuration backup immutable (GOVERNANCE can be bypassed)",
    )


class AccessParams(Strict):
    """MFA on administration interfaces (9.6.d-h, 9.5.b)."""

    admin_groups: list[str] = Field(
        ["sudo", "wheel", "admin"],
        description="members of these groups are administrators (sshd -T -C per user), as are root and every "
        "account with a sudo rule",
    )
    second_factor_methods: list[str] = Field(
        ["keyboard-interactive", "keyboard-interactive:pam", "password"],
        description="SSH methods that may carry the second factor after publickey",
    )
    faillock_max_deny: int = Field(5, ge=1, description="pam_faillock must lock after at most this many failures")
    faillock_fail_interval_s: float = Field(
        900,
        gt=0,
        description="how long a target counts a failure (pam_faillock fail_interval): the MFA factor "
        "probes' lockout budget counts their own uncleared failures over this window",
    )
    lockout_probe: bool = Field(False, description="LOCK-ACTIVE: lock each lockout canary for real, then reset it")
    oidc_refusal_errors: list[str] = Field(
        ["unauthorized_client", "unsupported_grant_type"],
        description="OAuth errors proving an admin client's password grant refused",
    )


class HygieneParams(Strict):
    """Password hashes and hashing method (10.3, 5.1.b; ANSSI hygiene guide, BP-028 R68)."""

    hash_schemes_allowed: list[str] = Field(["yescrypt", "gost-yescrypt", "scrypt", "bcrypt"])
    hash_schemes_warned: list[str] = Field(["sha512crypt"], description="accepted with a warning if rounds suffice")
    sha512crypt_min_rounds: int = Field(5000, ge=1000, description="glibc's default; raise it in a stricter profile")
    methods_allowed: list[str] = Field(
        ["YESCRYPT", "GOST_YESCRYPT", "SCRYPT", "BCRYPT", "SHA512"],
        description="login.defs ENCRYPT_METHOD and pam_unix hashing options accepted",
    )


class IdentityParams(Strict):
    """Accounts compared with the declared administrators (9.2.c, 9.4.a, 9.4.c, 9.5.d)."""

    dormant_days: int = Field(
        90, ge=1, description="an account holding rights and unused for longer than this is dormant (lastlog)"
    )
    review_max_days: int = Field(366, ge=1, description="the yearly review of every user's rights (9.4.a)")
    technical_review_max_days: int = Field(
        92, ge=1, description="the quarterly review of who may use the technical accounts (9.4.c)"
    )
    technical_accounts: list[str] = Field(
        ["root"],
        description="accounts always technical (non-nominative) besides system accounts (uid below UID_MIN) and "
        "those the roster declares",
    )


class MalwareParams(Strict):
    """Protection against malicious code (12.4.a): which agent must run on each host, how old its signatures may be."""

    agents: list[str] = Field(
        [],
        description="agent kinds every judged host must run (clamav, falco, crowdstrike, defender, wazuh, trendmicro, "
        "sentinelone, sophos, eset, elastic-endpoint); empty: any one of them",
    )
    signatures_max_days: int = Field(
        7, ge=1, description="ClamAV databases (header build time, else mtime) and Falco rules younger than this"
    )


_PRIVATE_LOGS: tuple[str, ...] = ("auth.log", "secure", "audit.log", "syslog", "messages", "kern.log", "daemon.log")
_PRIVATE_LOGS += ("user.log", "mail.log", "maillog", "btmp", "sudo.log", "cron")


class LogsParams(Strict):
    """Retention and forwarding of logs (12.6.c, 12.7.c)."""

    retention_days: int = Field(183, ge=1, description="six months")
    ids_max_silence_minutes: float = Field(
        60.0, gt=0, description="newest event of each IDS sensor in the central store no older than this (13.3.a)"
    )
    forwarding_auth_modes: list[str] = Field(["x509/name", "x509/fingerprint"], description="peer verification")
    syslog_ng_peer_verify: list[str] = Field(["required-trusted"], description="syslog-ng tls(peer-verify()) accepted")
    syslog_ng_reliable_buffer: bool = Field(True, description="syslog-ng disk-buffer() must be reliable(yes)")
    logrotate_ignored: list[str] = Field(
        [], description="fnmatch globs of rotated paths not subject to retention (e.g. non-security logs)"
    )
    private_globs: list[str] = Field(
        [
            *(
                f"/var/log/{name}{suffix}"
                for name in _PRIVATE_LOGS
                for suffix in ("", ".*", "-[0-9]*")  # the log, its rotations (.1, .2.gz; RHEL's -20240101)
            ),
            "/var/log/audit/*",
            "/var/log/journal/*",
            "/var/log/faillock/*",
            "/var/log/clamav/*",
        ],
        description="logs no other user may read (12.7.e): fnmatch globs of absolute paths",
    )
    root_log_daemons: list[str] = Field(
        ["systemd-journal", "auditd"],
        description="log daemons that run as root by design (the kernel audit socket, the journal's own files); "
        "every other log daemon must drop root",
    )
    journald_cap_fraction: float = Field(
        0.85, gt=0, le=1, description="a journal using this fraction of its MaxUse is at its size cap (evicting)"
    )


class KubernetesParams(Strict):
    """CaaS (Kubernetes) thresholds: audit retention (12.6), MFA on the admin API (9.6.f), tenant isolation (9.7)."""

    audit_log_min_maxage_days: int = Field(
        183, ge=1, description="--audit-log-maxage at least this (SecNumCloud 12.6: six months of logs)"
    )
    mfa_claims: list[str] = Field(["amr", "acr"], description="OIDC claims a required-claim rule must demand")
    encryption_prefixes_allowed: list[str] = Field(
        ["k8s:enc:kms:v2:", "k8s:enc:kms:v1:"],
        description="storage transformer prefixes accepted for writes (KMS; not identity, aescbc, aesgcm, secretbox)",
    )
    pod_security_levels_allowed: list[str] = Field(
        ["restricted", "baseline"], description="Pod Security Admission `enforce` levels accepted on tenant namespaces"
    )
    default_deny_policy_types: list[str] = Field(
        ["Ingress", "Egress"], description="directions a tenant namespace must deny by default"
    )
    egress_internal_networks: list[str] = Field(
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15", "fc00::/7"],
        description="address blocks a tenant's egress NetworkPolicy may open (internal services, egress proxies); "
        "an ipBlock outside them (0.0.0.0/0) is egress to the outside (K8S-TENANT-EGRESS)",
    )
    anonymous_bindings_allowed: list[str] = Field(
        ["system:public-info-viewer"], description="roles that may be bound to anonymous/unauthenticated users"
    )


class PatchingParams(Strict):
    """Maintained software (5.1.a, 12.11.a): package index age, dated end-of-life table (preuve/data/eol.yaml)."""

    index_max_age_days: int = Field(
        7, ge=1, description="the host's package index (apt lists, dnf cache) fetched at most this many days ago"
    )
    eol_table_max_age_days: int = Field(
        183, ge=1, description="the end-of-life table older than this cannot judge a release (the check errors)"
    )
    eol_min_days_left: int = Field(
        0, ge=0, description="a release whose security support ends within this many days fails already"
    )
    inventory_watch: list[str] = Field(
        [
            "openssh-server",
            "nginx",
            "apache2",
            "httpd",
            "haproxy",
            "etcd",
            "etcd-server",
            "kubelet",
            "containerd",
            "strongswan",
            "strongswan-charon",
            "libreswan",
            "postgresql",
            "mariadb-server",
            "rsyslog",
            "syslog-ng-core",
            "chrony",
            "sudo",
        ],
        description="service software that, installed on a host, must appear in the declared software inventory "
        "(INV-SOFTWARE-DECLARED; names as the package manager prints them)",
    )
    inventory_watch_undeclared: bool = Field(
        True, description="INV-SOFTWARE-DECLARED also fails on installed packages of inventory_watch not declared"
    )


class EncryptionParams(Strict):
    """Encryption at rest of data volumes (10.1.a-c) and where keys live (10.5.c-d)."""

    luks_versions_allowed: list[int] = Field([2], description="LUKS header versions accepted (LUKS1: PBKDF2 only)")
    luks_ciphers_allowed: list[str] = Field(
        ["aes-xts-plain64"], description="dm-crypt cipher specs accepted (AES-XTS, ANSSI guide des mécanismes)"
    )
    luks_min_key_bits: int = Field(512, ge=128, description="XTS key size: 512 bits is AES-256 (two 256-bit keys)")
    luks_pbkdf_allowed: list[str] = Field(["argon2id"], description="keyslot key derivation functions accepted")
    luks_min_pbkdf_memory_kib: int = Field(65536, ge=1, description="argon2 memory cost of every keyslot, at least")
    unlock_tokens_allowed: list[str] = Field(
        ["systemd-tpm2", "clevis", "systemd-fido2", "systemd-pkcs11"],
        description="LUKS2 token types that keep the unlock secret in a security container (TPM, Tang, FIDO2, PKCS#11)",
    )
    admin_key_types_allowed: list[str] = Field(
        ["sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"],
        description="authorized_keys key types of administrators held on hardware (FIDO2 security keys)",
    )


class SupplyParams(Strict):
    """Controlled installation (12.10.a, 12.10.c); the allowed mirrors and registries are in the inventory."""

    signing_min_rsa_bits: int = Field(
        2048, ge=1024, description="RSA/DSA modulus of package signing keys, at least (CRYPTO_B1: 2048 until 2030)"
    )
    signing_recommended_rsa_bits: int = Field(
        3072, ge=1024, description="RSA/DSA modulus the CRYPTO_B1 recommendation asks of signing keys (10.4.b)"
    )
    signing_curves_allowed: list[str] = Field(
        [
            "Ed25519",
            "Ed448",
            "NIST P-256",
            "NIST P-384",
            "NIST P-521",
            "brainpoolP256r1",
            "brainpoolP384r1",
            "brainpoolP512r1",
        ],
        description="elliptic curves accepted for package signing keys (ECDSA, EdDSA)",
    )
    admission_kinds: list[str] = Field(
        ["ClusterImagePolicy", "ClusterPolicy/verifyImages", "ValidatingAdmissionPolicy/image"],
        description="what counts as an image admission policy (sigstore policy-controller, Kyverno, CEL)",
    )


class NetworkParams(Strict):
    """Segmentation (9.6.d): what counts as an administration port. Probe pacing lives in the flow matrix file."""

    admin_ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        [22, 623, 2379, 2380, 3389, 5985, 5986, 6443, 10250, 8443, 9090],
        description="ports of administration interfaces (SSH, BMC/IPMI, etcd, RDP, WinRM, Kubernetes, consoles)",
    )
    map_review_max_days: int = Field(
        366, ge=1, description="days since the flow matrix's declared reviewed_on date, at most (13.1.b: yearly)"
    )
    waf_probes: list[str] = Field(
        [
            "<script>alert('preuve-waf-probe')</script>",
            "<ScRiPt>alert('preuve-waf-probe')</sCrIpT>",
            "%3Cscript%3Ealert('preuve-waf-probe')%3C/script%3E",
            "' OR '1'='1' -- preuve-waf-probe",
            "../../../../etc/passwd",
        ],
        min_length=1,
        description="harmless attack patterns sent as a query parameter to each waf_endpoint (13.2.d): an XSS in "
        "lower case, mixed case and double URL-encoded, a SQL injection, a path traversal; each must be blocked",
    )
    waf_parameter: str = Field("q", pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="query parameter carrying them")
    waf_block_statuses: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        [403, 406, 418, 429, 501],
        description="HTTP statuses that mean blocked (a dropped connection counts too); anything else passed",
    )

    ipsec_encryption_allowed: list[str] = Field(
        ["AES_GCM_16_128", "AES_GCM_16_256"],
        description="IKE and ESP ciphers accepted (AEAD, ANSSI NT IPsec; names as swanctl prints them)",
    )
    ipsec_dh_groups_allowed: list[str] = Field(
        [
            *("ECP_256", "ECP_384", "ECP_521", "ECP_256_BP", "ECP_384_BP", "ECP_512_BP"),
            *("MODP_3072", "MODP_4096", "MODP_6144", "MODP_8192"),
        ],
        description="Diffie-Hellman groups accepted for IKE and for PFS (groups 19-21, 28-30, 15-18: ANSSI NT IPsec)",
    )
    ipsec_auth_classes_allowed: list[str] = Field(
        ["public key"], description="authentication classes of every IKE round (certificates; no pre-shared key)"
    )


class TimeParams(Strict):
    """Clock synchronisation (12.8.a): synchronised, small offset, internal sources only."""

    max_offset_ms: float = Field(100.0, gt=0, description="largest |system clock offset| tolerated")
    internal_networks: list[str] = Field(
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15", "fc00::/7"],
        description="addresses counted as internal sources (not routable on the Internet by default)",
    )
    internal_domains: list[str] = Field([], description="DNS suffixes of internal time servers (e.g. ntp.corp.example)")


class WaiverParams(Strict):
    """Waivers (dérogations) are exceptions granted for a time, then reviewed."""

    max_days: int = Field(
        365,
        ge=1,
        le=3 * 366,
        description="longest waiver lifetime, counted from the run "
        "(an expiry further away is an input error: re-approve the waiver instead)",
    )


class Params(Strict):
    """All parameters of a profile. Unknown keys are rejected so a typo never silently keeps a default."""

    tls: TlsParams = TlsParams()
    ssh: SshParams = SshParams()
    access: AccessParams = AccessParams()
    hygiene: HygieneParams = HygieneParams()
    identity: IdentityParams = IdentityParams()
    malware: MalwareParams = MalwareParams()
    logs: LogsParams = LogsParams()
    time: TimeParams = TimeParams()
    location: LocationParams = LocationParams()
    backup: BackupParams = BackupParams()
    kubernetes: KubernetesParams = KubernetesParams()
    network: NetworkParams = NetworkParams()
    patching: PatchingParams = PatchingParams()
    encryption: EncryptionParams = EncryptionParams()
    supply: SupplyParams = SupplyParams()
    waivers: WaiverParams = WaiverParams()
    timeout: float = Field(5.0, gt=0, le=600, description="seconds per network operation (overrides inventory)")
