"""The OSCAL writer's own indenting encoder writes exactly what json.dump(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from preuve.report.exports import _PrettyJson


class _Str(str):
    pass


class _Int(int):
    pass


class _Dict(dict[str, Any]):
    pass


class _List(list[Any]):
    pass


VALUES: list[Any] = [
    {},
    [],
    "",
    0,
    -0.0,
    1e100,
    10**30,
    float("nan"),
    float("inf"),
    True,
    None,
    {"a": [1, 2.5, False, None, 'é\u2028"x\x00\\', [], {}, {"k": []}], "b": {"c": [[[]]]}},
    [(1, 2), {"t": (3,)}],
    [_Str("sub"), _Int(7), _Dict(a=_List([1, _Str("x")]), b=_Dict()), _List(), {_Str("k"): _Int(0)}],
]


@pytest.mark.parametrize("value", VALUES)
def test_same_bytes_as_the_standard_library(value: Any) -> None:
    buf = io.StringIO()
    _PrettyJson(buf.write).dump(value)
    assert buf.getvalue() == json.dumps(value, indent=2, ensure_ascii=False)


def test_streams_long_lists_in_chunks() -> None:
    writes: list[str] = []
    value = [{"i": i, "s": str(i)} for i in range(20000)]
    _PrettyJson(writes.append).dump(value)
    assert len(writes) > 1
    assert "".join(writes) == json.dumps(value, indent=2, ensure_ascii=False)


def test_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        _PrettyJson(io.StringIO().write).dump({"x": object()})
    with pytest.raises(TypeError):
        _PrettyJson(io.StringIO().write).dump({1: "non-string key"})


def test_repeated_parts_are_written_the_same_at_every_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts oscal() shares between observations (_Same, _SameList) are written once per indentation and reused;
    flushing (here every few pieces) never cuts one being recorded."""
    from preuve.report.exports import _Same, _SameList

    monkeypatch.setattr(_PrettyJson, "FLUSH", 5)
    prop = _Same(name="status", ns="ns", value="pass")
    origins = _SameList([{"actors": [{"type": "tool", "actor-uuid": "u"}]}, prop, _SameList([])])
    value = [{"props": [prop, prop], "origins": origins, "deeper": [[origins, prop]]} for _ in range(40)]
    writes: list[str] = []
    _PrettyJson(writes.append).dump(value)
    assert len(writes) > 1
    assert "".join(writes) == json.dumps(value, indent=2, ensure_ascii=False)
