"""Reading results.jsonl back (no pydantic: the reports and `preuve diff` work on plain dicts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file (results.jsonl). Split on "\\n" only: the canonical JSON of a result keeps
    U+2028, U+0085 and the like as they are (a banner may hold them), where `str.splitlines` would cut a line."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").split("\n") if line.strip()]
