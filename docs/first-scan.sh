#!/usr/bin/env bash
# A first scan of your own server with preuve: install, trust the host key, write an inventory, lint, scan, and
# open report.html. No root needed (not for preuve, not on the server: a plain account that can log in by key).
# This very script is run by the test suite (tests/lab/test_wheel_unprivileged.py) as an unprivileged user against a
# real sshd and nginx on 127.0.0.1, from a freshly built wheel: the steps below are the tested ones.
#
#   PREUVE_PACKAGE   what to install: a wheel built from a checkout (`pip wheel --no-deps -w dist .`), or any
#                    requirement pip/pipx accepts                                         (required)
#   SERVER           address of your server                                              (required)
#   SSH_PORT=22      SSH_USER=$USER      SSH_KEY=~/.ssh/id_ed25519 (a key that logs in to SERVER as SSH_USER)
#   SSHD_CONFIG      the server's sshd_config when it is not /etc/ssh/sshd_config            (optional)
#   TLS_PORT=443     an HTTPS (or other TLS) port of SERVER; empty: no TLS endpoint
#   TLS_NAME         the name its certificate is for (SNI)                               (default: SERVER)
#   PROFILE=secnumcloud-3.2   a shipped profile (secnumcloud-3.2, ci-quick, secnumcloud-3.2-caas) or a file
#   WORKDIR=./preuve-first-scan   where the inventory, known_hosts and the run directory go
#   PREUVE_INSTALL   pipx | venv (default: pipx when it is installed, else a venv in $WORKDIR/venv)
#
# Example:  PREUVE_PACKAGE=./dist/preuve-0.1.0-py3-none-any.whl SERVER=203.0.113.7 bash docs/first-scan.sh
set -euo pipefail

: "${PREUVE_PACKAGE:?set PREUVE_PACKAGE to the wheel (or requirement) to install}"
: "${SERVER:?set SERVER to the address of the server to scan}"
SSH_PORT=${SSH_PORT:-22}
SSH_USER=${SSH_USER:-$(id -un)}
SSH_KEY=${SSH_KEY:-$HOME/.ssh/id_ed25519}
TLS_PORT=${TLS_PORT-443}
TLS_NAME=${TLS_NAME:-$SERVER}
PROFILE=${PROFILE:-secnumcloud-3.2}
WORKDIR=${WORKDIR:-./preuve-first-scan}
if [ -e "$PREUVE_PACKAGE" ]; then  # a local wheel: its absolute path (the steps below run in WORKDIR)
  PREUVE_PACKAGE="$(cd "$(dirname "$PREUVE_PACKAGE")" && pwd)/$(basename "$PREUVE_PACKAGE")"
fi
mkdir -p "$WORKDIR" && cd "$WORKDIR"

# 1. Install: the scanner and what a scan needs, nothing else (no lab, no bench).
if [ "${PREUVE_INSTALL:-$(command -v pipx >/dev/null && echo pipx || echo venv)}" = pipx ]; then
  pipx install --force "$PREUVE_PACKAGE"
  PREUVE=preuve
else
  python3 -m venv venv
  venv/bin/pip install -q "$PREUVE_PACKAGE"
  PREUVE="$PWD/venv/bin/preuve"
fi
"$PREUVE" --version

# 2. Host key: preuve checks it strictly. Record it once, then compare the fingerprints printed here with the
#    ones your administrators know (`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the server).
ssh-keyscan -p "$SSH_PORT" "$SERVER" >known_hosts 2>/dev/null
ssh-keygen -l -f known_hosts

# 3. Inventory: one host preuve logs in to, the same sshd seen from outside, and a TLS endpoint.
#    (`preuve init` writes a fully commented one when you have more to describe.)
{
  echo "version: 1"
  echo "name: first-scan"
  echo "defaults:"
  echo "  timeout: 5"
  echo "  ssh: {user: \"$SSH_USER\", key_file: \"$SSH_KEY\", known_hosts: \"$PWD/known_hosts\"}"
  echo "hosts:"
  echo "  - name: my-server"
  echo "    address: \"$SERVER\""
  echo "    ssh: {port: $SSH_PORT${SSHD_CONFIG:+, sshd_config: \"$SSHD_CONFIG\"}}"
  echo "ssh_endpoints:"
  echo "  - {name: my-server-sshd, address: \"$SERVER\", port: $SSH_PORT}"
  if [ -n "$TLS_PORT" ]; then
    echo "tls_endpoints:"
    echo "  - {name: my-server-tls, address: \"$SERVER\", port: $TLS_PORT, sni: \"$TLS_NAME\"}"
  fi
} >inventory.yaml

# 4. Lint: the inventory and the profile are valid before anything touches the network.
"$PREUVE" lint -i inventory.yaml -p "$PROFILE"

# 5. Scan. Exit 0 compliant, 1 non-compliant, 2 incomplete (something could not be observed: the report says
#    what, e.g. the sudo rule the account lacks): all three wrote a report. 3 and above: nothing was judged.
status=0
"$PREUVE" run -i inventory.yaml -p "$PROFILE" -o run --progress plain || status=$?
if [ "$status" -gt 2 ]; then
  echo "first-scan: preuve run failed (exit $status)" >&2
  exit "$status"
fi
echo "first-scan: exit $status; open $PWD/run/report.html (results: run/results.jsonl, run/run.json)"
