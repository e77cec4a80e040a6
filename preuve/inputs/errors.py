"""Input errors that name the file, the line, the field and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def field_path(loc: tuple[str | int, ...]) -> str:
    """('hosts', 0, 'ssh', 'port') -> 'hosts[0].ssh.port'."""
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong in one input file."""

    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        from preuve.textsafe import terminal_line

        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        field = f" {self.field}:" if self.field else ""
        return terminal_line(f"{where}:{field} {self.message}")  # a key or a value may hold escape sequences


class InputError(Exception):
    """Raised when inputs are invalid; carries every problem found so `preuve lint` can list them all."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
