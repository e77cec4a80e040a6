"""Derive the SecNumCloud 3.2 requirement list from the referential's text, and regenerate the data file from it.

    python tools/snc_referential.py [REFERENCE.txt]     # rewrites preuve/data/secnumcloud-3.2.yaml

The reference is the text rendering of the ANSSI PDF (../shared/reference/secnumcloud-3.2-fr.txt by default, or
$PREUVE_SNC_REFERENCE). It carries page-break artefacts, footnotes and markdown; `parse()` removes them and returns
every lettered item of chapters 5 to 19 (`N.M.x` or `N.M.K.x`) in document order: id, section title, kind
(`recommendation` when the item's first sentence says "il est recommandé", else `requirement`) and text.

The hand-written part of the data file, its `elements:` section (the verifiable elements of each requirement some
check touches, see preuve/report/coverage.py), is kept verbatim across regenerations, comments included.
tests/unit/test_referential.py re-derives the list and fails on any missing, extra, reordered or changed item.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "preuve" / "data" / "secnumcloud-3.2.yaml"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "secnumcloud-3.2-fr.txt"

HEADING = re.compile(r"^#+\s*(?:\*\*)?(\d+(?:\.\d+)*)\.?\s+(.*)$")
ITEM = re.compile(r"^(?:-\s+)?\**([a-z])\**\)\**\s+(.*)$")
FOOTNOTE = re.compile(r"^(?:<sup>|#+\s*\d+\s+[A-Z]|\d+\s+[A-Z])")  # "<sup>4</sup>Objectifs…", "#### 5 Notif…", "3 Les…"
BULLET = re.compile(r"^\s*-\s+(.*)$")
ENDS_A_CLAUSE = re.compile(r"[;:.!?)\]»,]$")


def reference_path() -> Path:
    return Path(os.environ.get("PREUVE_SNC_REFERENCE") or DEFAULT_REFERENCE)


def clean(text: str) -> str:
    """Remove markdown, HTML and footnote calls; normalise spaces."""
    text = re.sub(r"<sup>[^<]*</sup>", "", text)  # footnote calls: "sécurité<sup>2</sup> spécifiés"
    text = re.sub(r"<a [^>]*>(.*?)</a>", r"\1", text)
    text = re.sub(r"</?u>", "", text)
    text = text.replace("**", "").replace("\\_", "_")
    text = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"\1", text)  # *in fine*, *a posteriori*
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\.\s+I(?=\s|$)", ".", text)  # 7.1.b: a stray "I" at the end of a page


def _title(raw: str) -> str:
    return clean(raw).rstrip(". ").strip()


def _key(line: str) -> str:
    return re.sub(r"\s+([;:,.])", r"\1", re.sub(r"\s+", " ", line.strip()))


def _footnote_bullets(lines: list[str]) -> set[str]:
    """Bullets that belong to a footnote (the G_EXT gateway objectives), wherever the page layout dropped them."""
    out: set[str] = set()
    for i, line in enumerate(lines):
        if FOOTNOTE.match(line.strip()) and "Objectifs" in line:
            for nxt in lines[i + 1 :]:
                if not nxt.strip():
                    continue
                m = BULLET.match(nxt)
                if not m:
                    break
                out.add(_key(m.group(1)))
    return out


def parse(text: str) -> list[dict[str, str]]:
    """Every lettered item of chapters 5 to 19, in document order."""
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if re.match(r"^#+\s*5\.\s", x))
    end = next(i for i, x in enumerate(lines) if re.match(r"^#+\s*Annexe 1", x))
    lines = lines[start:end]
    drop = _footnote_bullets(lines)
    items: list[dict[str, Any]] = []
    section: str | None = None
    title = ""
    expected = "a"
    current: dict[str, Any] | None = None
    for raw in lines:
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if FOOTNOTE.match(stripped):
            continue
        h = HEADING.match(stripped)
        if h:
            number = h.group(1)
            current = None
            if number.count(".") >= 1:
                section, title, expected = number, _title(h.group(2)), "a"
            else:
                section = None
            continue
        b = BULLET.match(line)
        if b and _key(b.group(1)) in drop:
            continue
        m = ITEM.match(stripped)
        if section and m and m.group(1) == expected:
            current = {"id": f"{section}.{expected}", "title": title, "parts": [m.group(2)]}
            items.append(current)
            expected = chr(ord(expected) + 1)
            continue
        if current is None:
            continue
        prev = current["parts"][-1].rstrip()
        if b and not ENDS_A_CLAUSE.search(clean(prev)) and b.group(1)[:1].islower() and not line.startswith("  "):
            current["parts"][-1] = f"{prev} {b.group(1)}"  # a sentence cut by a page break, not a bullet
        else:
            current["parts"].append(stripped)
    out = []
    for it in items:
        body = clean(" ".join(it["parts"]))
        first = re.split(r"(?<=[.;:])\s", body, maxsplit=1)[0]
        kind = "recommendation" if re.search(r"\bil est recommandé\b", first, re.IGNORECASE) else "requirement"
        out.append({"id": it["id"], "title": it["title"], "kind": kind, "text": body})
    return out


HEADER = """\
# SecNumCloud 3.2 (ANSSI, 2022-03-08): every lettered item of chapters 5 to 19, in document order.
# GENERATED by tools/snc_referential.py from the referential's text: do not edit id, title, kind or text by hand
# (tests/unit/test_referential.py re-derives them). kind: requirement ("doit") or recommendation ("il est recommandé").
# The `elements:` section at the end is hand-written and kept verbatim by the generator.
"""


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render(items: list[dict[str, str]], elements_section: str, source_sha256: str) -> str:
    out = [
        HEADER,
        "referential:",
        "  name: SecNumCloud",
        "  version: '3.2'",
        "  date: '2022-03-08'",
        "  source: secnumcloud-3.2-fr.txt",
        f"  source_sha256: {source_sha256}",
        "requirements:",
    ]
    for it in items:
        out += [
            f"- id: {it['id']}",
            f"  title: {_q(it['title'])}",
            f"  kind: {it['kind']}",
            f"  text: {_q(it['text'])}",
        ]
    return "\n".join(out) + "\n" + elements_section


def elements_section(data_text: str) -> str:
    """The hand-written tail of the data file: from its `elements:` line (with the comments just above it) on."""
    lines = data_text.splitlines(keepends=True)
    at = next((i for i, x in enumerate(lines) if x.startswith("elements:")), None)
    if at is None:
        return ""
    while at > 0 and lines[at - 1].startswith("#"):
        at -= 1
    return "".join(lines[at:])


def main(argv: list[str]) -> int:
    ref = Path(argv[0]) if argv else reference_path()
    raw = ref.read_bytes()
    items = parse(raw.decode("utf-8"))
    tail = elements_section(DATA.read_text(encoding="utf-8")) if DATA.exists() else ""
    DATA.write_text(render(items, tail, hashlib.sha256(raw).hexdigest()), encoding="utf-8")
    kinds = {k: sum(i["kind"] == k for i in items) for k in ("requirement", "recommendation")}
    print(
        f"{DATA.relative_to(ROOT)}: {len(items)} items ({kinds['requirement']} requirements, "
        f"{kinds['recommendation']} recommendations)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
