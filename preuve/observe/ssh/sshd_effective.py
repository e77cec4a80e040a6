"""The effective sshd configuration per connection: `sshd -T -C` for every context a real login can have.

`sshd -T` alone prints the global section; a `Match Address` block that re-enables passwords for one network,
or a `Match User root` that permits root, is invisible there. This fact evaluates the configuration for the
connection the scanner itself makes (from $SSH_CONNECTION) and, when the files hold `Match` blocks, for every
combination of the contexts those blocks can tell apart:

- users (when a block matches User or Group): the scanning account, `root`, the members of sudo/wheel/admin
  and the accounts the inventory declares on this host (canaries);
- source addresses (Address or Host): the scanner's own, one representative of each inventory zone CIDR
  (its first host address) and each SSH vantage point's address;
- listeners (LocalAddress or LocalPort): every `ListenAddress` sshd -T resolves (a wildcard address stands
  for the address the scanner reached).

`host=` is the address unless `UseDNS yes`, then the name `getent hosts` gives it (as sshd would look it up).
Only the keywords that differ from the scanner's context are kept per context (compact evidence; the checks
rebuild each context's view). The configuration files (the main one and every Include, read without sudo) are
kept too, so that a non-compliant line shadowed by an earlier compliant one can be reported. Read-only: the
only privileged command is `sshd -T` (sudo rule `/usr/sbin/sshd -T *`).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from typing import Any

from preuve.observe.registry import HostFact

# The configuration files sshd reads (the main one, then every Include, read without sudo) and the criteria their
# Match blocks use ($crit; an unreadable file counts as using them all). `walk yes` also prints each file.
WALK = r"""walk() {
files=${PREUVE_SSHD_CONFIG:-/etc/ssh/sshd_config}; seen=; n=0; crit=; : >"$d/pats"
while [ -n "$files" ] && [ $n -lt 8 ]; do
  n=$((n+1)); next=
  for f in $files; do
    case " $seen " in *" $f "*) continue;; esac
    seen="$seen $f"
    if [ -r "$f" ] && [ -f "$f" ]; then
      [ "$1" = yes ] && { printf '== file %s\n' "$f"; cat "$f"; printf '\n== endfile\n'; }
      for g in $(awk 'tolower($1)=="include"{for(i=2;i<=NF;i++)print $i}' "$f"); do
        case $g in /*) ;; *) g="/etc/ssh/$g";; esac
        for h in $g; do [ -e "$h" ] && next="$next $h"; done
      done
      crit="$crit $(awk 'tolower($1)=="match"{for(i=2;i<=NF;i+=2)printf "%s ", tolower($i)}' "$f")"
      awk 'tolower($1)=="match"{for(i=2;i<NF;i+=2) if(tolower($i)=="address"||tolower($i)=="host"){
             n=split($(i+1),e,","); for(j=1;j<=n;j++){x=e[j]; sub(/^!/,"",x); print x}}}' "$f" >>"$d/pats"
    else
      [ "$1" = yes ] && printf '== unreadable %s\n' "$f"
      crit="$crit user group address host localaddress localport"; echo '?unreadable' >>"$d/pats"
    fi
  done
  files=$next
done
}
# The source addresses worth evaluating: one per class of addresses that every Address/Host pattern of the Match
# blocks treats alike (IPv4 addresses against IPv4 CIDRs and wildcards; anything else is kept as its own class).
# Merged addresses are listed in $d/same ("address representative").
distinct() {
  : >"$d/same"
  printf '%s\n' "$@" | awk -v pats="$d/pats" -v same="$d/same" '
    function n4(a,  p, i) { if (split(a, p, ".") != 4) return -1
      for (i = 1; i <= 4; i++) if (p[i] !~ /^[0-9]+$/ || p[i] + 0 > 255) return -1
      return ((p[1] * 256 + p[2]) * 256 + p[3]) * 256 + p[4] }
    function m(a, pat,  q, x, y, b, r) {
      if (pat ~ /^[0-9.]+\/[0-9]+$/) { split(pat, q, "/"); x = n4(a); y = n4(q[1])
        if (x < 0 || y < 0 || q[2] + 0 > 32) return "?"; b = 2 ^ (32 - q[2]); return (int(x / b) == int(y / b)) }
      if (pat ~ /^[0-9.*?]+$/) { if (n4(a) < 0) return "?"; r = pat; gsub(/\./, "[.]", r); gsub(/\*/, "[0-9.]*", r)
        gsub(/\?/, "[0-9.]", r); return (a ~ ("^" r "$")) }
      return "?" }
    BEGIN { while ((getline l < pats) > 0) if (l != "") P[++np] = l }
    NF { sig = ""; for (k = 1; k <= np; k++) { v = m($1, P[k]); if (v == "?") { sig = "?" $1; break } sig = sig v }
         if (sig in rep) print $1, rep[sig] > same; else { rep[sig] = $1; print $1 } }'
}
"""

# Inputs arrive as shell variables set once at the top of the script: PREUVE_SSHD_CONFIG (path or empty),
# PREUVE_SSH_ADDRS (source addresses to try), PREUVE_SSH_USERS (declared accounts to try).
SNIPPET = (
    WALK
    + r"""PATH="$PATH:/usr/sbin:/sbin"
asroot() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
cf=${PREUVE_SSHD_CONFIG:-/etc/ssh/sshd_config}
set -- $SSH_CONNECTION; sa=${1:-127.0.0.1}; sla=${3:-127.0.0.1}; slp=${4:-22}
me=$(id -un)
ctx() {
  h=$2
  if [ "$dns" = yes ]; then h=$(getent hosts "$2" | awk '{print $2; exit}'); h=${h:-$2}; fi
  asroot sshd -T ${PREUVE_SSHD_CONFIG:+-f "$PREUVE_SSHD_CONFIG"} -C "user=$1,host=$h,addr=$2,laddr=$3,lport=$4"
}
dns=no
ctx "$me" "$sa" "$sla" "$slp" >"$d/base" 2>"$d/err" || { cat "$d/err" >&2; exit 1; }
if grep -qx 'usedns yes' "$d/base"; then
  dns=yes; ctx "$me" "$sa" "$sla" "$slp" >"$d/base" 2>"$d/err" || { cat "$d/err" >&2; exit 1; }
fi
printf '== base %s %s %s %s\n' "$me" "$sa" "$sla" "$slp"; cat "$d/base"
# With UsePAM, keyboard-interactive is whatever sshd's PAM auth stack asks: its auth lines, includes expanded.
if grep -qx 'usepam yes' "$d/base"; then
  printf '== pam\n'
  awk 'function x(f, depth,   l, w) {
         if (depth > 4) return
         if ((getline l < f) < 0) { print "#unreadable " f; return }
         do { split(l, w, " ")
              if (w[1] == "@include") x("/etc/pam.d/" w[2], depth + 1)
              else if (w[1] == "auth" && (w[2] == "include" || w[2] == "substack")) x("/etc/pam.d/" w[3], depth + 1)
              else if (w[1] == "auth" || w[1] == "-auth") print l
         } while ((getline l < f) > 0)
         close(f) }
       BEGIN { x("/etc/pam.d/sshd", 0) }' </dev/null
fi
walk yes
has() { case " $crit " in *" $1 "*) return 0;; esac; return 1; }
U=$me; A=$sa; L="$sla $slp"
if has user || has group; then
  U="$me root $PREUVE_SSH_USERS $(getent group ${PREUVE_ADMIN_GROUPS:-sudo wheel admin} | cut -d: -f4 | tr ',' ' ')"
fi
if has address || has host; then
  [ "$dns" = yes ] && echo '?usedns' >>"$d/pats"  # Host then matches a reverse name: no merging
  A=$(distinct $sa $PREUVE_SSH_ADDRS); sed 's/^/== same /' "$d/same"
fi
if has localaddress || has localport; then
  L=$(awk '$1=="listenaddress"{a=$2; p=a; sub(/:[0-9]+$/,"",a); sub(/.*:/,"",p); gsub(/[][]/,"",a);
      print a, p}' "$d/base")
  [ -n "$L" ] || L="$sla $slp"
fi
printf '== matrix criteria=%s\n' "$(echo $crit | tr ' ' '\n' | sort -u | tr '\n' ',')"
U=$(printf '%s\n' $U | awk 'NF && !s[$0]++')
A=$(printf '%s\n' $A | awk 'NF && !s[$0]++')
printf '%s\n' "$L" | awk 'NF==2 && !s[$0]++' >"$d/l"
# Evaluate the contexts four at a time (each is a sudo + sshd -T process pair), then diff them all in one awk.
i=0; : >"$d/todo"
for u in $U; do for a in $A; do while read -r la lp; do
  case $la in 0.0.0.0|::|'') la=$sla;; esac
  [ "$u $a $la $lp" = "$me $sa $sla $slp" ] && continue
  i=$((i+1)); printf '%s %s %s %s %s\n' "$i" "$u" "$a" "$la" "$lp" >>"$d/todo"
  { ctx "$u" "$a" "$la" "$lp" </dev/null >"$d/c.$i" 2>"$d/e.$i" || echo "$?" >"$d/r.$i"; } &
  [ $((i % 4)) -eq 0 ] && wait
done <"$d/l"; done; done
wait
[ -f "$d/todo" ] && while read -r i u a la lp; do
  if [ -f "$d/r.$i" ]; then
    printf '== ctxerror %s %s %s %s %s\n' "$u" "$a" "$la" "$lp" "$(head -n 1 "$d/e.$i")"
  else
    printf '== ctx %s %s %s %s\n' "$u" "$a" "$la" "$lp"
    awk 'NR==FNR{b[$0]=1;next} {c[FNR]=$0; l[$0]=1; if(!($0 in b)) k[$1]=1; n=FNR}
         END{for(x in b) if(!(x in l)){split(x,p," "); k[p[1]]=1}
             for(j=1;j<=n;j++){split(c[j],p," "); if(p[1] in k) print c[j]}}' "$d/base" "$d/c.$i"
  fi
done <"$d/todo"
true"""
)

_COMMA_LISTS = frozenset(
    {
        "ciphers",
        "macs",
        "kexalgorithms",
        "hostkeyalgorithms",
        "pubkeyacceptedalgorithms",
        "pubkeyacceptedkeytypes",
        "hostbasedacceptedalgorithms",
        "hostbasedacceptedkeytypes",
        "casignaturealgorithms",
        "gssapikexalgorithms",
    }
)


def _config(lines: list[str]) -> dict[str, list[str]]:
    """`sshd -T` lines -> {keyword: [values]}: repeated keywords accumulate, algorithm lists split."""
    out: dict[str, list[str]] = {}
    for line in lines:
        keyword, _, value = line.strip().partition(" ")
        if not keyword or keyword.startswith("#"):
            continue
        keyword, value = keyword.lower(), value.strip()
        out.setdefault(keyword, []).extend([v for v in value.split(",") if v] if keyword in _COMMA_LISTS else [value])
    return out


def parse(text: str) -> dict[str, Any]:
    """SNIPPET output -> {"base": context, "contexts": [context], "files": [...], "criteria", "errors"}.

    A context is {"user", "addr", "laddr", "lport", "config"}; for every context but the base, "config" holds
    only the keywords whose values differ from the base (the checks merge them).
    """
    base: dict[str, Any] | None = None
    contexts: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    errors: list[str] = []
    criteria: list[str] = []
    pam: list[str] | None = None
    same: dict[str, str] = {}
    current: list[str] | None = None
    in_file: dict[str, Any] | None = None
    for line in text.splitlines():
        if in_file is not None:
            if line == "== endfile":
                in_file = None
            else:
                in_file["lines"].append(line)
            continue
        if not line.startswith("== "):
            if current is not None:
                current.append(line)
            continue
        head = line[3:].split(" ")
        current = None
        if head[0] in ("base", "ctx") and len(head) >= 5:
            ctx = {"user": head[1], "addr": head[2], "laddr": head[3], "lport": head[4], "lines": []}
            current = ctx["lines"]
            if head[0] == "base":
                base = ctx
            else:
                contexts.append(ctx)
        elif head[0] == "ctxerror":
            errors.append(
                f"sshd -T -C user={head[1]},addr={head[2]},laddr={head[3]},lport={head[4]}: " + " ".join(head[5:])
            )
        elif head[0] == "file":
            in_file = {"path": " ".join(head[1:]), "lines": []}
            files.append(in_file)
        elif head[0] == "unreadable":
            files.append({"path": " ".join(head[1:]), "unreadable": True})
        elif head[0] == "pam":
            pam = []
            current = pam
        elif head[0] == "same" and len(head) == 3:
            same[head[1]] = head[2]
        elif head[0] == "matrix":
            criteria = [c for c in line.partition("criteria=")[2].split(",") if c]
    if base is None:
        return {"error": "sshd -T printed nothing for the scanner's own connection"}
    for ctx in [base, *contexts]:
        ctx["config"] = _config(ctx.pop("lines"))
    for f in files:  # the snippet adds one newline after each file's text
        if f.get("lines") and f["lines"][-1] == "":
            f["lines"].pop()
    out = {"base": base, "contexts": contexts, "files": files, "criteria": criteria, "errors": errors, "same_as": same}
    if pam is not None:
        out["pam_auth"] = [line.strip() for line in pam if line.strip() and not line.lstrip().startswith("# ")]
    return out


# --- the contexts to try, from the inventory --------------------------------------------------------------


def representative(cidr: str) -> str:
    """One address of a zone: its first host address (the network address itself for a /32 or /31)."""
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net.network_address + 1) if net.num_addresses > 2 else str(net.network_address)


def sources(inventory: Any, target: Any, limit: int = 32) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(address, why)], [(user, why)]) to evaluate on `target` besides the scanner's own connection."""
    addrs: list[tuple[str, str]] = []
    if inventory is not None:
        for zone in inventory.zones:
            addrs += [(representative(c), f"zone {zone.name} ({c})") for c in zone.cidrs]
        hosts = {h.name: h.address for h in inventory.hosts}
        addrs += [(hosts[v.ssh], f"vantage {v.name}") for v in inventory.vantage_points if v.ssh in hosts]
    seen: dict[str, str] = {}
    for a, why in addrs:
        seen.setdefault(a, why)
    users: dict[str, str] = {}
    if inventory is not None:
        for c in inventory.baseline.ssh_canaries:
            if c.address == target.address:
                users.setdefault(c.user, f"declared canary {c.name}")
        for c in inventory.baseline.lockout_canaries:
            if c.host == target.name:
                users.setdefault(c.user, f"declared lockout canary {c.name}")
    return list(seen.items())[:limit], list(users.items())


def shell_env(addrs: list[tuple[str, str]], users: list[tuple[str, str]], admin_groups: list[str]) -> dict[str, str]:
    """The script variables (addresses, account and group names only; all validated as plain tokens)."""
    ok = re.compile(r"^[A-Za-z0-9_.:%-]+$")
    return {
        "PREUVE_SSH_ADDRS": " ".join(a for a, _ in addrs if ok.match(a)),
        "PREUVE_SSH_USERS": " ".join(u for u, _ in users if ok.match(u)),
        "PREUVE_ADMIN_GROUPS": " ".join(g for g in admin_groups if ok.match(g)),
    }


_INVENTORY: Any = None


def set_inventory(inventory: Any) -> None:
    """The run's inventory (zones, vantage points, canaries): where real connections to a host come from."""
    global _INVENTORY
    _INVENTORY = inventory


def current_inventory() -> Any:
    return _INVENTORY


def annotate(fact: dict[str, Any], addrs: list[tuple[str, str]], users: list[tuple[str, str]]) -> dict[str, Any]:
    """Say why each context was tried (the scanner, a zone, a vantage point, root, a declared account)."""
    if "base" not in fact:
        return fact
    why_addr = dict(addrs)
    why_user = dict(users)
    base = fact["base"]
    why_addr.setdefault(base["addr"], "the scanner's own connection")
    why_addr[base["addr"]] = "the scanner's own connection"
    why_user[base["user"]] = "the scanning account"
    why_user.setdefault("root", "root")
    also: dict[str, list[str]] = {}  # merged addresses: every Address/Host pattern of the Match blocks treats
    for addr, rep in (fact.get("same_as") or {}).items():  # them as it treats their representative
        also.setdefault(rep, []).append(f"{addr} ({why_addr.get(addr, '?')})")
    for ctx in [base, *fact["contexts"]]:
        ctx["why"] = {
            "user": why_user.get(ctx["user"], "member of an admin group"),
            "addr": why_addr.get(ctx["addr"], "?"),
        }
        if ctx["addr"] in also:
            ctx["why"]["stands_for"] = also[ctx["addr"]]
        if (ctx["laddr"], ctx["lport"]) != (base["laddr"], base["lport"]):
            ctx["why"]["listener"] = f"ListenAddress {ctx['laddr']}:{ctx['lport']}"
    return fact


# --- reading the files: shadowed lines ---------------------------------------------------------------------


def ordered_lines(files: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(path, line number, text) in the order sshd reads them: Include expanded in place (sorted glob)."""
    by_path = {f["path"]: f for f in files if "lines" in f}
    if not files:
        return []
    out: list[tuple[str, int, str]] = []

    def walk(path: str, depth: int) -> None:
        f = by_path.get(path)
        if f is None or depth > 8:
            return
        for i, text in enumerate(f["lines"], 1):
            words = text.split()
            if words and words[0].lower() == "include":
                for pattern in words[1:]:
                    full = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                    for p in sorted(p for p in by_path if fnmatch.fnmatchcase(p, full)):
                        walk(p, depth + 1)
                continue
            out.append((path, i, text))

    walk(files[0]["path"], 0)
    return out


def shadowed(files: list[dict[str, Any]], keyword: str, bad: Any) -> list[str]:
    """Lines setting `keyword` to a value `bad(value)` judges non-compliant, in the global section, that sshd
    ignores only because an earlier line set the keyword first (first value wins): they take effect as soon
    as the earlier line or an Include moves."""
    seen_first = False
    out = []
    for path, lineno, text in ordered_lines(files):
        words = text.split("#", 1)[0].split()
        if not words:
            continue
        key = words[0].lower()
        if key == "match":
            break  # global section only: Match blocks are evaluated per connection
        if "=" in key:
            key = key.split("=", 1)[0]
        if key != keyword:
            continue
        value = " ".join(words[1:]).lstrip("= ")
        if seen_first and bad(value):
            out.append(f"{path}:{lineno}: {text.strip()}")
        seen_first = True
    return out


def quote(ctx: dict[str, Any]) -> str:
    """How a context is named in messages: user=…,addr=…,laddr=…,lport=… (why)."""
    why = ctx.get("why") or {}
    reason = ", ".join(v for v in (why.get("user"), why.get("addr"), why.get("listener")) if v)
    text = f"user={ctx['user']},addr={ctx['addr']},laddr={ctx['laddr']},lport={ctx['lport']}"
    return f"{text} ({reason})" if reason else text


HOST_FACTS = (
    HostFact(
        "sshd_effective",
        SNIPPET,
        parse,
        fixture="sshd",
        kind="host",
        doc="effective sshd configuration per connection (`sshd -T -C` for each context Match blocks "
        "tell apart), the config files, and the methods offered after a `none` request",
        many_processes=True,
    ),
)
