"""Controlled installation on each host: every package source is signature-checked with a key of its own and
comes from a declared mirror (the DMZ mirror), read from the apt and yum/dnf source files."""

from preuve.judge import ObservationUnavailable, check
from preuve.observe.host.package_sources import unsigned_reason, where


def enabled(package_sources: dict) -> list[dict]:
    return [s for s in package_sources["sources"] if s["enabled"] and s["type"] in ("deb", "rpm")]


@check(
    "SOURCES-SIGNED",
    requirements={
        "12.10.c#1": "every enabled package source is signature-checked (apt signed-by, yum/dnf gpgcheck + gpgkey)",
        "12.10.a#1": "no package installs from a source whose signatures are not checked",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI BP-028 R15 ; sources.list(5) signed-by, yum.conf(5) gpgcheck",
)
def check_sources_signed(package_sources, judge):
    sources = enabled(package_sources)
    if judge.absent("sources.signed", None if sources else "no enabled package source", "signed sources"):
        return
    reasons = {
        f"{where(s)} {' '.join(s['uris'])}": unsigned_reason(s, package_sources["apt_insecure"]) for s in sources
    }
    judge.each(
        "sources.signed",
        {k: r is None for k, r in reasons.items()},
        observed={k: r or "signed" for k, r in reasons.items()},
    )


@check(
    "SOURCES-MIRRORS",
    requirements={
        "12.10.c#2": "hosts take packages only from the declared mirrors (the DMZ where updates are inspected)",
        "12.10.a#1": "every enabled package source is on the host's declared allow-list",
    },
    target="baseline_host",
    severity="medium",
    rule="inventaire : hosts[].package_mirrors (préfixes d'URL autorisés)",
)
def check_sources_mirrors(package_sources, target, judge):
    allowed = target.spec.package_mirrors
    if allowed is None:
        judge.not_applicable("the inventory declares no package_mirrors for this host")
    uris = {f"{where(s)} {u}": u for s in enabled(package_sources) for u in s["uris"]}
    judge.each(
        "sources.mirrors",
        {k: any(u.startswith(a) for a in allowed) for k, u in uris.items()},
        observed=sorted(uris),
    )


def key_verdict(key: dict, params, min_bits: int | None = None) -> tuple[bool, str]:
    """A signing key conforms when its RSA/DSA modulus is large enough or its curve is accepted."""
    if "error" in key:
        return False, key["error"]
    size = f"{key['bits']} bits" if "bits" in key else key.get("curve", "?")
    what = f"{key['algorithm']} {size}"
    if "bits" in key:
        return (key["bits"] or 0) >= (min_bits or params.supply.signing_min_rsa_bits), what
    return key.get("curve") in params.supply.signing_curves_allowed, what


@check(
    "SOURCES-SIGNING-KEYS",
    requirements={
        "10.4.a#1": "package signatures are verified with keys of a CRYPTO_B1 algorithm and size (keyrings)",
        "12.10.c#1": "the keys that authenticate updates are strong enough (no 1024-bit RSA, DSA, weak curve)",
    },
    target="baseline_host",
    severity="medium",
    rule="ANSSI guide des mécanismes cryptographiques : RSA ≥ 2048 bits, courbes ≥ 256 bits",
)
def check_signing_keys(package_sources, params, judge):
    judge_signing_keys(
        package_sources, params, judge, params.supply.signing_min_rsa_bits, "supply.signing_min_rsa_bits"
    )


@check(
    "SOURCES-SIGNING-KEYS-RECOMMENDED",
    requirements={
        "10.4.b#1": "package signing keys reach the recommended sizes: RSA/DSA >= 3072 bits (2048 is the rule only)",
    },
    target="baseline_host",
    severity="low",
    rule="ANSSI guide des mécanismes cryptographiques : module RSA ≥ 3072 bits recommandé, même avant 2030",
)
def check_signing_keys_recommended(package_sources, params, judge):
    minimum = params.supply.signing_recommended_rsa_bits
    judge_signing_keys(package_sources, params, judge, minimum, "supply.signing_recommended_rsa_bits")


def judge_signing_keys(package_sources: dict, params, judge, min_bits: int, param: str) -> None:
    """Every signing key of the keyrings the enabled sources name, against `min_bits` (RSA/DSA) or the curves; a
    failure quotes the size limit and the parameter that set it."""
    named = sorted(
        {s["signed_by"] for s in enabled(package_sources) if (s.get("signed_by") or "").startswith("/")}
        | {k.removeprefix("file://") for s in enabled(package_sources) for k in s.get("gpgkey", [])}
    )
    rings = package_sources["keyring_keys"]
    named = [r for r in named if r in package_sources["keyrings"] or r in rings]  # absent: SOURCES-SIGNED says it
    if judge.absent("sources.signing_keys", None if named else "no source names an existing keyring", "keyrings"):
        return
    unread = [r for r in named if r not in rings]
    if unread:
        raise ObservationUnavailable(f"keyrings the sources name could not be read on the host: {', '.join(unread)}")
    verdicts = {
        f"{ring} {k.get('fingerprint', '?')[-16:]}": key_verdict(k, params, min_bits)
        for ring in named
        for k in rings[ring]
        if k.get("signs", True)
    }
    judge.each(
        "sources.signing_keys",
        {k: ok for k, (ok, _) in verdicts.items()},
        observed={k: what for k, (_, what) in verdicts.items()},
        at_least=min_bits,  # the failure quotes the RSA limit and the parameter that set it
        param=param,
    )
