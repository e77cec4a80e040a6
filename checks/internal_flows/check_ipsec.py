"""strongSwan judged on what it has loaded (swanctl), what it negotiated (live SAs) and the proposals it is
configured to accept: a fallback proposal is an accepted proposal."""

from preuve.judge import check


def _no_connections(ipsec, judge) -> bool:
    return judge.absent(
        "ipsec.connections", None if ipsec["connections"] else "charon has no connection loaded", "connections"
    )


@check(
    "IPSEC-IKEV2-ONLY",
    requirements={"10.2.d#1": "every loaded connection and every live IKE SA is IKEv2 (no IKEv1, no 'any')"},
    target="ipsec_gateway",
    severity="high",
    rule="NT IPsec : IKEv2 uniquement",
)
def check_ikev2_only(ipsec, judge):
    if _no_connections(ipsec, judge):
        return
    versions = {f"connection {n}": c["version"] for n, c in ipsec["connections"].items()}
    versions.update({f"SA {s['name']}": f"IKEv{s['version']}" for s in ipsec["sas"]})
    judge.each("ipsec.ike_versions", {k: v == "IKEv2" for k, v in versions.items()}, observed=versions)


@check(
    "IPSEC-AEAD-PFS",
    requirements={
        "10.2.d#2": "every IKE and ESP proposal configured, and every SA negotiated, uses an allowed AEAD cipher",
        "10.2.d#3": "IKE groups are allowed ones and every ESP proposal carries an allowed group (PFS)",
    },
    target="ipsec_gateway",
    severity="high",
    rule="NT IPsec : AES-GCM, groupes Diffie-Hellman recommandés, PFS sur les CHILD SA",
)
def check_aead_pfs(ipsec, params, judge):
    if _no_connections(ipsec, judge):
        return
    from preuve.judge import ObservationError

    configured = ipsec["configured"]
    missing = sorted(set(ipsec["connections"]) - set(configured))
    if missing:
        raise ObservationError(
            f"no proposals read for {missing} (config_files {ipsec['config_unread'] or 'read'} do not define them): "
            "an unread fallback proposal cannot be ruled out"
        )
    ciphers_ok, groups_ok = params.network.ipsec_encryption_allowed, params.network.ipsec_dh_groups_allowed
    enc: dict[str, bool] = {}
    grp: dict[str, bool] = {}
    seen: dict[str, str] = {}
    for name, c in configured.items():
        if name not in ipsec["connections"]:
            continue
        for p in c["ike"]:
            key = f"{name} IKE {p['proposal']}"
            seen[key] = f"{p['encryption']} {p['dh_groups']}"
            enc[key] = not p["default"] and bool(p["encryption"]) and set(p["encryption"]) <= set(ciphers_ok)
            grp[key] = not p["default"] and bool(p["dh_groups"]) and set(p["dh_groups"]) <= set(groups_ok)
        for child, props in c["children"].items():
            for p in props:
                key = f"{name}/{child} ESP {p['proposal']}"
                seen[key] = f"{p['encryption']} {p['dh_groups']}"
                enc[key] = not p["default"] and bool(p["encryption"]) and set(p["encryption"]) <= set(ciphers_ok)
                grp[key] = not p["default"] and bool(p["dh_groups"]) and set(p["dh_groups"]) <= set(groups_ok)
    for s in ipsec["sas"]:
        key = f"SA {s['name']} (negotiated)"
        seen[key] = f"{s['encryption']} {s['dh_group']}"
        enc[key] = s["encryption"] in ciphers_ok
        grp[key] = s["dh_group"] in groups_ok
        for ch in s["children"]:
            ckey = f"SA {s['name']}/{ch['name']} (negotiated)"
            seen[ckey] = f"{ch['encryption']} {ch['dh_group']}"
            enc[ckey] = ch["encryption"] in ciphers_ok
    judge.each("ipsec.aead", enc, observed=seen)
    judge.each("ipsec.dh_groups_pfs", grp, observed=seen)


@check(
    "IPSEC-CERT-AUTH",
    requirements={"10.2.d#4": "every authentication round of every connection uses certificates (no PSK, no EAP)"},
    target="ipsec_gateway",
    severity="high",
    rule="NT IPsec : authentification mutuelle par certificats",
)
def check_cert_auth(ipsec, params, judge):
    if _no_connections(ipsec, judge):
        return
    classes = {f"{n} {r}": cls for n, c in ipsec["connections"].items() for r, cls in c["auth"].items()}
    allowed = params.network.ipsec_auth_classes_allowed
    judge.each("ipsec.auth_classes", {k: v in allowed for k, v in classes.items()}, observed=classes)


@check(
    "IPSEC-TUNNELS-UP",
    requirements={"13.2.b#4": "each declared inter-site tunnel has an established IKE SA and an installed CHILD SA"},
    target="ipsec_gateway",
    severity="high",
    rule="tunnels déclarés établis : IKE SA ESTABLISHED, CHILD SA INSTALLED",
)
def check_tunnels_up(ipsec, judge):
    declared = ipsec["tunnels_declared"]
    if not declared:
        judge.not_applicable("no tunnel declared for this gateway (ipsec_gateways[].tunnels)")
    state: dict[str, str] = {}
    for t in declared:
        sas = [s for s in ipsec["sas"] if s["name"] == t]
        est = [s for s in sas if s["state"] == "ESTABLISHED"]
        installed = [c for s in est for c in s["children"] if c["state"] == "INSTALLED"]
        if not sas:
            state[t] = "no IKE SA"
        elif not est:
            state[t] = f"IKE SA {sas[0]['state']}"
        elif not installed:
            state[t] = "IKE SA ESTABLISHED, no CHILD SA installed"
        else:
            state[t] = "up"
    judge.each("ipsec.tunnels", {t: s == "up" for t, s in state.items()}, observed=state)
