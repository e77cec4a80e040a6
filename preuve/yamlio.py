"""YAML reading through libyaml when it is there: ten times faster than the pure-Python parser, which
matters for a CLI that reads every catalogue and the referential on each run."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)
