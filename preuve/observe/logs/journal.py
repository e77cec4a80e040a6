"""The journal as it is, not as configured: oldest entry and disk usage of each journal store, and its size cap.

Cheap on a big journal: `journalctl --header` reads only the file headers (each carries its head entry's
realtime stamp, in hex usec), `du`/`df` give the store's usage and filesystem; no entry, hence no message,
is read. Read-only; a journal file the scanning account cannot read is an error, never an empty journal.
"""

from __future__ import annotations

import re

from preuve.observe.registry import HostFact

_PATH = 'PATH="$PATH:/usr/sbin:/sbin"; '
STORES = {"persistent": "/var/log/journal", "volatile": "/run/log/journal"}

JOURNAL = (
    _PATH + "command -v journalctl >/dev/null || { echo '== absent journalctl is not installed'; exit 0; }; "
    'date +%s; for d in /var/log/journal /run/log/journal; do [ -d "$d" ] || continue; '
    '{ [ -r "$d" ] && [ -x "$d" ]; } || { echo "journal store $d is not readable by $(id -un)" >&2; exit 1; }; '
    'u=$(find "$d" \\( -name "*.journal" -o -name "*.journal~" \\) ! -readable 2>&1 | head -n 1); '
    '[ -z "$u" ] || { echo "journal file $u is not readable by $(id -un)" >&2; exit 1; }; '
    'printf \'== store %s %s %s\\n\' "$d" "$(du -s -B1 "$d" | cut -f1)" '
    "\"$(df -P -B1 \"$d\" | awk 'NR==2 {print $2, $4}')\"; done; echo '== header'; "
    "journalctl --header --no-pager 2>&1 | grep -E '^(File path|Head realtime timestamp):'; true"
)

_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5, "E": 1024**6}
FOUR_GIB = 4 * 1024**3


def parse_journal(text: str) -> dict:
    """{"now": epoch s, "stores": {dir: {usage_bytes, fs_size_bytes, fs_avail_bytes, files, oldest}}}."""
    lines = text.splitlines()
    if lines and lines[0].startswith("== absent "):  # observed: journalctl is not installed
        return {"now": None, "stores": {}, "absent": lines[0].removeprefix("== absent ")}
    now = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    stores: dict[str, dict] = {}
    path = None
    for line in lines[1:]:
        if line.startswith("== store "):
            parts = line.split()[2:]
            nums = [int(p) if p.isdigit() else None for p in parts[1:4]] + [None] * 3
            stores[parts[0]] = {
                "usage_bytes": nums[0],
                "fs_size_bytes": nums[1],
                "fs_avail_bytes": nums[2],
                "files": 0,
                "oldest": None,
            }
        elif line.startswith("File path:"):
            path = line.split(":", 1)[1].strip()
        elif line.startswith("Head realtime timestamp:") and path:
            m = re.search(r"\(([0-9a-f]+)\)\s*$", line)
            store = next((s for d, s in stores.items() if path.startswith(d + "/")), None)
            if store is None:
                continue
            store["files"] += 1
            usec = int(m[1], 16) if m else 0
            if usec and (store["oldest"] is None or usec / 1e6 < store["oldest"]):
                store["oldest"] = usec / 1e6
    return {"now": now, "stores": stores}


def size_bytes(value: str | None) -> int | None:
    """journald.conf(5) size ("8M", "20G", "512K", plain bytes; base 1024) -> bytes; None if unset/unparsable."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGTPE]?)B?\s*", value or "")
    return int(float(m[1]) * _SIZE_UNITS[m[2]]) if m else None


def human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def measure(settings: dict[str, str], storage: str, journal: dict, cap_fraction: float) -> dict | None:
    """What the store journald writes to says: oldest entry age, usage and its cap (None: no store to measure).

    The cap is <System|Runtime>MaxUse (default 10 % of the filesystem, at most 4 GiB) and the free space
    journald keeps (<..>KeepFree, default 15 %, at most 4 GiB), as journald.conf(5) of systemd 252 says. The
    store is "at cap" when its usage reaches cap_fraction of MaxUse (journald vacuums archived files before the
    active one fills, so a full journal hovers just below it) or the filesystem is down to KeepFree.
    """
    directory = STORES.get(storage)
    store = journal["stores"].get(directory) if directory else None
    if store is None:
        return None
    prefix = "System" if storage == "persistent" else "Runtime"
    fs = store["fs_size_bytes"]
    default = min(fs // 10, FOUR_GIB) if fs else None
    max_use = size_bytes(settings.get(prefix + "MaxUse"))
    cap_name = f"{prefix}MaxUse" if max_use is not None else f"{prefix}MaxUse (default 10 % of the filesystem)"
    max_use = max_use if max_use is not None else default
    keep_free = size_bytes(settings.get(prefix + "KeepFree"))
    keep_free = keep_free if keep_free is not None else (min(fs * 15 // 100, FOUR_GIB) if fs else None)
    usage, avail = store["usage_bytes"], store["fs_avail_bytes"]
    by_use = usage is not None and max_use is not None and usage >= cap_fraction * max_use
    by_free = avail is not None and keep_free is not None and avail <= keep_free
    oldest, now = store["oldest"], journal["now"]
    age = round((now - oldest) / 86400, 1) if oldest is not None and now is not None else None
    return {
        "store": directory,
        "oldest_days": age,
        "files": store["files"],
        "usage_bytes": usage,
        "cap_bytes": max_use,
        "cap_name": cap_name,
        "at_cap": by_use or by_free,
        "cap_detail": f"{human(usage)} used of {cap_name} {human(max_use)}"
        + (f", filesystem down to {prefix}KeepFree {human(keep_free)}" if by_free else ""),
    }


HOST_FACTS = (
    HostFact(
        "journal",
        JOURNAL,
        parse_journal,
        fixture="journal",
        doc="journal stores: oldest entry (file headers), disk usage, filesystem size and free space",
    ),
)
