"""The profile parameters an observation itself depends on (restore-drill sample size, data-check fraction).

Most parameters only matter when judging; a few shape what is observed. The run sets them once before
observing; collectors read them here and record the values they used in their observation's query.
"""

from __future__ import annotations

from preuve.inputs.params import Params

_CURRENT: Params = Params()


def set_params(params: Params) -> None:
    global _CURRENT
    _CURRENT = params


def current() -> Params:
    return _CURRENT
