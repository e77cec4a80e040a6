"""What any SSH client sees before logging in: protocol version, KEXINIT algorithms, host keys.

Lists are compared as sets against the profile's ANSSI allowlists, never as exact strings, so an OpenSSH
upgrade that reorders or adds an allowed algorithm does not break the check.
"""

import fnmatch

from preuve.judge import ObservationError, check

STRICT_KEX = "kex-strict-s-v00@openssh.com"


def both_ways(ssh: dict, name: str) -> list[str]:
    return sorted(set(ssh[f"{name}_c2s"]) | set(ssh[f"{name}_s2c"]))


def terrapin(ssh: dict, params, judge, offered: list[str], allowed: list[str]) -> list[str]:
    """Terrapin (CVE-2023-48795): the affected algorithms offered are judged by one rule, said in the evidence;
    returns the allowlist with them added when that rule admits them."""
    affected = [a for a in offered if any(fnmatch.fnmatchcase(a, g) for g in params.ssh.terrapin_algorithms)]
    if not affected:
        return allowed
    strict = STRICT_KEX in ssh["kex"]
    if strict and params.ssh.terrapin_allow_with_strict_kex:
        rule = (
            f"strict KEX offered ({STRICT_KEX}): Terrapin (CVE-2023-48795) is defeated, the affected "
            "algorithms are allowed (params.ssh.terrapin_allow_with_strict_kex = true)"
        )
    elif strict:
        rule = "strict KEX offered, but params.ssh.terrapin_allow_with_strict_kex = false: never allowed"
    else:
        rule = f"no strict KEX ({STRICT_KEX} not offered): open to Terrapin (CVE-2023-48795)"
    ok = strict and params.ssh.terrapin_allow_with_strict_kex
    judge.each(
        "ssh.terrapin", dict.fromkeys(affected, ok), observed={"offered": affected, "strict_kex": strict, "rule": rule}
    )
    if not ok:
        return [a for a in allowed if a not in affected]
    named = [a for a in affected if a in params.ssh.terrapin_algorithms]  # by name (chacha20), not by a glob:
    return [*allowed, *named]  # hmac-md5-etm matches *-etm but stays judged by the MAC allowlist


@check(
    "SSH-PROTOCOL",
    requirements={
        "10.2.e#1": "the server speaks SSH 2 only (R1)",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R1",
)
def check_protocol(ssh, judge):
    judge.equals("ssh.protocol_version", ssh["protocol_version"], "2.0")


@check(
    "SSH-KEX",
    requirements={
        "10.2.a#2": "every key exchange offered meets the RGS sizes (no group1, no SHA-1)",
        "10.2.e#1": "key exchanges follow the guide",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15 ; RGS B1 (DH ≥ 2048, ECC ≥ 256)",
)
def check_kex(ssh, params, judge):
    offered = [k for k in ssh["kex"] if k not in params.ssh.kex_pseudo]
    judge.subset("ssh.kex", offered, params.ssh.kex_allowed)


@check(
    "SSH-CIPHERS",
    requirements={
        "10.2.a#2": "every cipher offered is one the RGS admits (no CBC, no 3DES)",
        "10.2.e#1": "ciphers follow the guide (R15)",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15",
)
def check_ciphers(ssh, params, judge):
    offered = both_ways(ssh, "ciphers")
    judge.subset("ssh.ciphers", offered, terrapin(ssh, params, judge, offered, params.ssh.ciphers_allowed))


@check(
    "SSH-MACS",
    requirements={
        "10.2.a#2": "every MAC offered is SHA-2 based",
        "10.2.e#1": "MACs follow the guide (R15)",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15",
)
def check_macs(ssh, params, judge):
    offered = both_ways(ssh, "macs")
    judge.subset("ssh.macs", offered, terrapin(ssh, params, judge, offered, params.ssh.macs_allowed))


@check(
    "SSH-HOSTKEY-ALGORITHMS",
    requirements={
        "10.2.e#1": "only recommended host-key algorithms are offered (R10)",
        "10.2.a#2": "no host-key signature with SHA-1 (ssh-rsa) or DSA",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R7-R10",
)
def check_host_key_algorithms(ssh, params, judge):
    judge.subset("ssh.host_key_algorithms", ssh["host_key_algorithms"], params.ssh.host_key_algorithms_allowed)


@check(
    "SSH-HOSTKEYS",
    requirements={
        "10.2.e#1": "host keys are of accepted type and size (R7-R10)",
        "10.2.a#2": "host keys meet the RGS sizes (RSA >= 2048, ECDSA >= 256)",
    },
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R7-R10 (pas de DSA ; RSA ≥ 2048 ; ECDSA ≥ 256)",
)
def check_host_keys(ssh, params, judge):
    minimum = {"ssh-rsa": params.ssh.min_rsa_bits, "ecdsa": params.ssh.min_ecdsa_bits}
    keys = {}
    for key in ssh["host_keys"]:
        family = "ecdsa" if key["type"].startswith("ecdsa") else key["type"]
        if key["bits"] is None and family in minimum:
            raise ObservationError(f"size of the {key['type']} host key could not be read")
        keys[f"{key['type']} {key['bits']}"] = key["type"] not in params.ssh.host_key_types_forbidden and key[
            "bits"
        ] >= minimum.get(family, 0)
    judge.non_empty("ssh.host_keys.present", sorted(keys))
    judge.each("ssh.host_keys", keys, observed=sorted(keys))
