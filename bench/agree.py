"""Findings agreement: what preuve observed vs what sslyze, testssl.sh and ssh-audit report.

Pure functions only (no I/O): each ``*_view`` turns one tool's JSON into the same small normalised
shape, and :func:`compare_views` lists, item by item, whether two views agree.

TLS view keys::

    versions        sorted accepted versions, preuve's names (SSLv2, SSLv3, TLSv1.0 ... TLSv1.3)
    suites          {version: sorted IANA names}; testssl's default scan does not split by version,
                    so its view has ``suites_any`` instead (the union)
    suites_any      sorted IANA names accepted in any version
    cert_key        "RSA 1024", "EC 256", "Ed25519 256" (leaf certificate)
    cert_sig_hash   "sha256", "sha1", ... (leaf certificate; None for EdDSA)
    dhe_bits        smallest finite-field DHE group offered, in bits; NO_DHE when no DHE suite is accepted

SSH view keys: ``kex``, ``ciphers``, ``macs``, ``host_key_algorithms`` (sorted lists) and
``host_key_bits`` ({key type: bits}, e.g. {"ssh-rsa": 1024}).

A value of ``None`` in a peer's view means "not reported by that tool": the item is then
``not compared`` rather than a disagreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VERSIONS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_SSLYZE_VERSION = {
    "SSLv2": "ssl_2_0",
    "SSLv3": "ssl_3_0",
    "TLSv1.0": "tls_1_0",
    "TLSv1.1": "tls_1_1",
    "TLSv1.2": "tls_1_2",
    "TLSv1.3": "tls_1_3",
}
_TESTSSL_VERSION = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLSv1.0": "TLS1",
    "TLSv1.1": "TLS1_1",
    "TLSv1.2": "TLS1_2",
    "TLSv1.3": "TLS1_3",
}
_SSLYZE_KEY_TYPE = {
    "RSAPublicKey": "RSA",
    "EllipticCurvePublicKey": "EC",
    "ECPublicKey": "EC",
    "DSAPublicKey": "DSA",
    "Ed25519PublicKey": "Ed25519",
    "Ed448PublicKey": "Ed448",
}
_TESTSSL_KEY_TYPE = {"ECDSA": "EC", "EC": "EC", "RSA": "RSA", "DSA": "DSA", "EdDSA": "Ed25519"}

# testssl ids: cipher_x35 (default scan, all versions) or cipher-tls1_2_xc02f (-E, per version).
_TESTSSL_CIPHER_ID = re.compile(r"^cipher(?:-(?P<proto>[a-z0-9_]+))?_x[0-9a-f]+$", re.IGNORECASE)
_IANA_NAME = re.compile(r"\b((?:TLS|SSL)_[A-Z0-9_]+)\b")
_FINITE_DH_BITS = re.compile(r"(?<![A-Z])DH (\d+)\b")  # "DH 1024" but not "ECDH 253"
_BITS = re.compile(r"\((\d+) bits\)")


# --- comparison -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """One item compared between preuve and one peer."""

    item: str
    peer: str
    status: str  # "agree" | "differ" | "not compared"
    preuve: Any
    other: Any
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "peer": self.peer,
            "status": self.status,
            "preuve": self.preuve,
            "peer_value": self.other,
            "detail": self.detail,
        }


def describe_difference(ours: Any, theirs: Any, peer: str) -> str:
    """Human wording of a difference: set differences for lists, per key for maps, both values otherwise."""
    if _lists(ours, theirs):
        only_ours = sorted(set(ours or []) - set(theirs or []))
        only_theirs = sorted(set(theirs or []) - set(ours or []))
        parts = []
        if only_ours:
            parts.append(f"only preuve: {', '.join(only_ours)}")
        if only_theirs:
            parts.append(f"only {peer}: {', '.join(only_theirs)}")
        return "; ".join(parts) or "same elements, different order"
    if isinstance(ours, dict) and isinstance(theirs, dict):
        keys = sorted(set(ours) | set(theirs))
        return " | ".join(
            f"{k}: {describe_difference(ours.get(k), theirs.get(k), peer)}"
            for k in keys
            if ours.get(k) != theirs.get(k)
        )
    return f"preuve {ours!r}, {peer} {theirs!r}"


def _lists(a: Any, b: Any) -> bool:
    """Both lists, or one list and one missing (a version one tool does not list)."""
    kinds = {type(a), type(b)}
    return list in kinds and kinds <= {list, type(None)}


def compare_item(item: str, peer: str, ours: Any, theirs: Any) -> Agreement:
    """Compare one normalised item; lists are compared as sets."""
    if theirs is None and ours is not None:
        return Agreement(item, peer, "not compared", ours, theirs, f"{peer} does not report it")
    same = set(ours) == set(theirs) if isinstance(ours, list) and isinstance(theirs, list) else ours == theirs
    if same:
        return Agreement(item, peer, "agree", ours, theirs, "agree")
    return Agreement(item, peer, "differ", ours, theirs, describe_difference(ours, theirs, peer))


def compare_views(ours: dict[str, Any], theirs: dict[str, Any], peer: str, items: list[str]) -> list[Agreement]:
    """Compare ``items`` of two views. ``suites`` falls back to ``suites_any`` when the peer has no split."""
    out = []
    for item in items:
        if item == "suites" and theirs.get("suites") is None and theirs.get("suites_any") is not None:
            out.append(compare_item("suites (any version)", peer, ours["suites_any"], theirs["suites_any"]))
            continue
        out.append(compare_item(item, peer, ours.get(item), theirs.get(item)))
    return out


TLS_ITEMS = ["versions", "suites", "cert_key", "cert_sig_hash", "dhe_bits"]
SSH_ITEMS = ["kex", "ciphers", "macs", "host_key_algorithms", "host_key_bits"]


# --- TLS views --------------------------------------------------------------------------------------


def _union(suites: dict[str, list[str]]) -> list[str]:
    return sorted({s for names in suites.values() for s in names})


NO_DHE = "no DHE suite"


def _dhe_bits(values: list[int]) -> int | str:
    """The weakest DHE group seen, or NO_DHE (a finding, not a missing value)."""
    return min(values) if values else NO_DHE


def preuve_tls_view(facts: dict[str, Any]) -> dict[str, Any]:
    """View of a preuve TLS observation's ``facts``."""
    suites = {v: sorted(names) for v, names in (facts.get("cipher_suites") or {}).items()}
    leaf = ((facts.get("certificate") or {}).get("chain") or [{}])[0]
    dh_sizes = [
        d["ephemeral_key"]["size"]
        for d in (facts.get("suite_details") or {}).values()
        if (d.get("ephemeral_key") or {}).get("type") == "DH"
    ]
    return {
        "versions": [v for v in VERSIONS if (facts.get("versions") or {}).get(v)],
        "suites": suites,
        "suites_any": _union(suites),
        "cert_key": _key_label(leaf.get("key_type"), leaf.get("key_size")),
        "cert_sig_hash": leaf.get("signature_hash"),
        "dhe_bits": _dhe_bits(dh_sizes),
    }


def _key_label(key_type: str | None, bits: int | None) -> str | None:
    return f"{key_type} {bits}" if key_type else None


def sslyze_tls_view(doc: dict[str, Any]) -> dict[str, Any]:
    """View of ``sslyze --json_out`` (first server scanned)."""
    scan = doc["server_scan_results"][0]["scan_result"]
    versions, suites, dh_sizes = [], {}, []
    for version in VERSIONS:
        result = (scan.get(f"{_SSLYZE_VERSION[version]}_cipher_suites") or {}).get("result")
        if not result:
            continue
        accepted = result.get("accepted_cipher_suites") or []
        if accepted:
            versions.append(version)
            suites[version] = sorted(a["cipher_suite"]["name"] for a in accepted)
        dh_sizes += [a["ephemeral_key"]["size"] for a in accepted if _is_dh(a.get("ephemeral_key"))]
    leaf = _sslyze_leaf(scan)
    return {
        "versions": versions,
        "suites": suites,
        "suites_any": _union(suites),
        "cert_key": _sslyze_key(leaf),
        "cert_sig_hash": ((leaf or {}).get("signature_hash_algorithm") or {}).get("name"),
        "dhe_bits": _dhe_bits(dh_sizes),
    }


def _is_dh(ephemeral_key: dict[str, Any] | None) -> bool:
    return (ephemeral_key or {}).get("type_name") == "DH"


def _sslyze_leaf(scan: dict[str, Any]) -> dict[str, Any] | None:
    result = (scan.get("certificate_info") or {}).get("result") or {}
    deployments = result.get("certificate_deployments") or []
    chain = deployments[0].get("received_certificate_chain") if deployments else None
    return chain[0] if chain else None


def _sslyze_key(leaf: dict[str, Any] | None) -> str | None:
    if not leaf:
        return None
    key = leaf.get("public_key") or {}
    return _key_label(_SSLYZE_KEY_TYPE.get(key.get("algorithm"), key.get("algorithm")), key.get("key_size"))


def testssl_tls_view(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """View of ``testssl --jsonfile`` (a flat list of findings)."""
    by_id = {f["id"]: f.get("finding", "") for f in findings}
    versions = [v for v in VERSIONS if _testssl_offered(by_id.get(_TESTSSL_VERSION[v]))]
    names, per_version, dh_sizes = set(), {}, []
    for f in findings:
        match = _TESTSSL_CIPHER_ID.match(f["id"])
        if not match:
            continue
        text = f.get("finding", "")
        iana = _IANA_NAME.findall(text)
        if iana:
            names.add(iana[-1])
            if match["proto"]:
                per_version.setdefault(match["proto"], set()).add(iana[-1])
        dh_sizes += [int(b) for b in _FINITE_DH_BITS.findall(text)]
    if not dh_sizes and "DH_groups" in by_id:
        dh_sizes = [int(b) for b in _BITS.findall(by_id["DH_groups"])]
    return {
        "versions": versions,
        "suites": _testssl_per_version(per_version) if per_version else None,
        "suites_any": sorted(names) if names else None,
        "cert_key": _testssl_key(by_id.get("cert_keySize")),
        "cert_sig_hash": _testssl_hash(by_id.get("cert_signatureAlgorithm")),
        "dhe_bits": _dhe_bits(dh_sizes) if names or dh_sizes else None,
    }


def _testssl_offered(finding: str | None) -> bool:
    """'offered', 'offered (deprecated)', 'offered (OK)' -> True; 'not offered ...' -> False."""
    return bool(finding) and finding.strip().lower().startswith("offered")


def _testssl_per_version(per_version: dict[str, set[str]]) -> dict[str, list[str]]:
    """testssl -E protocol tags (ssl2, ssl3, tls1, tls1_1 ...) mapped to preuve's version names."""
    tags = {
        "ssl2": "SSLv2",
        "ssl3": "SSLv3",
        "tls1": "TLSv1.0",
        "tls1_1": "TLSv1.1",
        "tls1_2": "TLSv1.2",
        "tls1_3": "TLSv1.3",
    }
    return {tags.get(k, k): sorted(v) for k, v in per_version.items()}


def _testssl_key(finding: str | None) -> str | None:
    """'RSA 1024 bits' -> 'RSA 1024'; 'EC 256 bits' / 'ECDSA 256 bits' -> 'EC 256'."""
    match = re.match(r"\s*(\w+)\s+(\d+)\s*bits", finding or "")
    if not match:
        return None
    return f"{_TESTSSL_KEY_TYPE.get(match[1], match[1])} {match[2]}"


def _testssl_hash(finding: str | None) -> str | None:
    """'SHA1 with RSA' -> 'sha1'; 'ECDSA with SHA256' -> 'sha256'; 'MD5 with RSA' -> 'md5'."""
    match = re.search(r"\b(SHA-?\d+|MD5)\b", finding or "", re.IGNORECASE)
    return match[1].replace("-", "").lower() if match else None


# --- SSH views --------------------------------------------------------------------------------------


def preuve_ssh_view(facts: dict[str, Any]) -> dict[str, Any]:
    """View of a preuve ``ssh_protocol`` observation's ``facts`` (both directions merged)."""
    return {
        "kex": sorted(facts.get("kex") or []),
        "ciphers": sorted(set(facts.get("ciphers_c2s") or []) | set(facts.get("ciphers_s2c") or [])),
        "macs": sorted(set(facts.get("macs_c2s") or []) | set(facts.get("macs_s2c") or [])),
        "host_key_algorithms": sorted(facts.get("host_key_algorithms") or []),
        "host_key_bits": {k["type"]: k["bits"] for k in facts.get("host_keys") or [] if k.get("bits")},
    }


def ssh_key_type(algorithm: str) -> str:
    """The key type behind a host key algorithm: rsa-sha2-512 and rsa-sha2-256 are ssh-rsa keys."""
    base = algorithm.removesuffix("-cert-v01@openssh.com")
    return "ssh-rsa" if base.startswith("rsa-sha2-") else base


def ssh_audit_view(doc: dict[str, Any]) -> dict[str, Any]:
    """View of ``ssh-audit -j``. It sizes RSA keys only (no size for ECDSA, Ed25519, DSA): None if none."""
    bits = {ssh_key_type(k["algorithm"]): k["keysize"] for k in doc.get("key") or [] if k.get("keysize")}
    return {
        "kex": sorted(a["algorithm"] for a in doc.get("kex") or []),
        "ciphers": sorted(a["algorithm"] for a in doc.get("enc") or []),
        "macs": sorted(a["algorithm"] for a in doc.get("mac") or []),
        "host_key_algorithms": sorted(a["algorithm"] for a in doc.get("key") or []),
        "host_key_bits": bits or None,
    }


def compare_tls(ours: dict[str, Any], theirs: dict[str, Any], peer: str) -> list[Agreement]:
    """Every TLS item of preuve's view against one peer's view."""
    return compare_views(ours, theirs, peer, TLS_ITEMS)


def compare_ssh(ours: dict[str, Any], theirs: dict[str, Any], peer: str = "ssh-audit") -> list[Agreement]:
    """Every SSH item; host key sizes only for the key types the peer sizes (named in the detail)."""
    sized = theirs.get("host_key_bits") or {}
    mine = ours.get("host_key_bits") or {}
    restricted = {**ours, "host_key_bits": {t: mine.get(t) for t in sorted(sized)}} if sized else ours
    out = compare_views(restricted, theirs, peer, SSH_ITEMS)
    unsized = sorted(set(mine) - set(sized))
    if unsized:
        last = out[-1]
        note = f"{peer} gives no size for {', '.join(unsized)}"
        out[-1] = Agreement(last.item, peer, last.status, mine, last.other, f"{last.detail} ({note})")
    return out
