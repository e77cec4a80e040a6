"""Password hashes as stored in /etc/shadow, reduced on the host to scheme, cost and salt sharing (no hash
value ever leaves the machine), and the method new passwords will be hashed with (login.defs, pam_unix)."""

from preuve.judge import check

_PAM_METHODS = {
    "md5": "MD5",
    "bigcrypt": "DES",
    "sha256": "SHA256",
    "sha512": "SHA512",
    "blowfish": "BCRYPT",
    "yescrypt": "YESCRYPT",
    "gost_yescrypt": "GOST_YESCRYPT",
}


def hashed(shadow: list[dict]) -> list[dict]:
    """Accounts that hold a password hash (locked and key-only accounts cannot log in with a password)."""
    return [a for a in shadow if a["scheme"] not in ("locked", "empty")]


def verdict(account: dict, params) -> tuple[bool, str]:
    """The scheme alone: allowed, or accepted with a warning (its cost is judged apart, against its own limit)."""
    scheme = account["scheme"]
    if scheme in params.hygiene.hash_schemes_allowed:
        return True, scheme
    if scheme in params.hygiene.hash_schemes_warned:
        return True, f"{scheme} rounds={account.get('rounds')} (scheme accepted with a warning, rounds judged apart)"
    return False, scheme


@check(
    "HYG-PASSWORD-HASHES",
    requirements={
        "10.3.b#1": "every local password hash uses yescrypt, scrypt, bcrypt (or sha512crypt with enough rounds)",
        "10.3.a#1": "every local password field is a known hash scheme: a clear-text value fails",
        "10.3.d#1": "every accepted scheme is salted",
        "5.1.b#1": "stored passwords are slow salted hashes",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI BP-028 R68 ; guide des mécanismes cryptographiques (yescrypt, scrypt, bcrypt)",
)
def check_password_hashes(shadow, params, judge):
    verdicts = {a["user"]: verdict(a, params) for a in hashed(shadow)}
    if not verdicts:
        judge.not_applicable("no account holds a password hash (all locked or key-only)")
    judge.each(
        "hygiene.password_hashes",
        {u: ok for u, (ok, _) in verdicts.items()},
        observed={u: what for u, (_, what) in verdicts.items()},
        param="hygiene.hash_schemes_allowed",
    )
    warned = {a["user"]: a.get("rounds") for a in hashed(shadow) if a["scheme"] in params.hygiene.hash_schemes_warned}
    if warned:  # sha512crypt: accepted only with enough rounds
        minimum = params.hygiene.sha512crypt_min_rounds
        judge.each(
            "hygiene.sha512crypt_rounds",
            {u: r is not None and r >= minimum for u, r in warned.items()},
            observed=warned,
            at_least=minimum,
        )


@check(
    "HYG-EMPTY-PASSWORDS",
    requirements={
        "5.1.b#1": "no local account has an empty password",
    },
    target="baseline_host",
    severity="critical",
    rule="ANSSI BP-028 R31 (pas de mot de passe vide)",
)
def check_empty_passwords(shadow, judge):
    judge.equals("hygiene.empty_passwords", sorted(a["user"] for a in shadow if a["scheme"] == "empty"), [])


@check(
    "HYG-SHARED-SALTS",
    requirements={
        "10.3.d#1": "no two local password hashes share a salt",
        "5.1.b#1": "no salt is reused between accounts",
    },
    target="baseline_host",
    severity="medium",
    rule="crypt(3) : un sel aléatoire par mot de passe",
)
def check_shared_salts(shadow, judge):
    shared = {a["user"]: a["shares_salt_with"] for a in shadow if a.get("shares_salt_with")}
    judge.equals("hygiene.shared_salts", shared, {})


@check(
    "HYG-HASHING-METHOD",
    requirements={
        "10.3.b#2": "login.defs ENCRYPT_METHOD and pam_unix hash new passwords with an accepted method",
        "5.1.b#1": "future passwords get slow salted hashes too",
    },
    target="baseline_host",
    severity="medium",
    rule="login.defs ENCRYPT_METHOD et pam_unix : yescrypt (ANSSI BP-028 R68)",
)
def check_hashing_method(password_hashing, params, judge):
    defs = password_hashing["login_defs"].get("ENCRYPT_METHOD", "DES")  # shadow-utils' default when unset
    judge.one_of("hygiene.login_defs.encrypt_method", defs.upper(), params.hygiene.methods_allowed)
    pam = [
        next((_PAM_METHODS[o] for o in opts if o in _PAM_METHODS), defs.upper())
        for opts in password_hashing["pam_unix"]
    ]
    judge.subset("hygiene.pam_unix.method", pam, params.hygiene.methods_allowed)
