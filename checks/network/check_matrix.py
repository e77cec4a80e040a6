"""The flow matrix itself: every allowed flow says why (13.1.a), and it was reviewed within a year (13.1.b)."""

import datetime as dt

from preuve.judge import check


@check(
    "NET-FLOW-JUSTIFIED",
    requirements={
        "13.1.a#4": "every flow of the matrix states its ports, protocol and justification",
    },
    target="flow_matrix",
    severity="medium",
    rule="matrice des flux : justification de chaque flux",
)
def check_flows_justified(flow_matrix, judge):
    judge.non_empty("network.matrix_flows", [f["id"] for f in flow_matrix["flows"]])
    justified = {f"{f['id']} ({f['line']})": bool(f["justification"].strip()) for f in flow_matrix["flows"]}
    judge.each("network.flow_justification", justified)


@check(
    "NET-MAP-REVIEWED",
    requirements={
        "13.1.b#1": "the flow matrix declares a reviewed_on date younger than network.map_review_max_days",
    },
    target="flow_matrix",
    severity="medium",
    rule="13.1.b : révision au moins annuelle de la cartographie (date déclarée dans la matrice des flux)",
)
def check_map_reviewed(flow_matrix, params, now, judge):
    """A declared date only: the review itself (who, what was compared, the minutes) stays with the auditor."""
    when = flow_matrix.get("reviewed_on")
    if judge.absent("network.matrix_reviewed_on", None if when else "the flow matrix has no reviewed_on", "a date"):
        return
    age = (now.date() - dt.date.fromisoformat(when)).days
    limit = params.network.map_review_max_days
    declared = f"reviewed_on {when} ({flow_matrix['reviewed_on_line']})"
    judge.each("network.matrix_review_age_days", {declared: age <= limit}, observed={declared: age}, at_most=limit)
