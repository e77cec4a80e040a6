"""What any SSH client sees before logging in: protocol version, KEXINIT algorithms, host keys.

Lists are compared as sets against the profile's ANSSI allowlists, never as exact strings, so an OpenSSH
upgrade that reorders or adds an allowed algorithm does not break the check.
"""

from preuve.judge import check
from preuve.observe.errors import ObservationError


def both_ways(ssh: dict, name: str) -> list[str]:
    return sorted(set(ssh[f"{name}_c2s"]) | set(ssh[f"{name}_s2c"]))


@check("SSH-PROTOCOL", requirements=["10.2.e"], target="ssh_endpoint", severity="high", rule="ANSSI-SSH R1")
def check_protocol(ssh, judge):
    judge.equals("ssh.protocol_version", ssh["protocol_version"], "2.0")


@check(
    "SSH-KEX",
    requirements=["10.2.a", "10.2.e"],
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15 ; RGS B1 (DH ≥ 2048, ECC ≥ 256)",
)
def check_kex(ssh, params, judge):
    offered = [k for k in ssh["kex"] if k not in params.ssh.kex_pseudo]
    judge.subset("ssh.kex", offered, params.ssh.kex_allowed)


@check(
    "SSH-CIPHERS",
    requirements=["10.2.a", "10.2.e"],
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15",
)
def check_ciphers(ssh, params, judge):
    judge.subset("ssh.ciphers", both_ways(ssh, "ciphers"), params.ssh.ciphers_allowed)


@check(
    "SSH-MACS",
    requirements=["10.2.a", "10.2.e"],
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R15",
)
def check_macs(ssh, params, judge):
    judge.subset("ssh.macs", both_ways(ssh, "macs"), params.ssh.macs_allowed)


@check(
    "SSH-HOSTKEY-ALGORITHMS",
    requirements=["10.2.e"],
    target="ssh_endpoint",
    severity="high",
    rule="ANSSI-SSH R7-R10",
)
def check_host_key_algorithms(ssh, params, judge):
    judge.subset(
        "ssh.host_key_algorithms", ssh["host_key_algorithms"], params.ssh.host_key_algorithms_allowed
    )


@check(
    "SSH-HOSTKEYS",
    requirements=["10.2.e", "10.5.a"],
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
