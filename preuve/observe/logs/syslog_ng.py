"""syslog-ng forwarding (12.7.c): which log daemons the host really runs, and syslog-ng's network destinations.

What the host uses: a log daemon (rsyslogd, syslog-ng) counts as *running* when a process of that name shares the
scanner's mount namespace (its /proc/PID/mountinfo, world-readable, is identical to ours), so a daemon of a
container, or of another machine sharing the kernel, which reads another /etc, is not mistaken for the host's.
The configuration judged is the one that daemon was started with (its -f/--cfgfile argument, else the default).

How the configuration is read, the way syslog-ng reads it: ``syslog-ng --preprocess-into`` (the daemon's own merge
of @include files, @define substitutions; syslog-ng 3.38 admin guide, "syslog-ng manual page") when a syslog-ng
binary is on the host and may read the files (directly as root, else through ``sudo -n`` for exactly that
command); otherwise preuve expands @include itself from the files it read (a directory: its files in alphabetical
order, skipping names starting with "." or ending with "~"; a pattern: its matches). The evidence says which.

Semantics (syslog-ng OSE 3.38 administration guide, syslog-ng/syslog-ng.github.io):
- destination drivers network(), syslog(), tcp(), tcp6(), udp(), udp6(); transport() is udp, tcp or tls, default
  tcp (options/destination-transport.md); tcp()/tcp6() with a tls() block speak TLS (measured with 3.38.1: its
  first bytes to a listener are a TLS ClientHello);
- tls(peer-verify()): optional-trusted, optional-untrusted, required-trusted, required-untrusted, yes
  (= required-trusted), no (= optional-untrusted); default required-trusted; "for untrusted certificates only the
  existence of the certificate is checked" (options/peer-verify.md); ca-file(), ca-dir() give the trust anchors;
- disk-buffer(reliable(yes|no), disk-buf-size(), dir()): "if set to yes, syslog-ng cannot lose logs in case of
  reload/restart, unreachable destination or syslog-ng crash" (options/disk-buffer.md; 3.38 spells the sizes
  disk-buf-size() and mem-buf-size(), renamed capacity-bytes() and flow-control-window-bytes() in 4.2);
- a destination only receives messages when a log path references it (or holds it inline).

Live proof (LOG-FORWARDING-LIVE): in the same exec, each TLS endpoint is verified from the host with openssl
s_client, given the destination's ca-file()/ca-dir() (none: no CA, as syslog-ng trusts none) and its host as the
name to match (-verify_ip for an address, -verify_hostname for a name); each destination gets its `verify` record.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from preuve.observe.registry import HostFact

DEFAULT_CONFIG = "/etc/syslog-ng/syslog-ng.conf"
INCLUDE_PATH = ("/etc/syslog-ng", "/usr/share/syslog-ng/include")
NETWORK_DRIVERS = frozenset({"network", "syslog", "tcp", "tcp6", "udp", "udp6"})

# The TLS destinations of a configuration, one "host port ca-file ca-dir" line each ("-" when unset), found on the
# host by awk (POSIX, mawk-compatible) so that the same SSH exec can verify them: every network(), syslog(), tcp(),
# tcp6() call whose first argument is a host, with the transport, port defaults and TLS rule of _describe_driver.
# It reads the same text as parse() (syslog-ng's merge, else the files), so its endpoints match the judged ones;
# a destination it misses has no verification, which fails LOG-FORWARDING-LIVE rather than passing it.
TLS_ENDPOINTS = r"""
function opt(b, re,   v) {
  if (!match(b, re)) return "-"
  v = substr(b, RSTART, RLENGTH); sub(/^[^(]*\([ \t]*/, "", v); gsub(/"/, "", v); return v
}
{ out = ""; q = 0
  for (i = 1; i <= length($0); i++) {
    c = substr($0, i, 1); if (c == "\"") q = !q; if (c == "#" && !q) break; out = out c
  }
  if (out !~ /^[ \t]*@/) t = t " " out }
END {
  while (match(t, /[A-Za-z0-9_-]*(network|syslog|tcp6?)[ \t]*\(/)) {
    w = substr(t, RSTART, RLENGTH); t = substr(t, RSTART + RLENGTH); sub(/[ \t]*\($/, "", w)
    if (w !~ /^(network|syslog|tcp|tcp6)$/) continue
    d = 1; q = 0
    for (k = 1; k <= length(t) && d > 0; k++) {
      c = substr(t, k, 1); if (c == "\"") q = !q; else if (!q && c == "(") d++; else if (!q && c == ")") d--
    }
    b = substr(t, 1, k - 2); t = substr(t, k); h = b; sub(/^[ \t]*/, "", h)
    if (h ~ /^"/) { h = substr(h, 2); h = substr(h, 1, index(h, "\"") - 1) }
    else if (match(h, /^[A-Za-z0-9_.:-]+[ \t]*/) && substr(h, RLENGTH + 1, 1) != "(") {
      h = substr(h, 1, RLENGTH); sub(/[ \t]*$/, "", h)
    } else continue
    if (h == "" || h ~ /`/) continue  # an unresolved `define`: no endpoint to verify
    tr = opt(b, "transport[ \t]*\\([ \t]*\"?[A-Za-z0-9_-]+")
    tls = (w ~ /^tcp/) ? (b ~ /(^|[^A-Za-z0-9_-])tls[ \t]*\(/) : (tr ~ /tls/)
    if (!tls) continue
    p = opt(b, "(^|[^A-Za-z0-9_-])port[ \t]*\\([ \t]*\"?[0-9]+"); if (p == "-") p = 6514
    line = h " " p " " opt(b, "ca[-_]file[ \t]*\\([ \t]*(\"[^\"]*\"|[^ \t)]+)")
    line = line " " opt(b, "ca[-_]dir[ \t]*\\([ \t]*(\"[^\"]*\"|[^ \t)]+)")
    if (!seen[line]++) print line
  }
}
"""

# One sh snippet, batched with the other host facts (the HOST_FACTS at the bottom). Read-only: cat, find, /proc reads
# and `syslog-ng --preprocess-into=/dev/stdout` (which writes nothing but its output).
SNIPPET = (
    "TLS_ENDPOINTS='"
    + TLS_ENDPOINTS
    + "'\n"
    + r"""PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
me=$(cksum < /proc/self/mountinfo); cf=; merged=
echo "== daemons"
for d in /proc/[0-9]*; do
  { read -r c < "$d/comm"; } 2>/dev/null || continue  # a builtin: no fork per process
  case "$c" in rsyslogd|syslog-ng) ;; *) continue ;; esac
  m=$(cksum < "$d/mountinfo" 2>/dev/null) || continue
  if [ "$m" = "$me" ]; then ns=same; else ns=other; fi
  args=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)
  printf '%s %s %s %s\n' "$c" "${d#/proc/}" "$ns" "$args"
  if [ "$c" = syslog-ng ] && [ "$ns" = same ] && [ -z "$cf" ]; then
    set -- $args
    while [ $# -gt 0 ]; do
      case "$1" in -f|--cfgfile) cf=$2; shift ;; --cfgfile=*) cf=${1#--cfgfile=} ;; -f?*) cf=${1#-f} ;; esac
      shift
    done
  fi
done
cf=${cf:-/etc/syslog-ng/syslog-ng.conf}
echo "== config $cf"
[ -e "$cf" ] || exit 0
[ -r "$cf" ] || { echo "syslog-ng configuration $cf is not readable" >&2; exit 1; }
bin=$(command -v syslog-ng)
if [ -n "$bin" ]; then
  echo "== version $("$bin" --version 2>/dev/null | head -n 1)"
  if [ "$(id -u)" -eq 0 ]; then set -- "$bin"; else set -- sudo -n "$bin"; fi
  t=$(mktemp) || exit 1
  # --no-caps: with its capabilities dropped, root could not reopen /dev/stdout (a pipe the auditor owns)
  if pp=$("$@" --no-caps --preprocess-into=/dev/stdout -f "$cf" 2>"$t") && [ -n "$pp" ]; then
    merged=1; echo "== preprocessed $bin"; printf '%s\n' "$pp"
  else
    echo "== preprocess-failed $bin"; { grep -v '^$' "$t" || echo "no output"; } | head -n 3
  fi
  rm -f "$t"
fi
l=$(mktemp) || exit 1
{ echo "$cf"; find /etc/syslog-ng -type f 2>/dev/null | sort; } > "$l"
inc=$(grep -h '^[[:space:]]*@include' $(cat "$l") 2>/dev/null | cut -d'"' -f2 | grep '^/')
for p in $inc; do
  case "$p" in /etc/syslog-ng/*) ;; *) find $p -maxdepth 1 -type f 2>/dev/null | sort >> "$l" ;; esac
done
for f in $(awk '!seen[$0]++' "$l"); do [ -r "$f" ] && { echo "== file $f"; cat "$f"; echo; }; done
{ find /etc/syslog-ng -type d 2>/dev/null; for p in $inc; do [ -d "$p" ] && echo "$p"; done; } | sed 's/^/== dir /'
{ if [ -n "$merged" ]; then printf '%s\n' "$pp"; else for f in $(awk '!seen[$0]++' "$l"); do cat "$f"; done; fi
} 2>/dev/null |
  awk "$TLS_ENDPOINTS" | while read -r h p caf cad; do
  echo "== verify-ng $h:$p"; echo "ca-file $caf"; echo "ca-dir $cad"; set --
  [ "$caf" = - ] || set -- -CAfile "$caf"
  [ "$cad" = - ] || set -- "$@" -CApath "$cad"
  [ $# -gt 0 ] || set -- -no-CAfile -no-CApath -no-CAstore  # no ca-file/ca-dir: syslog-ng trusts no CA
  case "$h" in *:*) c="[$h]:$p"; set -- "$@" -verify_ip ;; *[!0-9.]*) c="$h:$p"; set -- "$@" -verify_hostname ;;
    *) c="$h:$p"; set -- "$@" -verify_ip ;; esac
  set -- "$@" "$h"; echo "name $h"
  timeout 5 openssl s_client -connect "$c" "$@" -verify_return_error -brief </dev/null 2>&1 |
    grep -E '^(Verification|Verified peername|Peer certificate|CONNECTION ESTABLISHED)|error' | head -n 5
done
rm -f "$l"
true
"""
)


def parse(text: str) -> dict:
    """Snippet output -> running daemons, how the configuration was merged, destinations and the log paths' use."""
    daemons, config_path, version, files, dirs, verified = [], None, None, {}, set(), []
    merged, method, failure = None, None, None
    section, lines = "", []

    def close() -> None:
        nonlocal merged, method, failure
        body = "\n".join(lines)
        if section.startswith("preprocessed ") and body.strip():
            merged, method = body, f"syslog-ng --preprocess-into ({section.split(' ', 1)[1]})"
        elif section.startswith("preprocessed "):
            failure = "no output"
        elif section.startswith("preprocess-failed"):
            failure = body.strip().splitlines()[0] if body.strip() else "failed"
        elif section.startswith("file "):
            files[section[5:]] = body
        elif section.startswith("verify-ng "):
            verified.append(verification(section[10:], body))

    for line in text.splitlines():
        if line.startswith("== "):
            close()
            section, lines = line[3:], []
            if section.startswith("dir "):
                dirs.add(section[4:].rstrip("/"))
            elif section.startswith("config "):
                config_path = section[7:].strip()
            elif section.startswith("version "):
                version = section[8:].strip()
            continue
        if section == "daemons":
            f = line.split(" ", 3)
            if len(f) >= 3:
                daemons.append(
                    {
                        "name": f[0],
                        "pid": int(f[1]),
                        "same_host": f[2] == "same",
                        "cmdline": f[3].strip() if len(f) > 3 else "",
                    }
                )
        else:
            lines.append(line)
    close()
    running = sorted({d["name"] for d in daemons if d["same_host"]})
    present = config_path in files
    out = {
        "daemons": daemons,
        "running": running,
        "config_path": config_path,
        "present": present,
        "version": version,
        "merge": None,
        "destinations": [],
        "forwarders": [],
        "unresolved_includes": [],
    }
    if not present:
        return out
    if merged is None:
        merged, unresolved = expand(config_path, files, dirs)
        method = "expanded by preuve" + (
            f" (syslog-ng --preprocess-into failed: {failure})" if failure else " (no syslog-ng binary on the host)"
        )
        out["unresolved_includes"] = unresolved
    out["merge"] = method
    destinations = destinations_of(merged)
    out["destinations"] = destinations
    out["forwarders"] = [d for d in destinations if d["used"]]
    for d in destinations:  # what the host's own openssl said of each TLS endpoint, with this destination's CA
        d["verify"] = next(
            (
                v
                for v in verified
                if d["tls"]
                and v["endpoint"] == f"{d['target']}:{d['port']}"
                and (v["ca_file"], v["ca_dir"]) == (d["ca_file"], d["ca_dir"])
            ),
            None,
        )
    return out


def verification(endpoint: str, body: str) -> dict:
    """One `== verify-ng host:port` section: the CA and name given to openssl s_client, and its verdict."""
    head = dict(line.split(" ", 1) for line in body.splitlines()[:3] if " " in line)
    out = "\n".join(body.splitlines()[3:])
    return {
        "endpoint": endpoint.strip(),
        "checked_name": head.get("name"),
        "ca_file": None if head.get("ca-file", "-") == "-" else head["ca-file"],
        "ca_dir": None if head.get("ca-dir", "-") == "-" else head["ca-dir"],
        "verified": "Verification: OK" in out,
        "detail": next(
            (ln.strip() for ln in out.splitlines() if "Verification" in ln or "error" in ln),
            out.strip() or "no answer from openssl s_client within 5 s",
        ),
    }


# --- @include expansion (when the binary cannot merge) ----------------------------------------------------------


def _included(name: str, base: str, files: dict[str, str], dirs: set[str]) -> list[str] | None:
    """Files an @include names, as syslog-ng 3.38 resolves it (measured with --syntax-only): a pattern matching
    nothing and an empty directory include nothing; a missing file is an error (None)."""
    roots = (
        [name] if name.startswith("/") else [posixpath.join(d, name) for d in (posixpath.dirname(base), *INCLUDE_PATH)]
    )
    pattern = any(ch in name for ch in "*?[")
    for path in (posixpath.normpath(r) for r in roots):
        if path in files:
            return [path]
        if pattern:
            hits = sorted(f for f in files if fnmatch.fnmatchcase(f, path))
        elif path in dirs:
            hits = sorted(f for f in files if posixpath.dirname(f) == path)
        else:
            continue
        hits = [h for h in hits if not posixpath.basename(h).startswith(".") and not h.endswith("~")]
        if hits or not pattern:
            return hits
    return [] if pattern else None


def expand(path: str, files: dict[str, str], dirs: set[str] = frozenset(), depth: int = 0) -> tuple[str, list[str]]:
    """The configuration with its @include lines replaced by the files they name (bounded depth)."""
    out, unresolved = [], []
    for line in files.get(path, "").splitlines():
        m = re.match(r'\s*@include\s+"([^"]+)"', line)
        if not m:
            out.append(line)
            continue
        hits = _included(m[1], path, files, dirs) if depth < 15 else None
        if hits is None:
            unresolved.append(m[1])
            continue
        for hit in hits:
            text, missing = expand(hit, files, dirs, depth + 1)
            out.append(text)
            unresolved += missing
    return "\n".join(out), unresolved


# --- the configuration grammar, as far as destinations and log paths need ----------------------------------------

_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'[^\']*\'|[A-Za-z0-9_.\-/:$@*+`]+|[(){};,]|=>')


def _tokens(text: str) -> list[str]:
    """Tokens without comments, pragma lines (@version, @include, @define) and their `name` substitutions done."""
    defines = dict(re.findall(r'^\s*@define\s+(\S+)\s+"([^"]*)"', text, re.M))
    body = []
    for line in text.splitlines():
        if line.lstrip().startswith("@"):
            continue
        body.append(_strip_comment(line))
    joined = re.sub(r"`([^`]+)`", lambda m: defines.get(m[1], m[0]), "\n".join(body))
    return _TOKEN.findall(joined)


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote and line[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _unquote(tok: str) -> str:
    return tok[1:-1] if tok[:1] in "\"'" and len(tok) >= 2 else tok


class _Node:
    """`name(args...)` or `name { ... }`: positional values and option children."""

    def __init__(self, name: str) -> None:
        self.name = name.replace("_", "-").lower()
        self.values: list[str] = []
        self.kids: list[_Node] = []

    def opt(self, name: str) -> _Node | None:
        return next((k for k in self.kids if k.name == name), None)

    def value(self, name: str) -> str | None:
        node = self.opt(name)
        return node.values[0] if node is not None and node.values else None


def _parse_items(toks: list[str], i: int, end: str) -> tuple[list[_Node | str], int]:
    """Items up to the closing `end` token: words/strings, `word(...)` and `word { ... }` nodes."""
    items: list[_Node | str] = []
    while i < len(toks) and toks[i] != end:
        tok = toks[i]
        if tok in (";", ","):
            i += 1
            continue
        if tok in ("(", "{"):  # unnamed group: skip it whole
            _, i = _parse_items(toks, i + 1, ")" if tok == "(" else "}")
            i += 1
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if nxt in ("(", "{") and tok[:1] not in "\"'":
            node = _Node(tok)
            inner, i = _parse_items(toks, i + 2, ")" if nxt == "(" else "}")
            i += 1
            for it in inner:
                (node.kids if isinstance(it, _Node) else node.values).append(it)
            items.append(node)
            continue
        if tok in (")", "}"):  # unbalanced: stop rather than loop
            break
        items.append(_unquote(tok))
        i += 1
    return items, i


def _statements(text: str) -> list[tuple[str, str | None, list]]:
    """Top-level `kind [name] { ... };` statements as (kind, name, items)."""
    toks = _tokens(text)
    out, i = [], 0
    while i < len(toks):
        kind = toks[i]
        if kind in ("(", "{"):  # a group outside any statement we know (e.g. a block definition): skip it whole
            _, i = _parse_items(toks, i + 1, ")" if kind == "(" else "}")
            i += 1
            continue
        if not re.fullmatch(r"[A-Za-z][\w-]*", kind):
            i += 1
            continue
        name = None
        j = i + 1
        if j < len(toks) and toks[j] not in ("{", "(", ";"):
            name, j = _unquote(toks[j]), j + 1
        if j < len(toks) and toks[j] == "{":
            items, j = _parse_items(toks, j + 1, "}")
            out.append((kind, name, items))
            i = j + 1
        elif j < len(toks) and toks[j] == "(":  # e.g. a block call at top level
            _, j = _parse_items(toks, j + 1, ")")
            i = j + 1
        else:
            i = j if j > i else i + 1
    return out


def _describe_driver(node: _Node, dest: str, used: bool) -> dict:
    driver = node.name
    tls = node.opt("tls")
    transport = (node.value("transport") or "").lower()
    if driver in ("udp", "udp6"):
        transport = "udp"
    elif driver in ("tcp", "tcp6"):
        transport = "tls" if tls is not None else "tcp"
    elif not transport:
        transport = "tcp"
    is_tls = "tls" in transport
    verify = (tls.value("peer-verify") if tls is not None else None) or node.value("peer-verify")
    verify = {"yes": "required-trusted", "no": "optional-untrusted"}.get((verify or "").lower(), verify)
    buf = node.opt("disk-buffer")
    reliable = (buf.value("reliable") or "no").lower() in ("yes", "1", "on") if buf is not None else False
    return {
        "destination": dest,
        "driver": driver,
        "target": node.values[0] if node.values else None,
        "port": int(node.value("port") or (6514 if is_tls else 514)),
        "transport": transport,
        "tls": is_tls,
        "peer_verify": (verify or "required-trusted") if is_tls else None,
        "ca_file": tls.value("ca-file") if tls is not None else None,
        "ca_dir": tls.value("ca-dir") if tls is not None else None,
        "disk_buffer": buf is not None,
        "reliable": reliable,
        "disk_buffer_dir": buf.value("dir") if buf is not None else None,
        "used": used,
    }


def _log_refs(items: list, inline: list[_Node]) -> set[str]:
    """Destination names a log path (and its nested paths) references; inline destinations collected."""
    refs: set[str] = set()
    for it in items:
        if not isinstance(it, _Node):
            continue
        if it.name == "destination":
            refs.update(it.values)
            inline.extend(k for k in it.kids if k.name in NETWORK_DRIVERS)
        elif it.name == "log":
            refs |= _log_refs(it.kids, inline)
    return refs


def destinations_of(text: str) -> list[dict]:
    """Every network destination driver, named or inline, and whether a log path sends to it."""
    named: dict[str, list[_Node]] = {}
    used: set[str] = set()
    inline: list[_Node] = []
    for kind, name, items in _statements(text):
        if kind == "destination" and name:
            named[name] = [it for it in items if isinstance(it, _Node) and it.name in NETWORK_DRIVERS]
        elif kind == "log":
            used |= _log_refs(items, inline)
    out = [_describe_driver(n, name, name in used) for name, nodes in named.items() for n in nodes]
    out += [_describe_driver(n, "(inline)", True) for n in inline]
    return out


def judged_daemons(rsyslog: dict, syslog_ng: dict) -> dict[str, str]:
    """Which daemons' forwarding is judged, and why: the ones running on the host; if none runs, every daemon
    whose configuration is present (what would forward at the next start). A stopped daemon's configuration is
    not judged next to a running one: it sends nothing."""
    running = set(syslog_ng["running"])
    ng = f"configuration {syslog_ng['config_path']}, " + (syslog_ng["merge"] or "not found")
    if running:
        why = {"rsyslogd": "running", "syslog-ng": f"running; {ng}"}
        return {d: why[d] for d in ("rsyslogd", "syslog-ng") if d in running}
    out = {}
    if rsyslog.get("config_present", True) and rsyslog["forwarders"]:
        out["rsyslogd"] = "not running; configuration present"
    if syslog_ng["present"]:
        out["syslog-ng"] = f"not running; {ng}"
    return out


def unseen(syslog_ng: dict) -> list[str]:
    """Parts of the configuration syslog-ng uses that preuve could not read (judged as failures)."""
    if not syslog_ng["present"]:
        running = "syslog-ng" in syslog_ng["running"]
        return [f"syslog-ng configuration {syslog_ng['config_path']} not found"] if running else []
    return [f'syslog-ng @include "{name}" not found or unreadable' for name in syslog_ng["unresolved_includes"]]


def describe(f: dict) -> str:
    """One line per forwarder, in the words of syslog-ng's own options."""
    how = f"transport({f['transport']})"
    if f["tls"]:
        how += f" peer-verify({f['peer_verify']})"
    return f"syslog-ng {f['destination']} {f['driver']}({f['target']}:{f['port']}) {how}"


HOST_FACTS = (
    HostFact(
        "syslog_ng",
        SNIPPET,
        parse,
        fixture="syslog_ng",
        doc="log daemons running, syslog-ng network destinations (merged config), their log paths, "
        "TLS endpoints verified from the host",
    ),
)
