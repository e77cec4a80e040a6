"""Data volumes of the two lab hosts: real LUKS headers on loop devices (ENC-*, KEYS-LUKS-UNLOCK).

The machine has no dm-crypt here, so volumes are never opened: what the checks read is the header
(`cryptsetup luksDump`) and /etc/crypttab, which is what they judge. Each volume is an image file in the state
directory on a loop device of fixed minor (/dev/loop60.. /dev/loop63, nodes made with mknod when absent), so the
lab inventory can name it; the images are formatted once and reused.

- ssh-mfa: /dev/loop60, LUKS2 aes-xts-plain64 512-bit key, argon2id 64 MiB; crypttab asks the passphrase at boot.
- ssh-key-only: /dev/loop61, the same compliant header but crypttab unlocks it (by UUID=) with a key file on the
  host's own disk (/etc/luks-keys/data.key: the naive header-only check passes it); /dev/loop62 LUKS1
  aes-cbc-essiv:sha256 256-bit PBKDF2; /dev/loop63 no LUKS at all (plaintext data volume).
"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
from pathlib import Path

from .paths import LabPaths

LOOP_MAJOR = 7
# host -> [(loop minor, format)]: format is luks2, luks1 or plain
VOLUMES: dict[str, list[tuple[int, str]]] = {
    "ssh-mfa": [(60, "luks2")],
    "ssh-key-only": [(61, "luks2"), (62, "luks1"), (63, "plain")],
}
KEYFILE = "/etc/luks-keys/data.key"  # ssh-key-only's crypttab key file, inside its /etc overlay


def device(minor: int) -> str:
    return f"/dev/loop{minor}"


def devices(name: str) -> list[str]:
    return [device(m) for m, _ in VOLUMES[name]]


def _image(paths: LabPaths, minor: int) -> Path:
    return paths.root / "volumes" / f"data-{minor}.img"


def _format(img: Path, kind: str, keyfile: Path) -> None:
    """Format once (an image already carrying its header is kept: argon2 costs seconds)."""
    marker = img.with_suffix(f".{kind}")
    if img.exists() and marker.exists():
        return
    img.parent.mkdir(parents=True, exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(20 * 1024 * 1024)
    if kind == "luks2":
        args = ["--type", "luks2", "--cipher", "aes-xts-plain64", "--key-size", "512", "--pbkdf", "argon2id"]
        args += ["--pbkdf-memory", "65536", "--pbkdf-force-iterations", "4", "--pbkdf-parallel", "1"]
    elif kind == "luks1":
        args = ["--type", "luks1", "--cipher", "aes-cbc-essiv:sha256", "--key-size", "256"]
        args += ["--pbkdf-force-iterations", "1000"]
    else:
        marker.write_text("")
        return
    proc = subprocess.run(
        ["cryptsetup", "luksFormat", "-q", "--batch-mode", *args, "--key-file", str(keyfile), str(img)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cryptsetup luksFormat {img} failed: {proc.stderr.strip()}")
    marker.write_text("")


def _backing(dev: str) -> str | None:
    proc = subprocess.run(["losetup", "-n", "-O", "BACK-FILE", dev], capture_output=True, text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def attach(paths: LabPaths) -> None:
    """Format the images (once) and bind each to its fixed loop device."""
    keyfile = paths.root / "volumes" / "data.key"
    keyfile.parent.mkdir(parents=True, exist_ok=True)
    if not keyfile.exists():
        keyfile.write_bytes(secrets.token_bytes(64))
        keyfile.chmod(0o600)
    for vols in VOLUMES.values():
        for minor, kind in vols:
            img = _image(paths, minor)
            _format(img, kind, keyfile)
            dev = device(minor)
            if not os.path.exists(dev):
                os.mknod(dev, 0o660 | stat.S_IFBLK, os.makedev(LOOP_MAJOR, minor))
            back = _backing(dev)
            if back == str(img):
                continue
            if back is not None:
                raise RuntimeError(f"{dev} is already bound to {back}: the lab needs it for {img}")
            proc = subprocess.run(["losetup", "-r", dev, str(img)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"losetup {dev} {img} failed: {proc.stderr.strip()}")


def detach(paths: LabPaths) -> None:
    """Release the loop devices bound to the lab's images (lab down)."""
    for vols in VOLUMES.values():
        for minor, _ in vols:
            dev = device(minor)
            if os.path.exists(dev) and _backing(dev) == str(_image(paths, minor)):
                subprocess.run(["losetup", "-d", dev], capture_output=True)


def _uuid(paths: LabPaths, minor: int) -> str:
    proc = subprocess.run(["cryptsetup", "luksUUID", str(_image(paths, minor))], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"cryptsetup luksUUID {_image(paths, minor)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def write_etc(paths: LabPaths, name: str, etc: Path) -> None:
    """The host's /etc/crypttab (and, on ssh-key-only, the key file it names, copied into its /etc)."""
    lines = ["# preuve lab: data volumes (headers only: the lab machine has no dm-crypt)"]
    for i, (minor, kind) in enumerate(VOLUMES[name], 1):
        if kind == "plain":
            continue
        keyed = name != "ssh-mfa" and i == 1
        # the keyed entry names its volume by UUID, as crypttab entries usually do (a path-only match misses it)
        dev = f"UUID={_uuid(paths, minor)}" if keyed else device(minor)
        lines.append(f"data{i} {dev} {KEYFILE if keyed else 'none'} luks")
    (etc / "crypttab").write_text("\n".join(lines) + "\n")
    if name != "ssh-mfa":
        target = etc / KEYFILE.lstrip("/").removeprefix("etc/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o700)
        target.write_bytes((paths.root / "volumes" / "data.key").read_bytes())
        target.chmod(0o400)


def sudoers(name: str) -> str:
    """One rule per declared device (a wildcard would also allow --dump-volume-key with a key file)."""
    return "".join(f"auditor ALL=(root) NOPASSWD: /usr/sbin/cryptsetup luksDump {d}\n" for d in devices(name))
