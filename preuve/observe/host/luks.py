"""Encryption at rest of a host's data volumes: LUKS headers and how each volume is unlocked (ENC-*, KEYS-LUKS-*).

For every data volume the inventory declares (`hosts[].data_volumes`, passed as $PREUVE_DATA_VOLUMES), the
header as `cryptsetup luksDump` prints it (read-only; salts and key digests are dropped on the host), and
/etc/crypttab, which says where the unlock secret lives: a key file on the host's own disks, a passphrase typed at
boot (`none`), or a TPM2 / FIDO2 / PKCS#11 device. `lsblk` adds the block topology (which open dm-crypt mapping
carries which filesystem; a declared open mapping is judged on the device under it). A non-root scanning account
needs one sudo rule per declared device (never a wildcard: `cryptsetup luksDump *` would also allow
`--dump-volume-key --key-file ...`).
"""

from __future__ import annotations

import json
import re

from preuve.observe.registry import HostFact

LUKS = (
    'PATH="$PATH:/usr/sbin:/sbin"; export LC_ALL=C; '
    'asroot() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }; '
    "echo '== lsblk'; lsblk -J -o NAME,PATH,TYPE,FSTYPE,MOUNTPOINT,PKNAME 2>/dev/null || echo '{}'; "
    "echo '== crypttab'; [ -f /etc/crypttab ] && grep -vE '^[[:space:]]*(#|$)' /etc/crypttab; "
    "command -v cryptsetup >/dev/null 2>&1 || { echo '== no-cryptsetup'; exit 0; }; "
    'for v in $PREUVE_DATA_VOLUMES; do echo "== volume $v"; '
    'if [ ! -e "$v" ]; then echo "#absent"; continue; fi; echo "#device $(readlink -f "$v")"; d=$v; '
    # an open dm-crypt mapping declared instead of its device: the header is on the parent
    'if [ "$(lsblk -dno TYPE "$v" 2>/dev/null)" = crypt ]; then p=$(lsblk -dno PKNAME "$v" 2>/dev/null | head -n 1); '
    '[ -n "$p" ] && { d="/dev/$p"; echo "#mapping-of $d"; }; fi; '
    'out=$(asroot cryptsetup luksDump "$d" 2>&1); rc=$?; '
    'if [ $rc -ne 0 ]; then case "$out" in *"not a valid LUKS device"*) echo "#not-luks";; '
    '*) printf "%s: %s\\n" "$v" "$out" >&2; exit 1;; esac; else printf "%s\\n" "$out" | '
    "grep -vE '^[[:space:]]+([0-9a-f]{2} )+[0-9a-f]{2} ?$|^[[:space:]]*(Salt|Digest|MK digest|MK salt):'; "
    "fi; done; true"
)


def _crypttab(lines: list[str]) -> list[dict]:
    """crypttab(5): name, device, key file (none/-: asked at boot), options."""
    out = []
    for line in lines:
        words = line.split()
        if len(words) < 2:
            continue
        key = words[2] if len(words) > 2 else "none"
        options = words[3].split(",") if len(words) > 3 else []
        out.append(
            {"name": words[0], "device": words[1], "key": None if key in ("none", "-") else key, "options": options}
        )
    return out


def parse_dump(lines: list[str]) -> dict:
    """`cryptsetup luksDump` (LUKS1 or LUKS2): version, data cipher, keyslots (key bits, PBKDF, memory), tokens."""
    out: dict = {"version": None, "cipher": None, "keyslots": [], "tokens": []}
    section = None
    slot: dict | None = None
    token: dict | None = None
    for raw in lines:
        line = raw.rstrip()
        if line.startswith("UUID:"):
            out["uuid"] = line.split(":", 1)[1].strip()
            continue
        m = re.match(r"^(Version|Cipher name|Cipher mode|MK bits|Hash spec):\s*(.*)$", line)
        if m:  # LUKS1 header fields (and LUKS2's Version)
            key, value = m[1], m[2].strip()
            if key == "Version":
                out["version"] = int(value) if value.isdigit() else value
            elif key == "Cipher name":
                out["cipher"] = value if out["cipher"] is None else f"{value}-{out['cipher']}"
            elif key == "Cipher mode":
                out["cipher"] = f"{out['cipher']}-{value}" if out["cipher"] else value
            elif key == "MK bits":
                out["key_bits"] = int(value)
            continue
        m = re.match(r"^Key Slot (\d+): (ENABLED|DISABLED)$", line)
        if m:  # LUKS1 keyslot
            slot = {"slot": int(m[1]), "pbkdf": "pbkdf2", "key_bits": out.get("key_bits")}
            if m[2] == "ENABLED":
                out["keyslots"].append(slot)
            continue
        if re.match(r"^(Data segments|Keyslots|Tokens|Digests):", line):
            section, slot, token = line.split(":")[0], None, None
            continue
        stripped = line.strip()
        m = re.match(r"^\s+(\d+): (\S+)$", line)
        if m and section == "Keyslots":
            slot = {"slot": int(m[1]), "type": m[2]}
            out["keyslots"].append(slot)
            continue
        if m and section == "Tokens":
            token = {"token": int(m[1]), "type": m[2], "keyslots": []}
            out["tokens"].append(token)
            continue
        if m and section == "Data segments":
            continue
        key, sep, value = stripped.partition(":")
        if not sep:
            if token is not None and section == "Tokens" and stripped.isdigit():
                token["keyslots"].append(int(stripped))
            continue
        key, value = key.strip(), value.strip()
        if section == "Data segments" and key == "cipher":
            out["cipher"] = value
        elif section == "Keyslots" and slot is not None:
            if key == "Key":
                slot["key_bits"] = int(value.split()[0])
            elif key == "PBKDF":
                slot["pbkdf"] = value
            elif key == "Memory":
                slot["memory_kib"] = int(value) if value.isdigit() else value
            elif key in ("Time cost", "Iterations"):
                slot["iterations"] = int(value) if value.isdigit() else value
        elif section == "Tokens" and token is not None and key == "Keyslot":
            token["keyslots"].append(int(value) if value.isdigit() else value)
    if out["version"] == 2:
        out["key_bits"] = max((s.get("key_bits") or 0 for s in out["keyslots"]), default=None) or None
    return out


def parse(text: str) -> dict:
    """{"lsblk": {...}, "crypttab": [...], "cryptsetup": bool, "volumes": {path: {"device", "luks": dump|None,
    "absent": bool}}}."""
    out: dict = {"lsblk": {}, "crypttab": [], "cryptsetup": True, "volumes": {}}
    section, arg, lines = None, "", []
    blocks: list[tuple[str | None, str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("== "):
            blocks.append((section, arg, lines))
            section, _, arg = line[3:].partition(" ")
            lines = []
        else:
            lines.append(line)
    blocks.append((section, arg, lines))
    for name, arg, body in blocks:
        if name == "lsblk":
            try:
                out["lsblk"] = json.loads("\n".join(body) or "{}")
            except ValueError:
                out["lsblk"] = {"unparsed": True}
        elif name == "crypttab":
            out["crypttab"] = _crypttab([b for b in body if b.strip()])
        elif name == "no-cryptsetup":
            out["cryptsetup"] = False
        elif name == "volume":
            vol: dict = {"device": None, "absent": False, "luks": None}
            if "#absent" in body:
                vol["absent"] = True
            for b in body:
                if b.startswith("#device "):
                    vol["device"] = b[8:].strip()
                elif b.startswith("#mapping-of "):
                    vol["mapping_of"] = b[12:].strip()
            if not vol["absent"] and "#not-luks" not in body:
                vol["luks"] = parse_dump([b for b in body if not b.startswith("#")])
            out["volumes"][arg.strip()] = vol
    return out


def unlock_of(volume: str, device: str | None, crypttab: list[dict], uuid: str | None = None) -> dict | None:
    """The crypttab entry that opens this volume: by the declared path, the resolved device, or the LUKS header's
    UUID (`UUID=...`, /dev/disk/by-uuid/..., the form crypttab entries usually take)."""
    names = {volume, device}
    if uuid:
        names |= {f"UUID={uuid}", f"/dev/disk/by-uuid/{uuid}"}
    for entry in crypttab:
        if entry["device"] in names:
            return entry
    return None


HOST_FACTS = (
    HostFact(
        "luks",
        LUKS,
        parse,
        fixture="luks",
        doc="declared data volumes: LUKS header (version, cipher, key size, keyslot PBKDF, tokens) from "
        "`cryptsetup luksDump`, /etc/crypttab unlock entries, lsblk topology",
    ),
)
