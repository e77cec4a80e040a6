"""Package sources, a package index and kernels for the two lab hosts (PATCH-*, SOURCES-*), offline.

Each lab host gets its own /etc/apt (an opaque directory of its /etc overlay, so the machine's own sources never
show through) whose apt.conf.d points the package index at the host's state directory, and a local mirror
(`file:` URI) signed by a throwaway lab key. The index is made by the real `apt-get update`, run in a private
mount namespace where that /etc is laid over the machine's: apt reads exactly what the scanner will read.

- ssh-mfa (compliant): one deb822 source, Signed-By the lab mirror keyring, on the inventory's allow-list; its
  security suite holds the installed base-files version (nothing pending); a fresh index; /boot holds the
  running kernel only.
- ssh-key-only (not): the same mirror, its keyring also holding a 1024-bit RSA signing key, with `Trusted: yes`
  beside its Signed-By (signature checks bypassed: the
  naive reading "Signed-By is set" passes it), plus a one-line `.list` source with `[trusted=yes]` on a host that
  is not on the allow-list (never fetched); its security suite holds a newer base-files (a pending security
  update); its index is dated 60 days back; /boot holds a newer kernel than the running one (reboot needed).

The dpkg status is the machine's own (base-files is Essential, always installed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .paths import LabPaths

SUITE = "bookworm-security"
STALE_INDEX_DAYS = 60
NEWER_KERNEL = "6.99.0-99-amd64"  # a kernel image newer than any the machine runs (ssh-key-only: reboot needed)
FOREIGN_SOURCE = "http://deb.example.invalid/debian"  # the weak host's unlisted mirror: never fetched


def mirror(paths: LabPaths) -> Path:
    return paths.root / "apt-mirror"


def mirror_uri(paths: LabPaths, name: str) -> str:
    return f"file:{mirror(paths) / name}"


def keyring(paths: LabPaths) -> Path:
    return mirror(paths) / "preuve-lab-mirror.gpg"


def apt_state(paths: LabPaths, name: str) -> Path:
    return paths.root / "hosts" / name / "apt"


def boot_dir(paths: LabPaths, name: str) -> Path:
    return paths.root / "hosts" / name / "boot"


def _arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def _installed_stanza(package: str) -> dict[str, str]:
    out = subprocess.run(["dpkg-query", "-s", package], capture_output=True, text=True, check=True).stdout
    fields: dict[str, str] = {}
    for line in out.splitlines():
        if line[:1].isspace() or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _gpg(home: Path, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["gpg", "--batch", "--quiet", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", "", *args],
        input=stdin,
        capture_output=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gpg {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def _stop_agents(paths: LabPaths) -> None:
    """End the gpg-agent of each of the mirror's GnuPG homes (started by gpg, it would outlive the lab)."""
    for home in (mirror(paths) / "gnupg", mirror(paths) / "gnupg-legacy"):
        if home.is_dir():
            with contextlib.suppress(OSError):
                subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def _signing_home(paths: LabPaths) -> Path:
    """A GnuPG home holding the lab mirror's signing key (ed25519), made once."""
    home = mirror(paths) / "gnupg"
    if not (home / "pubring.kbx").exists():
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        _gpg(home, "--quick-gen-key", "preuve lab mirror <mirror@preuve-lab.invalid>", "ed25519", "sign", "never")
    keyring(paths).write_bytes(_gpg(home, "--export"))
    keyring(paths).chmod(0o644)
    return home


def _legacy_key(paths: LabPaths) -> bytes:
    """A 1024-bit RSA signing key left in the weak host's keyring (SOURCES-SIGNING-KEYS), made once."""
    home = mirror(paths) / "gnupg-legacy"
    if not (home / "pubring.kbx").exists():
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        _gpg(
            home, "--quick-gen-key", "preuve lab legacy signer <legacy@preuve-lab.invalid>", "rsa1024", "sign", "never"
        )
    return _gpg(home, "--export")


def _suite(paths: LabPaths, name: str, version: str, home: Path) -> None:
    """dists/SUITE/{InRelease,main/binary-ARCH/Packages} of this host's mirror, base-files at `version`."""
    arch = _arch()
    stanza = _installed_stanza("base-files")
    fields = {k: v for k, v in stanza.items() if k not in ("Status", "Conffiles", "Description", "Version")}
    fields["Version"] = version
    fields["Filename"] = f"pool/main/b/base-files/base-files_{version}_{arch}.deb"
    fields["Size"] = "1024"
    fields["SHA256"] = "0" * 64
    fields["Description"] = "preuve lab: an index entry only (no package file is ever fetched)"
    packages = "".join(f"{k}: {v}\n" for k, v in fields.items()) + "\n"
    dists = mirror(paths) / name / "dists" / SUITE
    if dists.exists():
        shutil.rmtree(dists)
    binary = dists / "main" / f"binary-{arch}"
    binary.mkdir(parents=True)
    (binary / "Packages").write_text(packages)
    digest = hashlib.sha256(packages.encode()).hexdigest()
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    release = (
        f"Origin: preuve-lab\nLabel: preuve-lab-Security\nSuite: {SUITE}\nCodename: {SUITE}\nDate: {date}\n"
        f"Architectures: {arch}\nComponents: main\nDescription: preuve lab security mirror ({name})\n"
        f"SHA256:\n {digest} {len(packages.encode())} main/binary-{arch}/Packages\n"
    )
    (dists / "Release").write_text(release)
    (dists / "InRelease").write_bytes(_gpg(home, "--clearsign", "--digest-algo", "SHA512", stdin=release.encode()))
    for p in (mirror(paths), mirror(paths) / name, *dists.parent.parent.rglob("*")):
        p.chmod(0o755 if p.is_dir() else 0o644)


def write_etc(paths: LabPaths, name: str, etc: Path) -> None:
    """The host's /etc/apt (opaque in its overlay) and its mirror suite; /boot with its kernel images."""
    try:
        home = _signing_home(paths)
        installed = _installed_stanza("base-files")["Version"]
        _suite(paths, name, installed if name == "ssh-mfa" else f"{installed}+preuvelab1", home)
        legacy = _legacy_key(paths) if name != "ssh-mfa" else b""
    finally:
        _stop_agents(paths)  # gpg starts an agent per home that outlives it: the lab leaves no process behind
    apt = etc / "apt"
    for d in ("apt.conf.d", "sources.list.d", "keyrings", "preferences.d", "trusted.gpg.d"):
        (apt / d).mkdir(parents=True, exist_ok=True)
    state = apt_state(paths, name)
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "apt.conf.d" / "90preuve-lab").write_text(
        "// preuve lab: this host's package index lives in its state directory\n"
        f'Dir::State::lists "{state / "lists"}/";\nDir::Cache "{state / "cache"}/";\n'
        'Acquire::Languages "none";\n'
    )
    ring = keyring(paths).read_bytes()
    if name != "ssh-mfa":  # an old 1024-bit RSA key still trusted beside the mirror's (naive: Signed-By is set)
        ring += legacy
    (apt / "keyrings" / "preuve-lab-mirror.gpg").write_bytes(ring)
    source = (
        f"Types: deb\nURIs: {mirror_uri(paths, name)}\nSuites: {SUITE}\nComponents: main\n"
        "Signed-By: /etc/apt/keyrings/preuve-lab-mirror.gpg\n"
    )
    if name != "ssh-mfa":  # Trusted: yes disables the signature check whatever Signed-By says
        source += "Trusted: yes\n"
        (apt / "sources.list").write_text(f"deb [trusted=yes] {FOREIGN_SOURCE} bookworm main\n")
    (apt / "sources.list.d" / "preuve-lab.sources").write_text(source)
    for p in apt.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    os.setxattr(apt, "trusted.overlay.opaque", b"y")  # the machine's own sources never show through
    boot = boot_dir(paths, name)
    if boot.exists():
        shutil.rmtree(boot)
    boot.mkdir(parents=True)
    kernels = [platform.release()] + ([] if name == "ssh-mfa" else [NEWER_KERNEL])
    for k in kernels:
        (boot / f"vmlinuz-{k}").write_text("preuve lab: a kernel image name only\n")


def refresh_index(paths: LabPaths, name: str, etc: Path) -> None:
    """The real `apt-get update` against the host's own /etc (overlay in a private mount namespace), offline:
    its only fetched source is the `file:` mirror (the weak host's http source is left out of this update)."""
    with tempfile.TemporaryDirectory(prefix="preuve-lab-apt-") as tmp:
        only = Path(tmp) / "sources.list.d"
        only.mkdir()
        shutil.copyfile(etc / "apt" / "sources.list.d" / "preuve-lab.sources", only / "preuve-lab.sources")
        script = (
            'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && '
            'apt-get -q -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$2" '
            "-o APT::Sandbox::User=root update"
        )
        proc = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(etc), str(only)],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
        )
    lists = apt_state(paths, name) / "lists"
    if proc.returncode != 0 or not any(lists.glob("*InRelease")):
        raise RuntimeError(f"apt-get update for lab host {name} failed: {(proc.stderr or proc.stdout).strip()}")
    for p in lists.iterdir():
        if p.is_file():
            p.chmod(0o644)
            if name != "ssh-mfa":  # a stale index: fetched 60 days ago
                old = time.time() - STALE_INDEX_DAYS * 86400
                os.utime(p, (old, old))
