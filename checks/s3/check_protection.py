"""How bucket data is protected: default encryption (10.1), TLS-only access (10.2.a), and for backup buckets
versioning and object lock (12.5.b) so a compromised writer cannot erase the history."""

from preuve.judge import ObservationError, check


def denies_insecure_transport(policy: dict | None) -> bool:
    """A Deny statement for every principal when aws:SecureTransport is false."""
    for st in (policy or {}).get("Statement", []):
        cond = st.get("Condition", {}).get("Bool", {})
        principal = st.get("Principal")
        everyone = principal == "*" or principal == {"AWS": "*"}
        if st.get("Effect") == "Deny" and everyone and str(cond.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


def absent(facts: dict, judge) -> bool:
    """The endpoint answered that the declared bucket does not exist (HeadBucket 404): a finding, not an error."""
    return judge.absent("s3.bucket.exists", facts.get("absent"), "the declared bucket exists")


@check(
    "S3-DEFAULT-ENCRYPTION",
    requirements={
        "10.1.a#1": "the bucket encrypts new objects by default",
        "10.1.b#1": "its algorithm is one the profile allows (AES-256, KMS)",
    },
    target="s3_bucket",
    severity="high",
    rule="SecNumCloud 10.1.a (chiffrement des données stockées)",
)
def check_default_encryption(s3_protection, params, judge):
    if absent(s3_protection, judge):
        return
    algorithm = s3_protection["encryption"]["algorithm"] or "none"
    judge.one_of("s3.encryption.algorithm", algorithm, params.location.s3_encryption_allowed)


@check(
    "S3-TLS-ONLY",
    requirements={
        "13.2.b#1": "the bucket policy denies every request outside TLS (aws:SecureTransport)",
    },
    target="s3_bucket",
    severity="medium",
    rule="politique de bucket refusant aws:SecureTransport=false, ET une requête en HTTP clair refusée ; "
    "accès du scanner lui-même en HTTPS",
)
def check_tls_only(s3_protection, judge):
    if absent(s3_protection, judge):
        return
    """Policy and behaviour: the policy's text is not enough (a server may not enforce it, or serve another
    port in clear), so a signed plain-HTTP read must be refused too. When preuve itself read the bucket over
    http://, the result says so: every call of the scan went unencrypted, and it was answered."""
    judge.equals("s3.policy.denies_insecure_transport", denies_insecure_transport(s3_protection["policy"]), True)
    transport = s3_protection.get("transport")
    if transport is None:
        raise ObservationError("no plain-HTTP probe recorded for this bucket: its behaviour was not observed")
    scheme = transport["scanner_scheme"]
    judge.equals(
        "s3.scanner_access",
        scheme
        if scheme == "https"
        else f"{scheme} ({transport['scanner_url']}): the scanner's own access to this bucket was UNENCRYPTED",
        "https",
    )
    judge.each(
        "s3.plain_http_refused",
        {p["url"]: p["accepted"] is False for p in transport["plain_http"]},
        observed={p["url"]: p["answer"] for p in transport["plain_http"]},
    )


@check(
    "S3-BACKUP-VERSIONING",
    requirements={
        "12.5.b#2": "the backup bucket is versioned: an overwrite or deletion is not final",
    },
    target="s3_bucket",
    severity="high",
    rule="SecNumCloud 12.5.b (protection des sauvegardes)",
)
def check_backup_versioning(s3_protection, judge):
    if absent(s3_protection, judge):
        return
    if s3_protection["role"] != "backup":
        judge.not_applicable(f"role {s3_protection['role']}: versioning is required on backup buckets")
    judge.equals("s3.versioning", s3_protection["versioning"], "Enabled")


@check(
    "S3-BACKUP-OBJECT-LOCK",
    requirements={
        "12.5.b#2": "the backup bucket locks its objects (WORM)",
    },
    target="s3_bucket",
    severity="high",
    rule="SecNumCloud 12.5.b (sauvegardes non effaçables)",
)
def check_backup_object_lock(s3_protection, judge):
    if absent(s3_protection, judge):
        return
    if s3_protection["role"] != "backup":
        judge.not_applicable(f"role {s3_protection['role']}: object lock is required on backup buckets")
    judge.equals("s3.object_lock.enabled", s3_protection["object_lock"]["enabled"], True)
