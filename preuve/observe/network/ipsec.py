"""strongSwan gateways, read through swanctl (10.2.d: IKEv2 only, AEAD, PFS groups, certificates; 13.2.b: tunnels up).

Three read-only reads, on the scanner or over SSH on the gateway's host:
- `swanctl --list-conns --pretty`: the loaded connections (IKE version, authentication class of each round);
- `swanctl --list-sas --pretty`: the live IKE SAs and CHILD SAs, with the algorithms they negotiated;
- the swanctl.conf files the inventory names: the configured IKE `proposals` and CHILD `esp_proposals`, which the
  vici listing does not carry (a 3DES proposal kept as a fallback is only visible there). Only the `connections`
  section is parsed and recorded; `secrets` (pre-shared keys, key passphrases) is dropped unread.
Proposal keywords are normalised to the names swanctl prints for negotiated SAs (AES_GCM_16_256, ECP_384).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

MARK = "@@preuve-ipsec@@"


def parse_pretty(text: str) -> list[dict[str, Any]]:
    """swanctl's --pretty dump: one dict per event (`list-conn event {...}`, `list-sa event {...}`)."""
    events: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    key_list: tuple[dict[str, Any], str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if key_list is not None:
            if line == "]":
                key_list = None
            else:
                key_list[0][key_list[1]].append(line)
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            node: dict[str, Any] = {}
            if not stack:
                if name.endswith(" event"):
                    events.append(node)
            else:
                stack[-1][name] = node
            stack.append(node)
        elif line == "}":
            if stack:
                stack.pop()
        elif " = " in line and stack:
            key, _, value = line.partition(" = ")
            if value == "[":
                stack[-1][key] = []
                key_list = (stack[-1], key)
            else:
                stack[-1][key] = value
    return events


def merged(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Each event holds one connection or SA by name: {name: body}."""
    out: dict[str, Any] = {}
    for e in events:
        out.update(e)
    return out


TOKEN = re.compile(r"([A-Za-z0-9_.\-<>]+)\s*\{|\}|([A-Za-z0-9_.\-]+)\s*=\s*([^\n{}#]*)")


def parse_config(text: str) -> dict[str, Any]:
    """The `connections` section of a swanctl.conf (strongSwan's settings syntax); other sections skipped."""
    text = re.sub(r"#[^\n]*", "", text)
    root: dict[str, Any] = {}
    stack = [root]
    for m in TOKEN.finditer(text):
        if m.group(1):
            node: dict[str, Any] = {}
            stack[-1][m.group(1)] = node
            stack.append(node)
        elif m.group(0) == "}":
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1][m.group(2)] = m.group(3).strip()
    conns = root.get("connections")
    return conns if isinstance(conns, dict) else {}


ENCR = (
    (re.compile(r"^aes(128|192|256)gcm(8|12|16|64|96|128)?$"), "AES_GCM"),
    (re.compile(r"^aes(128|192|256)ccm(8|12|16|64|96|128)?$"), "AES_CCM"),
    (re.compile(r"^aes(128|192|256)?ctr$"), "AES_CTR"),
    (re.compile(r"^aes(128|192|256)?$"), "AES_CBC"),
)
ICV = {"8": "8", "64": "8", "12": "12", "96": "12", "16": "16", "128": "16", None: "16"}
DH = re.compile(r"^(modp(\d+)(s\d+)?|ecp(\d+)(bp)?|curve(25519|448)|x(25519|448))$")


def _encr(tok: str) -> str | None:
    for rx, name in ENCR:
        m = rx.match(tok)
        if m:
            bits = m.group(1) or "128"
            if name in ("AES_GCM", "AES_CCM"):
                return f"{name}_{ICV[m.group(2)]}_{bits}"
            return f"{name}_{bits}"
    named = {"3des": "3DES_CBC", "des": "DES_CBC", "blowfish": "BLOWFISH_CBC", "null": "NULL"}
    if tok in named:
        return named[tok]
    if tok.startswith("chacha20poly1305"):
        return "CHACHA20_POLY1305_256"
    if tok.startswith(("camellia", "cast", "serpent", "twofish")):
        return tok.upper()
    return None


def _dh(tok: str) -> str | None:
    m = DH.match(tok)
    if not m:
        return None
    if m.group(2):
        return f"MODP_{m.group(2)}" + (f"_{m.group(3)[1:]}" if m.group(3) else "")
    if m.group(4):
        return f"ECP_{m.group(4)}" + ("_BP" if m.group(5) else "")
    return f"CURVE_{m.group(6) or m.group(7)}"


def proposals(value: str) -> list[dict[str, Any]]:
    """`aes256gcm16-prfsha384-ecp384,3des-sha1-modp1024` -> one entry per proposal: its ciphers and DH groups
    (`default` stands for strongSwan's own default list, said as such)."""
    out = []
    for p in filter(None, (x.strip() for x in value.split(","))):
        toks = p.lower().split("-")
        encr = [e for t in toks if (e := _encr(t))]
        dh = [d for t in toks if (d := _dh(t))]
        out.append({"proposal": p, "encryption": encr, "dh_groups": dh, "default": p.lower() == "default"})
    return out


def config_proposals(conns: dict[str, Any]) -> dict[str, Any]:
    """Per connection: IKE proposals and each child's ESP proposals (unset = strongSwan's defaults)."""
    out: dict[str, Any] = {}
    for name, c in conns.items():
        if not isinstance(c, dict):
            continue
        children: dict[str, Any] = c["children"] if isinstance(c.get("children"), dict) else {}
        out[name] = {
            "version": c.get("version", "0"),
            "ike": proposals(c.get("proposals", "default")),
            "children": {
                cn: proposals(ch.get("esp_proposals", "default")) for cn, ch in children.items() if isinstance(ch, dict)
            },
        }
    return out


def script(gw: Any) -> str:
    uri = f" --uri {shlex.quote(gw.vici_uri)}" if gw.vici_uri else ""
    parts = [
        ("conns", f"swanctl --list-conns --pretty{uri}"),
        ("sas", f"swanctl --list-sas --pretty{uri}"),
        *((f"file {p}", f"cat {shlex.quote(p)}") for p in gw.config_files),
    ]
    return "".join(f"echo '{MARK} {label}'; {cmd} 2>/dev/null; echo \"{MARK} rc $?\"\n" for label, cmd in parts)


def split(output: str) -> dict[str, tuple[str, int]]:
    """The script's sections: label -> (text, exit status)."""
    out: dict[str, tuple[str, int]] = {}
    label: str | None = None
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(MARK + " rc "):
            if label is not None:
                out[label] = ("\n".join(lines), int(line.rsplit(" ", 1)[1]))
            label, lines = None, []
        elif line.startswith(MARK + " "):
            label, lines = line[len(MARK) + 1 :], []
        else:
            lines.append(line)
    return out


def facts_of(sections: dict[str, tuple[str, int]], files: list[str]) -> dict[str, Any]:
    conns_text, rc = sections.get("conns", ("", -1))
    if rc != 0:
        raise ObservationError(f"swanctl --list-conns failed (exit {rc}): is charon running, is the vici socket ours?")
    sas_text, rc_sas = sections.get("sas", ("", -1))
    if rc_sas != 0:
        raise ObservationError(f"swanctl --list-sas failed (exit {rc_sas})")
    conns = merged(parse_pretty(conns_text))
    sas = parse_pretty(sas_text)  # one event per IKE SA (several may share a connection name)
    configured: dict[str, Any] = {}
    unread = []
    for f in files:
        text, frc = sections.get(f"file {f}", ("", -1))
        if frc != 0:
            unread.append(f)
            continue
        configured.update(config_proposals(parse_config(text)))
    return {
        "connections": {
            n: {
                "version": c.get("version"),
                "auth": {
                    k: v.get("class") for k, v in c.items() if isinstance(v, dict) and k.startswith(("local", "remote"))
                },
                "children": sorted((c.get("children") or {}).keys()),
            }
            for n, c in conns.items()
        },
        "sas": [
            {
                "name": n,
                "version": s.get("version"),
                "state": s.get("state"),
                "encryption": f"{s.get('encr-alg')}_{s.get('encr-keysize')}"
                if s.get("encr-keysize")
                else s.get("encr-alg"),
                "dh_group": s.get("dh-group"),
                "children": [
                    {
                        "name": cn,
                        "state": ch.get("state"),
                        "encryption": f"{ch.get('encr-alg')}_{ch.get('encr-keysize')}"
                        if ch.get("encr-keysize")
                        else ch.get("encr-alg"),
                        "dh_group": ch.get("dh-group"),
                    }
                    for cn, ch in (s.get("child-sas") or {}).items()
                    if isinstance(ch, dict)
                ],
            }
            for e in sas
            for n, s in e.items()
            if isinstance(s, dict)
        ],
        "configured": configured,
        "config_unread": unread,
    }


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    from preuve import __version__

    gw = target.spec
    sh = script(gw)
    if gw.host is None:
        try:
            r = subprocess.run(["sh", "-s"], input=sh, capture_output=True, text=True, timeout=timeout * 4, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ObservationError(f"swanctl on the scanner: {type(e).__name__}") from None
        output, where = r.stdout, "scanner"
    else:
        from preuve.observe.ssh.connection import connect, run_script
        from preuve.observe.ssh.target import ssh_target

        transports: list = []
        try:
            transport, _ = connect(ssh_target(hosts[gw.host], hosts), timeout, transports)
            raw, stalled, _ = run_script(transport, sh, timeout * 4, gw.host)
        finally:
            for t in transports:
                t.close()
        if stalled:
            raise ObservationError(f"ssh {gw.host}: swanctl did not answer in time")
        output, where = raw.decode(errors="replace"), gw.host
    found = facts_of(split(output), gw.config_files)
    found["tunnels_declared"] = list(gw.tunnels)
    query = {
        "where": where,
        "vici_uri": gw.vici_uri,
        "commands": ["swanctl --list-conns --pretty", "swanctl --list-sas --pretty"]
        + [f"cat {p} (connections section only)" for p in gw.config_files],
    }
    return query, found, {"connections": len(found["connections"])}, f"preuve {__version__} + swanctl"


COLLECTOR = Collector(
    name="ipsec_gateway",
    collect=collect,
    limit=4,
    fixtures=(
        Fixture(
            "ipsec",
            "ipsec_gateway",
            doc="strongSwan: loaded connections, live SAs and their algorithms, configured proposals (swanctl)",
        ),
    ),
)
