#!/usr/bin/env bash
# Installs everything preuve, its lab, its tests and its benchmarks need on Debian 12 (run as root):
# Debian packages (real daemons for the lab, peer tools for the bench) and a virtualenv in .venv.
# Idempotent: a second run only checks. Services are NOT started on the host (policy-rc.d during install).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(openssh-server openssh-client nginx-light nftables iproute2 sudo util-linux procps
              python3 python3-venv python3-pip nmap testssl.sh sslscan openssl ca-certificates restic borgbackup
              libpam-oath oathtool logrotate systemd chrony rsyslog rsyslog-gnutls systemd-journal-remote
              libivykis0 libnet1 libwrap0
              snmpd snmp vsftpd inetutils-telnetd openipmi tigervnc-standalone-server tinyproxy
              libnginx-mod-http-modsecurity modsecurity-crs
              etcd-server strongswan-swanctl charon-systemd
              chromium
              cryptsetup-bin gnupg
              clamav clamav-daemon auditd)

missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.preuve-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing preuve and its dependencies into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi

# compliance-trestle (tests/unit/test_outputs_consumers.py loads our OSCAL with it) in a venv of its own: it pins
# paramiko==5.0.0 and jinja2==3.1.6 exactly, which must not choose preuve's own SSH library in .venv.
TRESTLE_VERSION=5.2.0
if ! .venv-trestle/bin/python -c "import trestle, sys; sys.exit(trestle.__version__ != '$TRESTLE_VERSION')" 2>/dev/null
then
  echo "setup: installing compliance-trestle $TRESTLE_VERSION into .venv-trestle"
  "$PY" -m venv .venv-trestle
  .venv-trestle/bin/pip install -q "compliance-trestle==$TRESTLE_VERSION"
fi

# syslog-ng beside rsyslog: syslog-ng-core Conflicts with rsyslog (both provide system-log-daemon), so its .deb is
# extracted into a private directory (its libraries above are installed normally) and run through a wrapper that
# points it at its private libraries and modules. The lab hosts use it (lab/syslog_ng.py).
SYSLOG_NG_ROOT=${PREUVE_SYSLOG_NG_ROOT:-/opt/preuve-syslog-ng}
if [ ! -x "$SYSLOG_NG_ROOT/bin/syslog-ng" ]; then
  echo "setup: extracting syslog-ng-core into $SYSLOG_NG_ROOT"
  tmp=$(mktemp -d)
  (cd "$tmp" && chmod 755 . && apt-get download -q syslog-ng-core >/dev/null 2>&1 \
     || { apt-get update -q && apt-get download -q syslog-ng-core; })
  rm -rf "$SYSLOG_NG_ROOT.new" && mkdir -p "$SYSLOG_NG_ROOT.new/bin"
  dpkg-deb -x "$tmp"/syslog-ng-core_*.deb "$SYSLOG_NG_ROOT.new/pkg"
  cat > "$SYSLOG_NG_ROOT.new/bin/syslog-ng" <<WRAPPER
#!/bin/sh
# preuve: syslog-ng-core extracted from its .deb (it conflicts with rsyslog); private libraries and modules.
LD_LIBRARY_PATH=$SYSLOG_NG_ROOT/pkg/usr/lib/syslog-ng exec $SYSLOG_NG_ROOT/pkg/usr/sbin/syslog-ng \\
  --module-path=$SYSLOG_NG_ROOT/pkg/usr/lib/syslog-ng/3.38 "\$@"
WRAPPER
  chmod 755 "$SYSLOG_NG_ROOT.new/bin/syslog-ng"
  rm -rf "$SYSLOG_NG_ROOT" "$tmp" && mv "$SYSLOG_NG_ROOT.new" "$SYSLOG_NG_ROOT"
fi
"$SYSLOG_NG_ROOT/bin/syslog-ng" --version >/dev/null
