"""A tenant's own credentials on the public interfaces read nothing of the provider's or another tenant's: judged
on what the canary's requests got (status codes), never on the roles that should have refused them."""

from preuve.judge import check


def refusals(attempts: list[dict], judge, label: str) -> None:
    """Every attempt on a foreign resource must be refused; the allowed ones are quoted with whose they are."""
    judge.each(
        label,
        {f"{a['how']} {a['path']} ({a['whose']})": not a["allowed"] for a in attempts},
        observed={
            f"{a['how']} {a['path']} ({a['whose']})": f"HTTP {a['code']}" + (f" {a['reason']}" if a["reason"] else "")
            for a in attempts
        },
    )


@check(
    "K8S-TENANT-CANARY-ISOLATED",
    requirements={
        "9.6.j#1": "a tenant's Kubernetes token lists or reads nothing in the provider's namespaces, even by name",
        "9.7.a#2": "the same token reads nothing in another tenant's namespaces (list, or GET by a known name)",
    },
    target="k8s_tenant_canary",
    severity="critical",
    rule="jeton d'un commanditaire : lecture de ses namespaces (contrôle), refus de toute lecture ailleurs",
)
def check_k8s_tenant_canary(k8s_tenant_canary, judge):
    refusals(k8s_tenant_canary["attempts"], judge, "isolation.k8s.foreign_reads_refused")


@check(
    "S3-TENANT-CANARY-ISOLATED",
    requirements={
        "9.6.i#1": "a customer's S3 key lists or reads nothing in the provider's buckets, even by object key",
        "9.7.a#2": "the same key reads nothing in another customer's buckets",
    },
    target="s3_tenant_canary",
    severity="critical",
    rule="clé S3 d'un commanditaire : lecture de ses buckets (contrôle), refus de toute lecture ailleurs",
)
def check_s3_tenant_canary(s3_tenant_canary, judge):
    attempts = [a for a in s3_tenant_canary["attempts"] if a["role"] != "logs"]
    refusals(attempts, judge, "isolation.s3.foreign_reads_refused")


@check(
    "S3-TENANT-CANARY-LOGS",
    requirements={
        "12.7.e#1": "the provider's log buckets are not readable with a customer's S3 key (list or GET by key)",
    },
    target="s3_tenant_canary",
    severity="high",
    rule="clé S3 d'un commanditaire : refus de toute lecture des buckets de journaux du prestataire",
)
def check_s3_tenant_canary_logs(s3_tenant_canary, judge):
    attempts = [a for a in s3_tenant_canary["attempts"] if a["role"] == "logs"]
    if not attempts:
        judge.not_applicable("no log bucket on this canary's endpoint in the inventory (s3.buckets role logs)")
    refusals(attempts, judge, "isolation.s3.log_reads_refused")
