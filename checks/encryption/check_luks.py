"""Data volumes of each host on LUKS2 with the ANSSI-recommended parameters, unlocked without a key file lying on
the host's own disks (cryptsetup luksDump and /etc/crypttab, read-only)."""

from preuve.judge import ObservationUnavailable, check
from preuve.observe.host.luks import unlock_of


def volumes(luks: dict, target, judge) -> dict:
    if not target.spec.data_volumes:
        judge.not_applicable("the inventory declares no data_volumes for this host")
    if not luks["cryptsetup"]:
        raise ObservationUnavailable("cryptsetup is not installed on the host: LUKS headers cannot be read")
    return {v: luks["volumes"][v] for v in target.spec.data_volumes if v in luks["volumes"]}


def _what(vol: dict) -> str:
    if vol["absent"]:
        return "absent"
    if vol["luks"] is None:
        return "not a LUKS volume (plaintext)"
    return f"LUKS{vol['luks']['version']}"


@check(
    "ENC-DATA-VOLUMES",
    requirements={
        "10.1.a#4": "every declared data volume of the host is a LUKS volume (block encryption per volume)",
        "11.7.c#1": "a returned disk of a data volume holds only ciphertext (the volume is LUKS-encrypted)",
    },
    target="baseline_host",
    severity="critical",
    rule="cryptsetup luksDump sur chaque volume déclaré (hosts[].data_volumes)",
)
def check_data_volumes(luks, target, judge):
    vols = volumes(luks, target, judge)
    judge.each(
        "encryption.data_volumes",
        {v: vols.get(v, {}).get("luks") is not None for v in target.spec.data_volumes},
        observed={v: _what(vols[v]) if v in vols else "not read" for v in target.spec.data_volumes},
    )


@check(
    "ENC-LUKS-PARAMS",
    requirements={
        "10.1.b#2": "LUKS version, data cipher and key size of each volume are in the accepted lists",
        "10.1.c#1": "AES-256-XTS data encryption, argon2id keyslots with a memory cost (recommended level)",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI guide des mécanismes cryptographiques (AES-256, XTS) ; LUKS2 argon2id",
)
def check_luks_params(luks, target, params, judge):
    p = params.encryption
    headers = {v: vol["luks"] for v, vol in volumes(luks, target, judge).items() if vol["luks"]}
    if judge.absent("encryption.luks_version", None if headers else "no LUKS volume among the declared", "LUKS2"):
        return
    judge.subset("encryption.luks_version", sorted({h["version"] for h in headers.values()}), p.luks_versions_allowed)
    judge.subset("encryption.luks_cipher", sorted({h["cipher"] for h in headers.values()}), p.luks_ciphers_allowed)
    judge.each(
        "encryption.luks_key_bits",
        {v: (h.get("key_bits") or 0) >= p.luks_min_key_bits for v, h in headers.items()},
        observed={v: h.get("key_bits") for v, h in headers.items()},
        at_least=p.luks_min_key_bits,
    )
    slots = {f"{v} keyslot {s['slot']}": s for v, h in headers.items() for s in h["keyslots"]}
    judge.subset("encryption.luks_pbkdf", sorted({s.get("pbkdf", "?") for s in slots.values()}), p.luks_pbkdf_allowed)
    memory = {k: s.get("memory_kib") for k, s in slots.items() if s.get("pbkdf", "").startswith("argon2")}
    if memory:
        judge.each(
            "encryption.luks_pbkdf_memory_kib",
            {k: isinstance(m, int) and m >= p.luks_min_pbkdf_memory_kib for k, m in memory.items()},
            observed=memory,
            at_least=p.luks_min_pbkdf_memory_kib,
        )


@check(
    "KEYS-LUKS-UNLOCK",
    requirements={
        "10.5.c#2": "no data volume is unlocked by a key file on the host's disks (TPM2, FIDO2, PKCS#11 or typed)",
    },
    target="baseline_host",
    severity="high",
    rule="crypttab(5) : clé dans un conteneur de sécurité (tpm2-device, fido2-device, pkcs11-uri) ou saisie",
)
def check_luks_unlock(luks, target, params, judge):
    allowed = params.encryption.unlock_tokens_allowed
    how = {}
    for v, vol in volumes(luks, target, judge).items():
        if not vol["luks"]:
            continue
        entry = unlock_of(v, vol["device"], luks["crypttab"], vol["luks"].get("uuid"))
        tokens = [t["type"] for t in vol["luks"]["tokens"] if t["type"] in allowed]
        key = entry["key"] if entry is not None else None
        if key and (
            ":" in key or key.startswith("/dev/")
        ):  # crypttab(5) path:device, or a raw device: a disjoint medium
            how[v] = f"key on a separate device {key} (crypttab {entry['name']}, support disjoint)"
        elif key:
            how[v] = f"key file {key} (crypttab {entry['name']})"
        elif tokens:
            how[v] = f"token {', '.join(tokens)}"
        else:
            how[v] = "passphrase at boot" if entry is not None else "no crypttab entry (opened by hand)"
    if judge.absent("encryption.unlock", None if how else "no LUKS volume among the declared", "unlock secret"):
        return
    judge.each("encryption.unlock", {v: not h.startswith("key file") for v, h in how.items()}, observed=how)
