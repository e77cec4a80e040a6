"""Profile parameters: every threshold and allowlist a check judges against, with ANSSI defaults.

Checks never hard-code a threshold; a profile (or an auditor's stricter one) overrides these values.
Sources: ANSSI "Recommandations de sécurité relatives à TLS" v1.2 (annexe A.1, R3-R4), ANSSI "Usage sécurisé
d'(Open)SSH" DAT-NT-007 (R1, R7-R10, R15, R17-R23, R27-R28), ANSSI guide des mécanismes cryptographiques.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    min_rsa_bits: int = Field(2048, ge=1024)
    min_ecdsa_bits: int = Field(256, ge=160)
    max_auth_tries: int = Field(3, ge=1, description="the ANSSI guide's example uses 2")
    max_login_grace_time: int = Field(60, ge=1, description="seconds")
    log_levels_allowed: list[str] = ["VERBOSE", "INFO"]


class Params(Strict):
    """All parameters of a profile. Unknown keys are rejected so a typo never silently keeps a default."""

    tls: TlsParams = TlsParams()
    ssh: SshParams = SshParams()
    timeout: float = Field(
        5.0, gt=0, le=600, description="seconds per network operation (overrides inventory)"
    )
