"""Judged on where each console really sends its visitors (its authorization request) and on what its IdP answered
to the other side's canary administrator; a console whose IdP was not observed makes the check an error."""

from preuve.judge import ObservationError, check


def sides(admin_identity: dict) -> tuple[dict, dict]:
    consoles = admin_identity["consoles"]
    lost = {n: c.get("stopped") for n, c in consoles.items() if c["idp"] is None}
    if lost:
        raise ObservationError(f"no IdP login observed for {lost}: whose directory they use is unknown")
    provider = {n: c for n, c in consoles.items() if c["audience"] == "provider"}
    customer = {n: c for n, c in consoles.items() if c["audience"] == "customer"}
    return provider, customer


@check(
    "ADMIN-IDP-SEPARATE",
    requirements={
        "9.6.a#1": "customer consoles log in at an authorization endpoint (realm) no provider console uses",
        "9.6.a#2": "and on another IdP instance (origin) than the provider consoles' IdP",
    },
    target="admin_identity",
    severity="high",
    rule="annuaires et outils distincts : point d'autorisation et instance du fournisseur d'identité",
)
def check_idp_separate(admin_identity, judge):
    provider, customer = sides(admin_identity)
    endpoints = {c["idp"]["authorization_endpoint"] for c in provider.values()}
    origins = {c["idp"]["origin"] for c in provider.values()}
    judge.each(
        "admin_identity.distinct_directory",
        {n: c["idp"]["authorization_endpoint"] not in endpoints for n, c in customer.items()},
        observed={n: c["idp"]["authorization_endpoint"] for n, c in {**provider, **customer}.items()},
    )
    judge.each(
        "admin_identity.distinct_idp",
        {n: c["idp"]["origin"] not in origins for n, c in customer.items()},
        observed={n: c["idp"]["origin"] for n, c in {**provider, **customer}.items()},
    )


@check(
    "ADMIN-CONSOLE-DISTINCT",
    requirements={
        "9.6.b#1": "no customer console shares its address (origin) or its OIDC client with a provider console",
    },
    target="admin_identity",
    severity="medium",
    rule="interfaces distinctes : origine et client OIDC propres aux consoles des commanditaires",
)
def check_console_distinct(admin_identity, judge):
    provider, customer = sides(admin_identity)
    origins = {c["origin"] for c in provider.values()}
    clients = {(c["idp"]["origin"], c["idp"]["client_id"]) for c in provider.values()}
    judge.each(
        "admin_identity.distinct_console",
        {
            n: c["origin"] not in origins and (c["idp"]["origin"], c["idp"]["client_id"]) not in clients
            for n, c in customer.items()
        },
        observed={n: f"{c['origin']} client {c['idp']['client_id']}" for n, c in {**provider, **customer}.items()},
    )


def refused_by(consoles: dict, canary_side: str, judge, label: str) -> None:
    tried = {
        f"{name} <- {canary}": a["outcome"]
        for name, c in consoles.items()
        for canary, a in c["logins"].items()
        if a["canary_audience"] == canary_side
    }
    if not tried:
        raise ObservationError(f"no {canary_side} canary was tried on these consoles")
    judge.each(label, {k: v == "refused" for k, v in tried.items()}, observed=tried)


@check(
    "ADMIN-CONSOLE-REFUSES-PROVIDER",
    requirements={
        "9.6.c#1": "a provider administrator canary's password is refused by every customer console's login",
    },
    target="admin_identity",
    severity="high",
    rule="connexion d'un administrateur du prestataire refusée sur les consoles des commanditaires",
)
def check_refuses_provider(admin_identity, judge):
    _, customer = sides(admin_identity)
    refused_by(customer, "provider", judge, "admin_identity.provider_canary_refused")


@check(
    "ADMIN-CONSOLE-REFUSES-CUSTOMER",
    requirements={
        "9.6.d#2": "a customer administrator canary's password is refused by every provider console's login",
    },
    target="admin_identity",
    severity="high",
    rule="connexion d'un administrateur d'un commanditaire refusée sur les consoles du prestataire",
)
def check_refuses_customer(admin_identity, judge):
    provider, _ = sides(admin_identity)
    refused_by(provider, "customer", judge, "admin_identity.customer_canary_refused")


@check(
    "ADMIN-ENDUSER-DISTINCT",
    requirements={
        "9.6.g#1": "SaaS end-user portals share neither origin nor OIDC client with a customer admin console",
    },
    target="admin_identity",
    severity="medium",
    rule="SaaS : interface des utilisateurs finaux distincte des consoles d'administration des commanditaires",
)
def check_enduser_distinct(admin_identity, judge):
    _, customer = sides(admin_identity)
    portals = {n: c for n, c in admin_identity["consoles"].items() if c["audience"] == "end-user"}
    if not portals:
        judge.not_applicable("no end-user interface declared in this plane (a SaaS declares one: audience end-user)")
    origins = {c["origin"] for c in customer.values()}
    clients = {(c["idp"]["origin"], c["idp"]["client_id"]) for c in customer.values()}
    judge.each(
        "admin_identity.distinct_enduser",
        {
            n: p["idp"] is not None
            and p["origin"] not in origins
            and (p["idp"]["origin"], p["idp"]["client_id"]) not in clients
            for n, p in portals.items()
        },
        observed={
            n: f"{c['origin']} client {c['idp']['client_id'] if c['idp'] else None}"
            for n, c in {**customer, **portals}.items()
        },
    )
