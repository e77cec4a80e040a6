"""Add up JUnit files into one closing line: `total: N passed, N failed, N skipped` (N errors when any).

ci/test.sh runs the unit half and the lab half as two pytest sessions; this line counts the whole suite. A missing or
unreadable file is itself a failure (exit 1), so a half that never ran cannot look like a clean pass.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def totals(paths: list[str]) -> dict[str, int]:
    count = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in count:
                count[key] += int(suite.get(key, "0"))
    return count


def main(argv: list[str]) -> int:
    try:
        c = totals(argv)
    except (OSError, ET.ParseError) as exc:
        print(f"total: cannot read a JUnit file: {exc}", file=sys.stderr)
        return 1
    passed = c["tests"] - c["failures"] - c["errors"] - c["skipped"]
    line = f"total: {passed} passed, {c['failures']} failed, {c['skipped']} skipped"
    if c["errors"]:
        line += f", {c['errors']} errors"
    print(line)
    return 1 if c["failures"] or c["errors"] or not c["tests"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
