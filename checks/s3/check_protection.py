"""How bucket data is protected: default encryption (10.1), TLS-only access (10.2.a), and for backup buckets
versioning and object lock (12.5.b) so a compromised writer cannot erase the history."""

from preuve.judge import check


def denies_insecure_transport(policy: dict | None) -> bool:
    """A Deny statement for every principal when aws:SecureTransport is false."""
    for st in (policy or {}).get("Statement", []):
        cond = st.get("Condition", {}).get("Bool", {})
        principal = st.get("Principal")
        everyone = principal == "*" or principal == {"AWS": "*"}
        if st.get("Effect") == "Deny" and everyone and str(cond.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


@check("S3-DEFAULT-ENCRYPTION", requirements=["10.1.a", "10.1.b"], target="s3_bucket", severity="high",
       rule="SecNumCloud 10.1.a (chiffrement des données stockées)")  # fmt: skip
def check_default_encryption(s3_protection, params, judge):
    algorithm = s3_protection["encryption"]["algorithm"] or "none"
    judge.one_of("s3.encryption.algorithm", algorithm, params.location.s3_encryption_allowed)


@check("S3-TLS-ONLY", requirements=["10.2.a", "12.5.d"], target="s3_bucket", severity="medium",
       rule="politique de bucket refusant aws:SecureTransport=false")  # fmt: skip
def check_tls_only(s3_protection, judge):
    judge.equals("s3.policy.denies_insecure_transport", denies_insecure_transport(s3_protection["policy"]), True)


@check("S3-BACKUP-VERSIONING", requirements=["12.5.b"], target="s3_bucket", severity="high",
       rule="SecNumCloud 12.5.b (protection des sauvegardes)")  # fmt: skip
def check_backup_versioning(s3_protection, judge):
    if s3_protection["role"] != "backup":
        judge.not_applicable(f"role {s3_protection['role']}: versioning is required on backup buckets")
    judge.equals("s3.versioning", s3_protection["versioning"], "Enabled")


@check("S3-BACKUP-OBJECT-LOCK", requirements=["12.5.b"], target="s3_bucket", severity="high",
       rule="SecNumCloud 12.5.b (sauvegardes non effaçables)")  # fmt: skip
def check_backup_object_lock(s3_protection, judge):
    if s3_protection["role"] != "backup":
        judge.not_applicable(f"role {s3_protection['role']}: object lock is required on backup buckets")
    judge.equals("s3.object_lock.enabled", s3_protection["object_lock"]["enabled"], True)
