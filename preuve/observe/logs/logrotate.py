"""logrotate's parsed configuration (`logrotate -d`), maxage, and the rotated files with their age."""

from __future__ import annotations

import fnmatch
import re

from preuve.observe.registry import HostFact
from preuve.observe.shell import SBIN_PATH as _PATH

LOGROTATE = (
    _PATH + "command -v logrotate >/dev/null || { echo '== absent logrotate is not installed'; exit 0; }; "
    "logrotate -d /etc/logrotate.conf 2>&1; echo '== config'; "
    "cat /etc/logrotate.conf /etc/logrotate.d/* 2>/dev/null; echo '== rotated'; date +%s; "
    "find /var/log -type f -regextype posix-extended -regex '.*([.-][0-9]+)(\\.(gz|xz|bz2|zst))?$' "
    "-printf '%T@ %p\\n' 2>/dev/null; true"
)


_PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 31, "yearly": 365}


def _maxages(config: str) -> dict[str, int]:
    """{pattern or "*global*": maxage days} from logrotate config text (maxage is not in `logrotate -d`)."""
    out: dict[str, int] = {}
    pending: list[str] = []
    inside: list[str] | None = None
    for raw in config.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if inside is None and line.endswith("{"):
            inside = pending + line[:-1].split()
            pending = []
            continue
        if line == "}":
            inside = None
            continue
        words = line.split()
        if words[0] == "maxage" and len(words) > 1 and words[1].isdigit():
            for p in inside if inside is not None else ["*global*"]:
                out[p] = int(words[1])
        elif inside is None and words[0].startswith("/"):
            pending += words
    return out


def parse_logrotate(text: str) -> dict:
    """Per rotated pattern: period, rotations, size, maxage; plus rotated files with their age in days."""
    if text.startswith("== absent "):  # observed: logrotate is not installed
        return {"absent": text.removeprefix("== absent ").strip(), "patterns": [], "errors": [], "rotated_files": []}
    debug, _, rest = text.partition("\n== config\n")
    config, _, rotated = rest.partition("\n== rotated\n")
    maxages = _maxages(config)
    patterns = []
    for m in re.finditer(
        r"^rotating pattern: (.+?)\s+(hourly|daily|weekly|monthly|yearly|after (\d+) days|"
        r"(\d+) bytes) \((\d+) rotations\)",
        debug,
        re.M,
    ):
        pattern, how, after, size, rotations = m.groups()
        period = _PERIOD_DAYS.get(how) if after is None else int(after)
        entry: dict = {"pattern": pattern, "rotations": int(rotations)}
        if size is not None:
            entry["size_bytes"] = int(size)
        else:
            entry["period_days"] = period
        for word in pattern.split():
            if word in maxages:
                entry["maxage_days"] = maxages[word]
        if "maxage_days" not in entry and "*global*" in maxages:
            entry["maxage_days"] = maxages["*global*"]
        patterns.append(entry)
    lines = rotated.splitlines()
    now = float(lines[0]) if lines and re.fullmatch(r"\d+", lines[0].strip()) else None
    files = []
    for line in lines[1:]:
        stamp, _, path = line.partition(" ")
        try:
            age = (now - float(stamp)) / 86400 if now is not None else None
        except ValueError:
            continue
        files.append({"path": path, "age_days": round(age, 1) if age is not None else None})
    return {"patterns": patterns, "rotated_files": files, "errors": re.findall(r"^error: (.*)$", debug, re.M)}


def rotated_of(pattern: str, files: list[dict]) -> list[dict]:
    """Rotated files of a logrotate pattern (base name followed by .N / -DATE and an optional extension)."""
    out = []
    for word in pattern.split():
        rx = re.compile(fnmatch.translate(word)[:-2] + r"[.-][0-9]+(\.(gz|xz|bz2|zst))?\Z")
        out += [f for f in files if rx.match(f["path"])]
    return out


HOST_FACTS = (
    HostFact(
        "logrotate",
        LOGROTATE,
        parse_logrotate,
        fixture="logrotate",
        doc="`logrotate -d` parse, maxage, rotated files and their age",
    ),
)
