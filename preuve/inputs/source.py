"""YAML loading that remembers where every value came from.

pydantic reports errors by field path (`hosts.1.ssh.port`); users need `file:line`. We compose the YAML node
tree once, build the Python data from it and keep a map from field path to line number.
"""

from __future__ import annotations

import hashlib
import re
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


MAX_INPUT_BYTES = 8 * 2**20  # an inventory of 20,000 hosts is ~4 MB; anything larger is a mistake or an attack
ALIAS_BUDGET = 10_000  # values reached through YAML aliases (*ref), all aliases together
MAX_DEPTH = 64  # nesting levels
# Characters refused in any input value or key: C0/C1 controls (tab, LF, CR allowed), DEL, the Unicode
# non-characters U+FFFE/U+FFFF, bidirectional overrides (Trojan Source) and lone surrogates. They would reach
# junit.xml (invalid XML 1.0), the terminal (escape sequences) or a file name.
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


class _Refused(Exception):
    """A YAML document refused while building its data (alias bomb, unreadable value, control character)."""

    def __init__(self, line: int, loc: Path_, message: str):
        self.line, self.loc, self.message = line, loc, message


def bad_char(text: str) -> str | None:
    """'U+001B' for the first refused character of `text`, else None."""
    m = BAD_CHARS.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


_STR = "tag:yaml.org,2002:str"
_UNREADABLE = {
    "tag:yaml.org,2002:int": "integer too large to read (over 4300 digits)",
    "tag:yaml.org,2002:timestamp": "not a real date or time",
    "tag:yaml.org,2002:float": "not a readable number",
}


class _Walker:
    """Build Python data from a composed node graph, counting what aliases expand to.

    libyaml composes an alias as a second reference to the anchored node, so composing is cheap; it is this
    expansion that a "billion laughs" document makes exponential. Every node reached again through an alias
    counts against ALIAS_BUDGET, and an alias inside its own anchor (a cycle) is refused.
    """

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}
        self.dupes: list[tuple[int, str]] = []
        self.seen: set[int] = set()
        self.stack: set[int] = set()
        self.expanded = 0
        self.loader = yaml.SafeLoader("")

    def walk(self, node: yaml.Node, here: Path_, depth: int = 0, aliased: bool = False) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self.stack:
            raise _Refused(line, here, "recursive YAML alias (an anchor that contains itself) is refused")
        if id(node) in self.seen:
            aliased = True
        self.seen.add(id(node))
        if aliased:
            self.expanded += 1
            if self.expanded > ALIAS_BUDGET:
                raise _Refused(
                    line,
                    here,
                    f"YAML aliases expand to more than {ALIAS_BUDGET} values (anchor at "
                    f"line {line}): alias bombs are refused; write the values out",
                )
        if depth > MAX_DEPTH:
            raise _Refused(line, here, f"nested more than {MAX_DEPTH} levels deep")
        self.lines.setdefault(here, line)
        if isinstance(node, yaml.MappingNode):
            self.stack.add(id(node))
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Refused(
                        key_node.start_mark.line + 1,
                        here,
                        "a list or mapping used as a key (YAML '? ' complex key) is not supported",
                    )
                key = key_node.value
                if (c := bad_char(key)) is not None:
                    raise _Refused(key_node.start_mark.line + 1, here, f"control character {c} in a key")
                if key in out:
                    self.dupes.append((key_node.start_mark.line + 1, field_path((*here, key))))
                self.lines[(*here, key)] = key_node.start_mark.line + 1
                out[key] = self.walk(value_node, (*here, key), depth + 1, aliased)
            self.stack.discard(id(node))
            return out
        if isinstance(node, yaml.SequenceNode):
            self.stack.add(id(node))
            items = [self.walk(item, (*here, i), depth + 1, aliased) for i, item in enumerate(node.value)]
            self.stack.discard(id(node))
            return items
        if node.tag == _STR:  # what SafeConstructor makes of a plain string, without its per-node bookkeeping
            value = node.value
        else:
            try:
                value = self.loader.construct_object(node, deep=True)
            except (ValueError, OverflowError, yaml.YAMLError):
                raise _Refused(line, here, _UNREADABLE.get(node.tag, "value cannot be read")) from None
        if isinstance(value, str) and (c := bad_char(value)) is not None:
            raise _Refused(line, here, f"control character {c} in a value (refused in every input)")
        return value


def read_input(path: Path) -> bytes:
    """The file's bytes, refused (InputError) when unreadable or larger than MAX_INPUT_BYTES."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError([InputProblem(path, None, "", f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(
            [
                InputProblem(
                    path, None, "", f"larger than {MAX_INPUT_BYTES // 2**20} MiB: refused (is this the right file?)"
                )
            ]
        )
    return raw


def load_yaml(path: Path) -> Located:
    """Read a YAML file; syntax errors, duplicate keys, alias bombs and unreadable values become InputError
    with the line (never with the file's content, which may be a secret passed by mistake)."""
    path = Path(path)
    raw = read_input(path)
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=yamlio.SafeLoader)
    except UnicodeDecodeError:
        raise InputError([InputProblem(path, None, "", "not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or "not YAML"
        raise InputError([InputProblem(path, line, "", f"YAML syntax error: {problem}")]) from None
    walker = _Walker()
    try:
        data = walker.walk(node, ()) if node is not None else None
    except _Refused as exc:
        raise InputError([InputProblem(path, exc.line, field_path(exc.loc), exc.message)]) from None
    except RecursionError:
        raise InputError([InputProblem(path, None, "", "nested too deeply")]) from None
    if walker.dupes:
        raise InputError([InputProblem(path, line, where, "duplicate key") for line, where in walker.dupes])
    return Located(path=path, data=data, lines=walker.lines, sha256=hashlib.sha256(raw).hexdigest())


SECRET_WORDS = ("password", "secret", "token", "passphrase", "private", "totp", "seed", "credential")


def _expected(err: dict[str, Any]) -> str:
    """Turn a pydantic error into 'expected …, got …' wording (never echoing a secret's value)."""
    msg = err["msg"]
    got = err.get("input")
    if not err["loc"]:  # the whole document: never echo it (a .env, a private key, /etc/shadow passed by mistake)
        kind = "nothing" if got is None else "a mapping" if isinstance(got, dict) else f"a {type(got).__name__}"
        return f"expected a mapping of fields at the top of the file, found {kind} (is this the right file?)"
    if any(w in str(p).lower() for p in err["loc"] for w in SECRET_WORDS):
        return msg[0].lower() + msg[1:]
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (typo?)"
    if kind == "missing":
        return "required field is missing"
    if isinstance(got, str) and (credentials_in_url(got) or len(got) > 60):
        return f"{msg[0].lower()}{msg[1:]}"  # not echoed: it may carry a credential, or be a file's content
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{msg[0].lower()}{msg[1:]} (got {shown})"


_USERINFO = re.compile(r"://(?P<userinfo>[^/@?#\s]*)@")


def credentials_in_url(value: str, *, user_allowed: bool = False) -> bool:
    """True when a URL-like string carries credentials: `scheme://user:password@host` (or `user@host` unless
    `user_allowed`, as in sftp:/ssh: backup repositories, where a user name alone is no secret), or a query
    parameter named like a secret (`?token=`, `X-Amz-Signature=`...)."""
    m = _USERINFO.search(value)
    if m and (":" in m.group("userinfo") or not user_allowed):
        return True
    query = value.partition("?")[2].lower()
    words = (*SECRET_WORDS, "signature", "access_key", "accesskey", "key=", "sig=", "auth")
    return bool(query) and any(w in query for w in words)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.@/:+-]{1,64}$")


def _shown_key(part: str | int) -> str | int:
    """A key as printed in an error's field path: a key that does not look like a field name (a whole line of a
    file passed by mistake, such as /etc/shadow's `root:$y$...:::`) is not echoed."""
    return part if isinstance(part, int) or (_PLAIN_KEY.match(part) and part.count(":") < 2) else "<unexpected key>"


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
            field_name = field_path(tuple(_shown_key(p) for p in loc))
            problems.append(InputProblem(located.path, located.line_of(loc), field_name, _expected(err)))
        raise InputError(problems) from None
