"""The rights table of a run (SecNumCloud 9.3.d, 9.3.e, 9.4.c): who can do what on each scanned host, written as
identity-rights.csv (one row per host and account, for the quarterly review in a spreadsheet) and
identity-rights.json (the same rows keyed by person, then host: "all the rights of a given user").

Derived from results.jsonl only (the ACC-RIGHTS-TABLE results' observed table), so a re-judged run writes the same
files and they are listed in MANIFEST.sha256 like every other derived file. Key fingerprints only, never keys.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from preuve.evidence.canonical import write_atomic

CHECK = "ACC-RIGHTS-TABLE"
LABEL = "identity.rights_table"
CSV_FILE = "identity-rights.csv"
JSON_FILE = "identity-rights.json"
COLUMNS = (
    "host",
    "account",
    "person",
    "uid",
    "shell",
    "password",
    "keys",
    "sudo_rules",
    "admin_groups",
    "acts_as",
    "last_login",
)


def rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (host, account) from the ACC-RIGHTS-TABLE results, sorted."""
    out = []
    for r in results:
        if r.get("check_id") != CHECK:
            continue
        table = next((e.get("observed") for e in r.get("expectations", []) if e.get("label") == LABEL), None)
        for row in table or []:
            out.append({"host": r["target"]["name"], **row})
    return sorted(out, key=lambda x: (x["host"], x.get("account", "")))


def write_rights(out: Path, results: list[dict[str, Any]]) -> None:
    """Both files when the run judged ACC-RIGHTS-TABLE somewhere; nothing otherwise."""
    table = rows(results)
    if not table:
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in table:
        w.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    write_atomic(out / CSV_FILE, buf.getvalue().encode())
    by_person: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in table:
        who = row.get("person") or "undeclared"
        who = f"{who} ({row['account']})" if who in ("technical", "undeclared") else who
        by_person.setdefault(who, {}).setdefault(row["host"], []).append(
            {k: v for k, v in row.items() if k not in ("host", "person")}
        )
    data = {"by_host": table, "by_person": by_person}
    write_atomic(out / JSON_FILE, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n")
