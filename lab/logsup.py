"""The supervision host (pv-sup): a syslog collector over TLS (rsyslog + gnutls) and an internal NTP server.

Both run without touching the machine: chronyd with ``-x`` (never sets the clock) serves its local time at
stratum 8 on the lab address only, and rsyslogd runs with its own config and pid file, no local socket
input (the host's /dev/log is left alone). The lab hosts' sources are configured here too: ``ssh-mfa``
forwards over TCP+TLS with mutual x509/name verification and a disk-assisted queue, and syncs on the
internal server only; ``ssh-key-only`` forwards over plain UDP and is told to use a public NTP pool only
(whose name never resolves: its resolv.conf points at loopback, so no packet leaves the lab; it stays
unsynchronised).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import netns
from .paths import LabPaths
from .topology import SERVICES

NAME = "log-collector"
TLS_PORT = 6514  # syslog over TLS (RFC 5425); the flow-matrix listener leaves a port a daemon holds
UDP_PORT = 514
COLLECTOR_CN = "collector.lab"
SOURCE_CN = "ssh-mfa.lab"


def root(paths: LabPaths) -> Path:
    return paths.root / "logsup"


def tls_dir(paths: LabPaths) -> Path:
    return root(paths) / "tls"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "preuve lab logs"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _ensure_pki(paths: LabPaths) -> None:
    """A small CA and two leaves (collector, ssh-mfa source), each for client and server auth; cached."""
    d = tls_dir(paths)
    if all((d / f).is_file() for f in ("ca.pem", "collector.pem", "collector.key", "source.pem", "source.key")):
        return
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("preuve lab log CA"))
        .issuer_name(_name("preuve lab log CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for stem, cn, ip in (("collector", COLLECTOR_CN, SERVICES[NAME].address), ("source", SOURCE_CN, None)):
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = [x509.DNSName(cn)]
        if ip:
            sans.append(x509.IPAddress(ipaddress.ip_address(ip)))
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        (d / f"{stem}.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        _write_key(d / f"{stem}.key", key)


def _collector_conf(paths: LabPaths) -> str:
    d, r, addr = tls_dir(paths), root(paths), SERVICES[NAME].address
    return f"""# preuve lab syslog collector (generated)
global(workDirectory="{r / "work"}"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{d / "ca.pem"}"
       DefaultNetstreamDriverCertFile="{d / "collector.pem"}"
       DefaultNetstreamDriverKeyFile="{d / "collector.key"}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/name"
       PermittedPeer=["{SOURCE_CN}"])
input(type="imtcp" address="{addr}" port="{TLS_PORT}")
module(load="imudp")
input(type="imudp" address="{addr}" port="{UDP_PORT}")
*.* action(type="omfile" file="{r / "received.log"}")
"""


def _ntp_conf(paths: LabPaths) -> str:
    r = root(paths)
    return f"""# preuve lab internal NTP server (generated): serves its local time, never sets the clock (-x)
local stratum 8
allow 198.18.0.0/15
bindaddress {SERVICES[NAME].address}
port 123
cmdport 0
bindcmdaddress {r / "chronyd.sock"}
pidfile {paths.run / "ntp-sup.pid"}
driftfile {r / "chrony.drift"}
"""


def source_rsyslog(paths: LabPaths, host: str) -> str:
    """/etc/rsyslog.conf of a lab host: TLS with x509/name and a disk queue, or plain UDP."""
    addr = SERVICES[NAME].address
    fmt = "RSYSLOG_FileFormat" if host == "ssh-mfa" else "RSYSLOG_TraditionalFileFormat"  # RFC 3339 or "Nov 23"
    local = (
        f"# preuve lab {host}: a private log socket (the machine's /dev/log is not touched), a local copy\n"
        'module(load="imuxsock" SysSock.Use="off")\ninput(type="imuxsock" Socket="/var/log/lab-log.sock")\n'
        f'*.* action(type="omfile" file="/var/log/messages" template="{fmt}")\n'
    )
    if host != "ssh-mfa":
        return local + f"# forwards everything over plain UDP\n*.* @{addr}:{UDP_PORT}\n"
    return (
        local
        + f"""# forwards everything over TCP+TLS, collector authenticated by name
global(workDirectory="/var/log/rsyslog-spool"
       DefaultNetstreamDriverCAFile="/etc/preuve-lab-tls/ca.pem"
       DefaultNetstreamDriverCertFile="/etc/preuve-lab-tls/source.pem"
       DefaultNetstreamDriverKeyFile="/etc/preuve-lab-tls/source.key")
*.* action(type="omfwd" target="{addr}" port="{TLS_PORT}" protocol="tcp"
           StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
           StreamDriverPermittedPeers="{COLLECTOR_CN}"
           queue.type="LinkedList" queue.filename="fwd" queue.saveOnShutdown="on" queue.maxDiskSpace="1g"
           action.resumeRetryCount="-1" action.resumeInterval="1")
"""
    )


def source_chrony(host: str) -> str:
    """/etc/chrony/chrony.conf of a lab host (chronyd -x: the host clock is never touched)."""
    if host == "ssh-mfa":
        sources = f"server {SERVICES[NAME].address} iburst minpoll -4 maxpoll 0\n"
    else:  # a public pool only, whose name never resolves here: never synchronised, and non-compliant anyway
        sources = "pool 2.debian.pool.ntp.org iburst\n"
    return f"# preuve lab {host} (generated)\n{sources}cmdport 0\ndriftfile /var/log/chrony.drift\n"


def write(paths: LabPaths) -> None:
    """PKI, collector and NTP server configs (the sources' files are written by hosts.py)."""
    _ensure_pki(paths)
    r = root(paths)
    (r / "work").mkdir(parents=True, exist_ok=True)
    (r / "rsyslog.conf").write_text(_collector_conf(paths))
    (r / "chrony.conf").write_text(_ntp_conf(paths))
    r.chmod(0o700)


def start(paths: LabPaths) -> None:
    """chronyd (server, -x) and rsyslogd (collector) in pv-sup; rsyslogd writes its own pid file."""
    svc = SERVICES[NAME]
    r = root(paths)
    paths.logs.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    for argv in (
        ["chronyd", "-x", "-u", "root", "-f", str(r / "chrony.conf"), "-l", str(paths.log("ntp-sup"))],
        ["rsyslogd", "-f", str(r / "rsyslog.conf"), "-i", str(paths.pid_file(NAME))],
    ):
        proc = netns.run_in(svc.ns, argv, stdin=subprocess.DEVNULL, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{NAME}: {argv[0]} failed to start: {proc.stderr.strip()}")
