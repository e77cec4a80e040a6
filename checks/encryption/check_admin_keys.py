"""Administrators' secrets on each host: SSH keys held on hardware (FIDO2 sk-*) or certified by an SSH CA, no
private key without a passphrase and no Kubernetes credential in clear in their homes (names, types and
fingerprints only: no key material is read off the host)."""

from preuve.judge import check

# authorized_keys key type -> the label `ssh-keygen -l` prints for it (what the host fact records)
LABELS = {"sk-ssh-ed25519@openssh.com": "ED25519-SK", "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK"}


def judged(admin_keys: dict) -> dict:
    """Administrators judged: every one but preuve's own canaries on this host (baseline.ssh_canaries and
    lockout_canaries), whose key is the scanner's test key, declared by reference in the inventory."""
    return {u: a for u, a in admin_keys["admins"].items() if not a.get("declared_canary")}


@check(
    "KEYS-ADMIN-HARDWARE",
    requirements={
        "10.5.d#1": "every administrator key in authorized_keys is a FIDO2 sk-* key or an SSH CA (certificates)",
    },
    target="baseline_host",
    severity="high",
    rule="OpenSSH sk-ssh-ed25519@openssh.com (FIDO2) ou cert-authority / TrustedUserCAKeys",
)
def check_admin_hardware(admin_keys, params, judge):
    allowed = {LABELS.get(t, t) for t in params.encryption.admin_key_types_allowed}
    keys = {
        f"{user} {k['fingerprint']}": ("cert-authority" if k["cert_authority"] else k["type"])
        for user, a in judged(admin_keys).items()
        for k in a["authorized"]
    }
    ca = admin_keys.get("trusted_user_ca_keys")
    if ca:  # sshd accepts certificates of this CA for every account: administrators may hold no key file at all
        keys[f"sshd TrustedUserCAKeys {ca}"] = "cert-authority"
    if not keys:
        judge.not_applicable("no administrator logs in with a key: no authorized_keys entry, no TrustedUserCAKeys")
    judge.each(
        "keys.admin_authorized",
        {k: t == "cert-authority" or t in allowed for k, t in keys.items()},
        observed=keys,
        param="encryption.admin_key_types_allowed",
    )


@check(
    "KEYS-ADMIN-HOMES",
    requirements={
        "10.5.d#2": "no passphrase-less private key nor embedded Kubernetes credential in administrators' homes",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI BP-028 : clés privées protégées par phrase de passe ; kubeconfig sans jeton en clair",
)
def check_admin_homes(admin_keys, judge):
    plain = {
        f"{user}:{k['file']}": f"{k['format']} key, no passphrase, {k['fingerprint']}"
        for user, a in judged(admin_keys).items()
        for k in a["private_keys"]
        if not k["encrypted"]
    }
    kube = {f"{user}:{c['where']}": c["field"] for user, a in judged(admin_keys).items() for c in a["kube_credentials"]}
    judge.equals("keys.admin_plain_private_keys", plain, {})
    judge.equals("keys.admin_kube_credentials", kube, {})
