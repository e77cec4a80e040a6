"""A web application firewall protects each declared public endpoint (13.2.d): harmless attack patterns are
blocked, a plain request is not (a page that refuses everything proves no filter)."""

from preuve.judge import ObservationError, check


def blocked(answer: dict, statuses: list[int]) -> bool:
    return answer.get("status") is None or answer["status"] in statuses


@check(
    "WAF-BLOCKS-ATTACKS",
    requirements={
        "13.2.d#1": "each declared public endpoint blocks every harmless attack pattern while a plain request passes",
    },
    target="waf_endpoint",
    severity="high",
    rule="pare-feu applicatif devant les interfaces exposées sur un réseau public",
)
def check_waf(waf, params, judge):
    statuses = params.network.waf_block_statuses
    control = waf["control"]
    if blocked(control, statuses) or control["status"] >= 500:
        raise ObservationError(f"the plain request got {control.get('status')}: nothing to compare the probes with")
    judge.each(
        "waf.probes_blocked",
        {f"{a['probe']} -> {a.get('status') or a.get('error')}": blocked(a, statuses) for a in waf["answers"]},
        observed={
            "control": f"{control['status']} ({control['bytes']} bytes, headers {control['headers']})",
            "answers": {a["probe"]: a.get("status") or a.get("error") for a in waf["answers"]},
        },
    )
