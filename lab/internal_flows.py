"""Internal flows of the technical infrastructure (13.2.b, 10.2.d): real etcd members and real strongSwan daemons.

Debian packages, run in the foreground from the lab's state dir in pv-prod (no systemd, nothing under /etc):

  198.18.2.90  etcd (etcd-server 3.4): client and peer URLs over TLS, client certificates required on both
               (--client-cert-auth, --peer-client-cert-auth)                                    -> compliant
  198.18.2.91  etcd over TLS, but --client-cert-auth=false, no peer client auth and no trusted CA (etcd 3.4 asks a
               certificate as soon as one is given): anyone who reaches the port reads the cluster (the target a
               naive "etcd speaks TLS" check passes)
  198.18.2.92  etcd in clear (http://) on both ports
  198.18.2.93  strongSwan (charon-systemd 5.9, vici socket ipsec/gw/charon.vici): IKEv2 only, AES-GCM-16-256 with
               ECP-384 for IKE and for the CHILD SA (PFS), certificates of a lab CA; the tunnel `saclay` to
  198.18.2.94  its peer (second charon, IKE on port 1500, in namespace pv-ipsec behind a veth from pv-prod),
               initiated at start: the IKE and CHILD SAs are up
  198.18.2.95  strongSwan whose `partner` connection is IKEv2 with AES-GCM first but 3DES/SHA-1/MODP-1024 kept as
               a fallback proposal, no PFS on the CHILD SA, a pre-shared key; plus an IKEv1 `legacy` connection
               (IKE on port 2500; no peer: its tunnels are declared and down)

Certificates and keys come from `cryptography` (an ECDSA P-384 lab CA). The PSK of the weak gateway is drawn at
each `up` and lives only in its 0600 config file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import subprocess
import time
from pathlib import Path

from . import netns
from .paths import LabPaths

NS = "pv-prod"
PEER_NS = "pv-ipsec"  # the gateway's peer sits in a namespace of its own, on a veth from pv-prod: two IPsec SAs of
# one tunnel cannot both be installed in a single kernel SAD (same destination and SPI)
ETCD = {  # name -> (address, client cert auth, TLS)
    "etcd-cert": ("198.18.2.90", True, True),
    "etcd-noauth": ("198.18.2.91", False, True),
    "etcd-plain": ("198.18.2.92", False, False),
}
IPSEC = {  # name -> (address, IKE port)
    "ipsec-gw": ("198.18.2.93", 500),
    "ipsec-peer": ("198.18.2.94", 1500),
    "ipsec-weak": ("198.18.2.95", 2500),
}
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def root(paths: LabPaths) -> Path:
    return paths.root / "internal-flows"


def vici(paths: LabPaths, name: str) -> str:
    return f"unix://{root(paths) / name / 'charon.vici'}"


def config_file(paths: LabPaths, name: str) -> Path:
    return root(paths) / name / "swanctl.conf"


def ca_file(paths: LabPaths) -> Path:
    return root(paths) / "pki" / "ca.pem"


def _pki(d: Path, names: dict[str, list[str]]) -> None:
    """A lab CA and one leaf per name (SANs: its addresses), PEM, keys 0600."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    d.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "preuve lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    def save_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)

    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("preuve lab internal flows CA"))
        .issuer_name(name("preuve lab internal flows CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA384())
    )
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for leaf, addresses in names.items():
        key = ec.generate_private_key(ec.SECP384R1())
        sans = [x509.DNSName(f"{leaf}.lab"), *(x509.IPAddress(ipaddress.ip_address(a)) for a in addresses)]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(f"{leaf}.lab"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA384())
        )
        (d / f"{leaf}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        save_key(d / f"{leaf}.key", key)


STRONGSWAN_CONF = """\
charon-systemd {{
  load_modular = yes
  port = {port}
  port_nat_t = {nat}
  install_routes = no
  install_virtual_ip = no
  filelog {{
    charon {{
      path = {log}
      default = 1
      time_format = %Y-%m-%dT%H:%M:%S
      flush_line = yes
      ike = 2
      net = 2
    }}
  }}
  plugins {{
    include /etc/strongswan.d/charon/*.conf
    vici {{
      socket = {vici}
    }}
  }}
}}
swanctl {{
  socket = {vici}
  load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}}
"""

GW_CONF = """\
connections {{
  {conn} {{
    version = 2
    local_addrs = {local}
    remote_addrs = {remote}
    remote_port = {remote_port}
    mobike = no
    proposals = aes256gcm16-prfsha384-ecp384
    local {{
      auth = pubkey
      certs = {cert}
      id = {local_id}
    }}
    remote {{
      auth = pubkey
      id = {remote_id}
      cacerts = {ca}
    }}
    children {{
      {conn} {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = aes256gcm16-ecp384
        start_action = {start}
      }}
    }}
  }}
}}
"""

WEAK_CONF = """\
connections {{
  partner {{
    version = 2
    local_addrs = {local}
    remote_addrs = 198.18.2.96
    proposals = aes256gcm16-prfsha384-ecp384,3des-sha1-modp1024
    local {{
      auth = psk
      id = {local}
    }}
    remote {{
      auth = psk
      id = 198.18.2.96
    }}
    children {{
      partner {{
        local_ts = 10.3.0.0/16
        remote_ts = 10.4.0.0/16
        esp_proposals = aes256gcm16,aes128-sha1
      }}
    }}
  }}
  legacy {{
    version = 1
    local_addrs = {local}
    remote_addrs = 198.18.2.97
    proposals = aes128-sha256-modp2048
    local {{
      auth = psk
    }}
    remote {{
      auth = psk
    }}
    children {{
      legacy {{
        esp_proposals = aes128-sha1-modp2048
      }}
    }}
  }}
}}
secrets {{
  ike-partner {{
    id = 198.18.2.96
    secret = {psk}
  }}
}}
"""


def write(paths: LabPaths) -> None:
    """Certificates, etcd data dirs, strongSwan configurations (regenerated at each `up`: cheap)."""
    d = root(paths)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    leaves = {n: [a] for n, (a, _, _) in ETCD.items()} | {n: [a] for n, (a, _) in IPSEC.items()}
    _pki(d / "pki", leaves)
    pki = d / "pki"
    for name, (address, port) in IPSEC.items():
        gd = d / name
        gd.mkdir(exist_ok=True)
        (gd / "strongswan.conf").write_text(
            STRONGSWAN_CONF.format(port=port, nat=port + 1, vici=vici(paths, name), log=gd / "charon.log")
        )
        if name == "ipsec-weak":
            body = WEAK_CONF.format(local=address, psk=f"0s{secrets.token_urlsafe(24)}")
        else:
            gw = name == "ipsec-gw"
            other = "ipsec-peer" if gw else "ipsec-gw"
            for sub, src in (("x509", f"{name}.pem"), ("x509ca", "ca.pem"), ("pkcs8", f"{name}.key")):
                (gd / sub).mkdir(exist_ok=True)  # swanctl loads credentials from these folders beside its config
                (gd / sub / src).write_bytes((pki / src).read_bytes())
                (gd / sub / src).chmod(0o600)
            body = GW_CONF.format(
                conn="saclay",
                name=name,
                local=address,
                remote=IPSEC[other][0],
                remote_port=IPSEC[other][1],
                cert=f"{name}.pem",
                ca="ca.pem",
                local_id=f"{name}.lab",
                remote_id=f"{other}.lab",
                local_ts="10.1.0.0/16" if gw else "10.2.0.0/16",
                remote_ts="10.2.0.0/16" if gw else "10.1.0.0/16",
                start="trap" if gw else "none",
            )
        config_file(paths, name).write_text(body)
        config_file(paths, name).chmod(0o600)


def _peer_link() -> None:
    """pv-ipsec holds 198.18.2.94 on a veth whose other end is in pv-prod (host routes both ways)."""
    if not netns.exists(PEER_NS):
        netns.add(PEER_NS)
    gw, peer = IPSEC["ipsec-gw"][0], IPSEC["ipsec-peer"][0]
    subprocess.run(
        ["ip", "-n", NS, "link", "add", "ipsec-peer", "type", "veth", "peer", "name", "eth0", "netns", PEER_NS],
        check=True,
        capture_output=True,
    )
    netns.ip_batch(NS, ["link set ipsec-peer up", f"route add {peer}/32 dev ipsec-peer"])
    netns.ip_batch(
        PEER_NS, ["link set lo up", "link set eth0 up", f"addr add {peer}/32 dev eth0", f"route add {gw}/32 dev eth0"]
    )


def _spawn(paths: LabPaths, name: str, argv: list[str], env: dict[str, str] | None = None, ns: str = NS) -> None:
    log = open(paths.log(name), "ab")  # noqa: SIM115 - handed to the daemon
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns.check_name(ns), *argv],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        env={**ENV, **(env or {})},
    )
    log.close()
    paths.pid_file(name).write_text(f"{proc.pid}\n")


def _etcd(paths: LabPaths, name: str) -> None:
    address, client_auth, tls = ETCD[name]
    scheme = "https" if tls else "http"
    data = root(paths) / name / "data"
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    pki = root(paths) / "pki"
    argv = [
        "etcd",
        "--name",
        name,
        "--data-dir",
        str(data),
        "--listen-client-urls",
        f"{scheme}://{address}:2379",
        "--advertise-client-urls",
        f"{scheme}://{address}:2379",
        "--listen-peer-urls",
        f"{scheme}://{address}:2380",
        "--initial-advertise-peer-urls",
        f"{scheme}://{address}:2380",
        "--initial-cluster",
        f"{name}={scheme}://{address}:2380",
        "--listen-metrics-urls",
        "",
    ]
    if tls:
        argv += [
            f"--cert-file={pki / f'{name}.pem'}",
            f"--key-file={pki / f'{name}.key'}",
            f"--peer-cert-file={pki / f'{name}.pem'}",
            f"--peer-key-file={pki / f'{name}.key'}",
            f"--client-cert-auth={'true' if client_auth else 'false'}",
            f"--peer-client-cert-auth={'true' if client_auth else 'false'}",
        ]
        if client_auth:  # etcd requires a client certificate as soon as a trusted CA is given, whatever the flags
            argv += [f"--trusted-ca-file={pki / 'ca.pem'}", f"--peer-trusted-ca-file={pki / 'ca.pem'}"]
    _spawn(paths, name, argv)


def _charon(paths: LabPaths, name: str) -> None:
    conf = root(paths) / name / "strongswan.conf"
    ns = PEER_NS if name == "ipsec-peer" else NS
    _spawn(paths, name, ["/usr/sbin/charon-systemd"], {"STRONGSWAN_CONF": str(conf)}, ns)


def swanctl(paths: LabPaths, name: str, *args: str) -> subprocess.CompletedProcess:
    conf = root(paths) / name / "strongswan.conf"
    return subprocess.run(
        ["swanctl", *args, "--uri", vici(paths, name)],
        env={**ENV, "STRONGSWAN_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def start(paths: LabPaths) -> None:
    """etcd members and charons; the charons' connections are loaded and the gateway's tunnel initiated."""
    for name in ETCD:
        _etcd(paths, name)
    _peer_link()
    for name in IPSEC:
        (root(paths) / name / "charon.vici").unlink(missing_ok=True)
        _charon(paths, name)
    deadline = time.monotonic() + 20
    for name in IPSEC:
        while not (root(paths) / name / "charon.vici").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: charon wrote no vici socket ({paths.log(name)})")
            time.sleep(0.05)
    for name in ("ipsec-peer", "ipsec-gw", "ipsec-weak"):  # the responder first
        r = swanctl(paths, name, "--load-all", "--noprompt", "--file", str(config_file(paths, name)))
        with paths.log(name).open("a") as log:  # a failure here is a finding of the checks, not a broken lab
            log.write(f"swanctl --load-all: exit {r.returncode}\n{r.stdout}{r.stderr}")
    r = swanctl(paths, "ipsec-gw", "--initiate", "--child", "saclay", "--timeout", "10")
    with paths.log("ipsec-gw").open("a") as log:
        log.write(f"swanctl --initiate saclay: exit {r.returncode}\n{r.stdout}")
