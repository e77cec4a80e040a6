"""The flow matrix file itself, read as evidence (13.1.a: every flow justified, each with its line)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    return {"path": str(matrix.path)}, {"sha256": matrix.sha256, "flows": flows}, raw, f"preuve {__version__}"


COLLECTOR = Collector(
    "flow_matrix",
    _collect,
    limit=2,
    fixtures=(Fixture("flow_matrix", "flow_matrix", doc="the flow matrix file (13.1.a)"),),
)
