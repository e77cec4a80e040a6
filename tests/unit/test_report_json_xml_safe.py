"""SARIF and the Prowler crosswalk skip the copy of the whole document through textsafe.deep when no string needs
it: the text must be the same as with the copy, whatever characters a target put in its strings (keys too)."""

from __future__ import annotations

import json
import random

from preuve.report.sarif import dumps_xml_safe
from preuve.textsafe import deep

# C0 controls (JSON escapes them: \u00XX, \b, \f, \n...), DEL and C1, surrogates, U+FFFE/FFFF, and the characters
# of an escaped backslash followed by b, f or u00 (the check's false alarms)
CHARS = [chr(c) for c in [*range(0x30), *range(0x7B, 0xA2), 0xD800, 0xDFFF, 0xFFFE, 0xFFFF, 0xFFFD, 0x2028]] + list(
    "\\bfu01"
)


def test_same_text_as_through_deep() -> None:
    rnd = random.Random(18)
    for _ in range(5000):
        s = "".join(rnd.choice(CHARS) for _ in range(rnd.randint(0, 6)))
        doc = {"k" + s: [s, {"x": s, "n": 1, "t": (s, None, True, 2.5)}]}
        for kwargs in ({"separators": (",", ":")}, {"indent": 1}):
            assert dumps_xml_safe(doc, **kwargs) == json.dumps(deep(doc), ensure_ascii=False, **kwargs), repr(s)


def test_a_clean_document_is_written_as_it_is() -> None:
    doc = {"message": "TLS 1.0 accepté — « suite faible »", "évidence": ["a\\\\b", "tab\there\nnew line"]}
    assert dumps_xml_safe(doc) == json.dumps(doc, ensure_ascii=False)
