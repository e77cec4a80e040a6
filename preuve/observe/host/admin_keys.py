"""Where administrators' SSH and Kubernetes credentials live on a host (KEYS-ADMIN-*), never what they hold.

For each administrator (root and members of the admin groups, as the access checks count them), every file
sshd's effective `AuthorizedKeysFile` names for that account (`sshd -T`: %h, %u expanded, relative paths under the
home) reduced on the host to key type and SHA256 fingerprint (`ssh-keygen -l -f -`) plus whether the line is a
`cert-authority`; each private key file in `.ssh` classified on the host from its armour alone
(OpenSSH format: the cipher name in the header; PEM: `Proc-Type: 4,ENCRYPTED`; PKCS#8: `ENCRYPTED PRIVATE KEY`),
its fingerprint from the sibling `.pub`; and `.kube/config` reduced to the line numbers and names of embedded
credential fields (token, client-key-data, password). No key line, token or key body leaves the host: only names,
types, fingerprints and line numbers. sshd's effective TrustedUserCAKeys says whether certificates are accepted.

Reading other accounts' homes needs root; a non-root scanning account needs `cat` and `ls` through sudo
(privileged.py: optional rules, documented with their reach).
"""

from __future__ import annotations

from preuve.observe.registry import HostFact

# The OpenSSH private key header with cipher "none" and kdf "none", base64 (an unencrypted key's second line).
OPENSSH_PLAIN = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"

ADMIN_KEYS = (
    'PATH="$PATH:/usr/sbin:/sbin"; export LC_ALL=C; me=$(id -u); '
    'asroot() { if [ "$me" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }; '
    'rd0() { if [ "$me" -eq 0 ]; then cat -- "$1"; else sudo -n /usr/bin/cat -- "$1"; fi; }; '
    'ls0() { if [ "$me" -eq 0 ]; then ls -1A -- "$1"; else sudo -n /usr/bin/ls -1A -- "$1"; fi; }; '
    # status 1: the file is missing (no finding); 3: any other failure (a refused sudo), which every caller turns
    # into the fact's failure (`|| exit 3` after the assignment): never a silently skipped home
    'try() { out=$("$@" 2>&1) && { printf "%s\\n" "$out"; return 0; }; case "$out" in '
    '*"No such file"*|*"Not a directory"*) return 1;; *) printf "%s: %s\\n" "$2" "$out" >&2; return 3;; esac; }; '
    'cf=; [ -n "$PREUVE_SSHD_CONFIG" ] && cf="$PREUVE_SSHD_CONFIG"; '
    # where sshd reads authorized keys and user CAs from, as sshd itself resolves its configuration (Include files)
    'eff=$(asroot sshd -T ${cf:+-f "$cf"} 2>&1) || { printf "sshd -T: %s\\n" "$eff" >&2; exit 3; }; '
    'akf=$(printf \'%s\\n\' "$eff" | awk \'tolower($1)=="authorizedkeysfile" {$1=""; print}\'); '
    'echo "== trustedusercakeys $(printf \'%s\\n\' "$eff" | awk \'tolower($1)=="trustedusercakeys" {print $2}\')"; '
    'echo "== authorizedkeysfile $akf"; '
    "adm=$(getent group ${PREUVE_ADMIN_GROUPS:-sudo wheel admin} | cut -d: -f4 | tr ',' ' '); "
    "getent passwd | while IFS=: read -r u _ uid _ _ home _; do "
    'case " root $adm " in *" $u "*) ;; *) continue;; esac; [ -d "$home" ] || continue; '
    'case " $PREUVE_CANARY_USERS " in *" $u "*) echo "== admin $u $home canary"; continue;; esac; '
    'echo "== admin $u $home"; '
    'for p in $akf; do [ "$p" = none ] && continue; '
    'p=$(printf \'%s\' "$p" | sed -e "s|%h|$home|g" -e "s|%u|$u|g" -e \'s|%%|%|g\'); '
    'case "$p" in /*) ;; *) p="$home/$p";; esac; '
    'ak=$(try rd0 "$p"); r=$?; [ $r -eq 3 ] && exit 3; [ $r -eq 0 ] || continue; '
    'printf "%s\\n" "$ak" | grep -vE "^[[:space:]]*(#|$)" | while IFS= read -r line; do '
    'ca=no; case "$line" in *cert-authority*) ca=yes;; esac; '
    'fp=$(printf "%s\\n" "$line" | ssh-keygen -l -f - 2>/dev/null | head -n 1); '
    'set -- $fp; t=unknown; for w in "$@"; do t=$w; done; '
    'printf "#auth %s %s ca=%s %s\\n" "${2:-unparsed}" "$t" "$ca" "$p"; done; done; '
    'files=$(try ls0 "$home/.ssh"); r=$?; [ $r -eq 3 ] && exit 3; '
    "if [ $r -eq 0 ]; then for f in $files; do "
    'case "$f" in *.pub|authorized_keys*|known_hosts*|config|environment|rc) continue;; esac; '
    'key=$(try rd0 "$home/.ssh/$f"); r=$?; [ $r -eq 3 ] && exit 3; '
    'head2=$(printf "%s\\n" "$key" | head -n 2); key=; '
    'case "$head2" in *"PRIVATE KEY-----"*) ;; *) continue;; esac; '
    'case "$head2" in *\'' + OPENSSH_PLAIN + "'*) enc=no; fmt=openssh;; "
    "*OPENSSH*) enc=yes; fmt=openssh;; *ENCRYPTED*) enc=yes; fmt=pem;; *) enc=no; fmt=pem;; esac; "
    'pub=$(try rd0 "$home/.ssh/$f.pub"); r=$?; [ $r -eq 3 ] && exit 3; '
    'fp=$(printf "%s\\n" "$pub" | ssh-keygen -l -f - 2>/dev/null | head -n 1); '
    'set -- $fp; printf "#private .ssh/%s %s encrypted=%s %s\\n" "$f" "$fmt" "$enc" "${2:-no-pub-file}"; done; fi; '
    'kc=$(try rd0 "$home/.kube/config"); r=$?; [ $r -eq 3 ] && exit 3; '
    "if [ $r -eq 0 ]; then "
    "printf '%s\\n' \"$kc\" | grep -nE '^[[:space:]]*(token|client-key-data|client-key|password):' | "
    "sed -E 's/^([0-9]+):[[:space:]]*([a-z-]+):.*/#kube .kube\\/config:\\1 \\2/'; fi; kc=; "
    ":; done"
)


def parse(text: str) -> dict:
    """{"trusted_user_ca_keys": path|None, "admins": {user: {"home", "authorized": [{"fingerprint", "type",
    "cert_authority"}], "private_keys": [{"file", "format", "encrypted", "fingerprint"}],
    "kube_credentials": [{"where", "field"}]}}}."""
    out: dict = {"trusted_user_ca_keys": None, "authorized_keys_files": [], "admins": {}}
    current: dict | None = None
    for line in text.splitlines():
        if line.startswith("== trustedusercakeys"):
            value = line[len("== trustedusercakeys") :].strip()
            out["trusted_user_ca_keys"] = value if value and value.lower() != "none" else None
        elif line.startswith("== authorizedkeysfile"):
            out["authorized_keys_files"] = line[len("== authorizedkeysfile") :].split()
        elif line.startswith("== admin "):
            words = line.split()
            user, home = words[2], words[3] if len(words) > 3 else ""
            current = out["admins"].setdefault(
                user, {"home": home, "authorized": [], "private_keys": [], "kube_credentials": []}
            )
            current["declared_canary"] = len(words) > 4 and words[4] == "canary"
        elif current is None:
            continue
        elif line.startswith("#auth "):
            words = line.split()
            ktype = words[2].strip("()") if len(words) > 2 else "unknown"
            current["authorized"].append(
                {
                    "fingerprint": words[1],
                    "type": ktype,
                    "cert_authority": len(words) > 3 and words[3] == "ca=yes",
                    "file": words[4] if len(words) > 4 else None,
                }
            )
        elif line.startswith("#private "):
            words = line.split()
            current["private_keys"].append(
                {
                    "file": words[1],
                    "format": words[2],
                    "encrypted": words[3] == "encrypted=yes",
                    "fingerprint": words[4] if len(words) > 4 else None,
                }
            )
        elif line.startswith("#kube "):
            words = line.split()
            current["kube_credentials"].append({"where": words[1], "field": words[2] if len(words) > 2 else "?"})
    return out


# ssh-keygen -l prints the key type in parentheses: ED25519, ED25519-SK, ECDSA-SK, RSA, ECDSA, DSA.
HARDWARE_TYPES = frozenset({"ED25519-SK", "ECDSA-SK"})

HOST_FACTS = (
    HostFact(
        "admin_keys",
        ADMIN_KEYS,
        parse,
        fixture="admin_keys",
        doc="administrators' homes: authorized_keys types and fingerprints (cert-authority lines), private key "
        "files (encrypted or not, fingerprint), kubeconfig embedded credential fields (line and name only), "
        "sshd TrustedUserCAKeys",
    ),
)
