"""`preuve schema`: JSON Schema (draft 2020-12) of the inventory, profile and waiver formats, for editors.

Derived from the pydantic models `preuve lint` validates with, so the schema cannot drift from the validator.
What a schema cannot say (cross-references: a host's zone must be declared, a jump host must exist, a waiver may
not cover everything, a profile's parent must be found) stays `preuve lint`'s job: the schema is the editor's
first line, lint the authority. The profile's `params` are described by the parameter model (every field optional:
a profile overrides the defaults it names).

Editors: VS Code's YAML extension reads `# yaml-language-server: $schema=inventory.schema.json` at the top of a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from preuve import __version__

KINDS = ("inventory", "profile", "waivers")
BASE = "urn:preuve:schema"  # no web site claimed: a URN names the schema


def schema(kind: str) -> dict[str, Any]:
    if kind == "inventory":
        from preuve.inputs.inventory import Inventory as model
    elif kind == "profile":
        from preuve.inputs.profile import ProfileFile as model  # type: ignore[assignment]
    elif kind == "waivers":
        from preuve.inputs.waivers import WaiverFile as model  # type: ignore[assignment]
    else:
        raise ValueError(f"unknown schema {kind!r} (one of {', '.join(KINDS)})")
    out = model.model_json_schema(mode="validation")
    if kind == "profile":
        from preuve.inputs.params import Params

        params = Params.model_json_schema(mode="validation")
        out.setdefault("$defs", {}).update(params.pop("$defs", {}))
        params.pop("required", None)
        out["$defs"]["Params"] = params
        out["properties"]["params"] = {
            "$ref": "#/$defs/Params",
            "description": "overrides of the default "
            "parameters (`preuve checks describe ID` names those a check reads)",
        }
    if kind == "waivers":  # the validator also takes a date alone (the end of that day, UTC)
        out["$defs"]["Waiver"]["properties"]["expires"] = {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "description": "a date (end of that day, UTC) or a date-time with its UTC offset",
            "title": "Expires",
        }
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}:{__version__}:{kind}",
        "title": f"preuve {kind} ({__version__})",
    }
    return {**head, **{k: v for k, v in out.items() if k != "title"}}


def cmd_schema(a: argparse.Namespace) -> int:
    kinds = KINDS if a.kind == "all" else (a.kind,)
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        for k in kinds:
            (out / f"{k}.schema.json").write_text(json.dumps(schema(k), indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {', '.join(f'{out}/{k}.schema.json' for k in kinds)}", file=sys.stderr)
        return 0
    if len(kinds) > 1:
        json.dump({k: schema(k) for k in kinds}, sys.stdout, indent=2, ensure_ascii=False)
    else:
        json.dump(schema(kinds[0]), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    s = sub.add_parser("schema", help="JSON Schema of the inventory, profile and waiver formats (for editors)")
    s.add_argument("kind", nargs="?", default="all", choices=[*KINDS, "all"])
    s.add_argument("-o", "--out", metavar="DIR", help="write <kind>.schema.json files into DIR")
    s.set_defaults(func=cmd_schema)
