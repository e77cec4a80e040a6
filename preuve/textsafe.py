"""Text a target controls, made safe for each writer.

Certificate subjects, SSH banners, Kubernetes flags, role names and waiver fields come from outside. They may
hold control characters, U+FFFF or escape sequences: XML 1.0 forbids most of them (one in junit.xml and CI
rejects the whole file), and a terminal executes escape sequences. Each writer renders such a character as a
visible escape (`\\x1b`, `\\uffff`) instead: the value stays readable and unambiguous, nothing is dropped.
"""

from __future__ import annotations

import re
from typing import Any

# Not allowed in XML 1.0 (section 2.2): everything but #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]. DEL and C1 controls are allowed by XML but shown escaped too (they mean nothing to a reader).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# On a terminal, also CR, tabs and newlines inside one cell, and bidirectional overrides (Trojan Source).
_TERM_BAD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def xml_text(s: str) -> str:
    """`s` with every character XML 1.0 forbids written as a visible escape."""
    return _XML_BAD.sub(_visible, s)


def terminal(s: str) -> str:
    """`s` with control characters (newlines kept), escape sequences and bidi overrides made visible."""
    return _TERM_BAD.sub(_visible, s)


def terminal_line(s: str) -> str:
    """One terminal line: newlines made visible too (a target cannot forge a line of the summary)."""
    return terminal(s).replace("\n", "\\n")


def deep(value: Any, fn: Any = xml_text) -> Any:
    """`fn` applied to every string inside a JSON-like value (keys included)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {deep(k, fn): deep(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [deep(v, fn) for v in value]
    return value
