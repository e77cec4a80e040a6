"""`preuve init`: a commented starter inventory (and waivers file) to edit, instead of a blank page.

The text is inventories/example.yaml (and inventories/waivers.example.yaml), shipped as package data so an
installed preuve has it too; tests/unit/test_init_schema.py keeps the copies identical and lint-clean.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from preuve.exitcodes import Exit

FILES = {"inventory": "inventory.example.yaml", "waivers": "waivers.example.yaml"}


def template(kind: str) -> str:
    return resources.files("preuve").joinpath("data", FILES[kind]).read_text(encoding="utf-8")


def cmd_init(a: argparse.Namespace) -> int:
    written = []
    for kind, path in (("inventory", a.out), ("waivers", a.waivers)):
        if path is None:
            continue
        target = Path(path)
        if target.exists() and not a.force:
            print(f"preuve init: {target} exists (nothing written; --force replaces it)", file=sys.stderr)
            return int(Exit.USAGE)
        target.write_text(template(kind), encoding="utf-8")
        written.append(str(target))
    waivers = f" -w {a.waivers}" if a.waivers else ""
    print(f"wrote {', '.join(written)}: edit, then check with `preuve lint -i {a.out} -p PROFILE{waivers}`")
    return int(Exit.COMPLIANT)


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    i = sub.add_parser("init", help="write a commented starter inventory (and waivers file) to edit")
    i.add_argument("-o", "--out", default="inventory.yaml", help="inventory to write (default inventory.yaml)")
    i.add_argument("-w", "--waivers", nargs="?", const="waivers.yaml", help="also a waivers file (waivers.yaml)")
    i.add_argument("--force", action="store_true", help="replace existing files")
    i.set_defaults(func=cmd_init)
