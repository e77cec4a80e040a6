"""YAML loading that remembers where every value came from.

pydantic reports errors by field path (`hosts.1.ssh.port`); users need `file:line`. We compose the YAML node
tree once, build the Python data from it and keep a map from field path to line number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from preuve import yamlio
from preuve.inputs.errors import InputError, InputProblem, field_path

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """Parsed YAML data plus the line of every field path, and the file's sha256."""

    path: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    sha256: str = ""

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest known prefix of `loc` (pydantic may point below what YAML holds)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _walk(node: yaml.Node, here: Path_, lines: dict[Path_, int], problems: list[str]) -> Any:
    lines.setdefault(here, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), key_node)  # type: ignore[arg-type]
            if key in out:
                problems.append(f"{key_node.start_mark.line + 1}\x00{field_path((*here, key))}")
            lines[(*here, key)] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, (*here, key), lines, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*here, i), lines, problems) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def load_yaml(path: Path) -> Located:
    """Read a YAML file; syntax errors and duplicate keys become InputError with the line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError([InputProblem(path, None, "", f"cannot read file: {exc.strerror}")]) from None
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=yamlio.SafeLoader)
    except UnicodeDecodeError:
        raise InputError([InputProblem(path, None, "", "not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError([InputProblem(path, line, "", f"YAML syntax error: {problem}")]) from None
    lines: dict[Path_, int] = {}
    dupes: list[str] = []
    data = _walk(node, (), lines, dupes) if node is not None else None
    if dupes:
        raise InputError(
            [InputProblem(path, int(d.split("\x00")[0]), d.split("\x00")[1], "duplicate key") for d in dupes]
        )
    return Located(path=path, data=data, lines=lines, sha256=hashlib.sha256(raw).hexdigest())


SECRET_WORDS = ("password", "secret", "token", "passphrase", "private", "totp", "seed", "credential")


def _expected(err: dict[str, Any]) -> str:
    """Turn a pydantic error into 'expected …, got …' wording (never echoing a secret's value)."""
    msg = err["msg"]
    if any(w in str(p).lower() for p in err["loc"] for w in SECRET_WORDS):
        return msg[0].lower() + msg[1:]
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        return "unknown field (typo?)"
    if kind == "missing":
        return "required field is missing"
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{msg[0].lower()}{msg[1:]} (got {shown})"


def validate(located: Located, model: type, *, context: dict[str, Any] | None = None) -> Any:
    """Validate located data against a pydantic model; errors carry file:line:field."""
    if located.data is None:
        raise InputError([InputProblem(located.path, 1, "", "file is empty")])
    try:
        return model.model_validate(located.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            field_name = field_path(loc)
            problems.append(InputProblem(located.path, located.line_of(loc), field_name, _expected(err)))
        raise InputError(problems) from None
