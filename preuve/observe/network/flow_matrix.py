"""The flow matrix file itself, read as evidence (13.1.a: every flow justified, each with its line; 13.1.b: the
declared date of its last review, with its line)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.inputs.flows import matrix_of

    matrix = matrix_of(target.spec)
    if matrix is None:
        raise ObservationError("no flow matrix")
    flows = [{**f.model_dump(), "line": matrix.where(f.id)} for f in matrix.flows]
    raw = matrix.path.read_text(errors="replace")
    reviewed = matrix.spec.reviewed_on
    line = matrix._located.line_of(("reviewed_on",)) if reviewed else None  # type: ignore[attr-defined]
    found: dict[str, Any] = {
        "sha256": matrix.sha256,
        "flows": flows,
        "reviewed_on": reviewed.isoformat() if reviewed else None,
        "reviewed_on_line": f"{matrix.path.name}:{line or '?'}" if reviewed else None,
    }
    return {"path": str(matrix.path)}, found, raw, f"preuve {__version__}"


COLLECTOR = Collector(
    "flow_matrix",
    _collect,
    limit=2,
    fixtures=(Fixture("flow_matrix", "flow_matrix", doc="the flow matrix file (13.1.a)"),),
)
