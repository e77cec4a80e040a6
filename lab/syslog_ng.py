"""syslog-ng on the lab hosts: a second log daemon beside rsyslog, so one host pair exercises both parsers.

syslog-ng-core Conflicts with rsyslog in Debian (both provide system-log-daemon), so it is not installed: ci/setup.sh
extracts its .deb into ROOT and writes ROOT/bin/syslog-ng, a wrapper pointing it at its private libraries and
modules. Inside a lab host's private mount namespace ROOT/bin is bound over /usr/local/sbin, so the host "has"
/usr/local/sbin/syslog-ng on its PATH like a machine with the package installed (the scanner's --preprocess-into
finds it there); the machine's /usr/local/sbin is never written.

- ssh-mfa: network() over transport("tls") to the lab collector with tls(peer-verify(required-trusted)), the lab
  CA and the source certificate (the collector accepts the peer name ssh-mfa.lab), a reliable disk-buffer; the
  destination lives in conf.d/, pulled in by an @include pattern, so the merge is exercised.
- ssh-key-only: UDP, plain TCP and TLS without verification (peer-verify(optional-untrusted)), no disk-buffer.
Every configuration is checked with `syslog-ng --syntax-only` at lab-up, inside the host's /etc overlay (syslog-ng
checks the files it names, such as ca-file(), while parsing).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .topology import SERVICES

ROOT = Path(os.environ.get("PREUVE_SYSLOG_NG_ROOT", "/opt/preuve-syslog-ng"))
BIN_DIR = ROOT / "bin"
ON_HOST = "/usr/local/sbin/syslog-ng"
CONFIG = "/etc/syslog-ng/syslog-ng.conf"
COLLECTOR = "log-collector"
TLS_PORT = 6514

SUDOERS = f"auditor ALL=(root) NOPASSWD: {ON_HOST} --no-caps --preprocess-into=/dev/stdout -f {CONFIG}\n"
"""The scanner may merge the configuration as root (syslog-ng checks key files it cannot read otherwise)."""

# Started by hosts._WRAPPER inside the host's mount namespace, after the /etc overlay and the /var/log bind;
# state files in the host's own /var/log, so two hosts never share a pid file, persist file or control socket.
START = (
    f"mount --bind {BIN_DIR} /usr/local/sbin && "
    f"{ON_HOST} -f {CONFIG} -p /var/log/syslog-ng.pid -R /var/log/syslog-ng.persist -c /var/log/syslog-ng.ctl && "
)

_HEAD = """\
@version: 3.38
# preuve lab {host}: syslog-ng beside rsyslog (generated, do not edit)
options {{ use-dns(no); time-reopen(2); stats-freq(0); }};
source s_local {{ unix-dgram("/var/log/lab-ng.sock"); internal(); }};
"""


def configs(host: str) -> dict[str, str]:
    """Files under the host's /etc/syslog-ng (relative path -> text)."""
    collector = SERVICES[COLLECTOR].address
    if host == "ssh-mfa":
        main = _HEAD.format(host=host) + '@include "/etc/syslog-ng/conf.d/*.conf"\n'
        forward = f"""\
# forwards everything over TLS; the collector must present a certificate the lab CA signed for its address
destination d_collector {{
    network("{collector}" port({TLS_PORT}) transport("tls")
        tls(ca-file("/etc/preuve-lab-tls/ca.pem") cert-file("/etc/preuve-lab-tls/source.pem")
            key-file("/etc/preuve-lab-tls/source.key") peer-verify(required-trusted))
        disk-buffer(reliable(yes) disk-buf-size(1048576) mem-buf-size(163840) dir("/var/log/syslog-ng-buffer")));
}};
log {{ source(s_local); destination(d_collector); }};
"""
        return {"syslog-ng.conf": main, "conf.d/forward.conf": forward}
    main = (
        _HEAD.format(host=host)
        + f"""\
destination d_udp {{ network("{collector}" port(514) transport("udp")); }};
destination d_plain {{ tcp("{collector}" port(601)); }};
destination d_unverified {{
    network("{collector}" port({TLS_PORT}) transport("tls") tls(peer-verify(optional-untrusted)));
}};
log {{ source(s_local); destination(d_udp); destination(d_plain); destination(d_unverified); }};
"""
    )
    return {"syslog-ng.conf": main}


def binary() -> Path:
    wrapper = BIN_DIR / "syslog-ng"
    if not os.access(wrapper, os.X_OK):
        raise RuntimeError(f"syslog-ng is not extracted at {ROOT} (run ci/setup.sh)")
    return wrapper


def install(host_dir: Path, host: str) -> None:
    """Write the host's /etc/syslog-ng and disk-buffer directory, then have syslog-ng check the result."""
    etc = host_dir / "etc" / "syslog-ng"
    for rel, text in configs(host).items():
        path = etc / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    os.setxattr(etc, "trusted.overlay.opaque", b"y")
    (host_dir / "log" / "syslog-ng-buffer").mkdir(mode=0o700, exist_ok=True)
    syntax_check(host_dir / "etc")


def syntax_check(etc: Path) -> None:
    """`syslog-ng --syntax-only` on the configuration as the host sees it (its /etc overlay mounted)."""
    script = f'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && exec "$2" --syntax-only -f {CONFIG}'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(etc), str(binary())]
    check = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"syslog-ng --syntax-only rejected {etc}/syslog-ng: {check.stderr.strip()[-600:]}")
