"""The administration plane's real daemons: clear-text and protected admin protocols, a BMC, egress proxies with
their outside canaries, and web front ends with and without a web application firewall (issue 20).

All Debian packages, run in the foreground from the lab's state dir (no systemd, no file under /etc touched):

  production 198.18.2.80  snmpd, community `public` (v1/v2c)                        -> clear text
             198.18.2.81  "BMC": OpenIPMI's ipmi_sim (IPMI 1.5 auth none/MD2/MD5/straight, anonymous user)
                          and its web console in plain HTTP (nginx)                    -> clear text
             198.18.2.82  inetutils telnetd (login program /bin/false: nothing can log in) and vsftpd in clear
             198.18.2.83  snmpd SNMPv3 only (authPriv SHA/AES user) and vsftpd forcing TLS before login
             198.18.2.84  snmpd that refuses `public` but reads with the vendor default `private` (the target a
                          naive `public`-only probe would pass)
             198.18.2.85  Xtigervnc, security type None                               -> clear text
             198.18.2.86  Xtigervnc, VeNCrypt TLSNone only                             -> encrypted
  dmz        198.18.3.80  tinyproxy that forwards only to the allowed outside canary (FilterDefaultDeny)
             198.18.3.81  tinyproxy that forwards anything (the proxy a naive egress check would pass)
             198.18.3.82  nginx + ModSecurity v3 + OWASP CRS 3.3 (libnginx-mod-http-modsecurity, modsecurity-crs)
             198.18.3.83  nginx, no filter
             198.18.3.84  nginx whose only rule refuses the exact lower-case `%3Cscript%3E` (naive WAF)
  public     198.18.5.80  outside canary the filtering proxy may reach (nginx page with a marker)
             198.18.5.81  outside canary no one may reach (the open proxy does)

vsftpd accepts only the user name `preuve-probe` (userlist_deny=NO, an account that does not exist): no account
of this machine can log in to the lab FTP servers, while the clear-text one still asks the password in clear
(331), exactly as it would for a real user. The router lets the two proxies, and nothing else, reach the
canaries besides what the matrix says (preuve_lab.firewall.EGRESS_RULES).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from . import netns
from .paths import LabPaths
from .topology import SERVICES, ZONES

SNMP = {  # name -> (address, snmpd.conf body)
    "snmp-public": ("198.18.2.80", "rocommunity public default -V pvsys\n"),
    "snmp-v3": (
        "198.18.2.83",
        'createUser pvsnmpv3 SHA "pv-lab-snmp-auth-12" AES "pv-lab-snmp-priv-12"\nrouser pvsnmpv3 priv -V pvsys\n',
    ),
    "snmp-private": ("198.18.2.84", "rocommunity private default -V pvsys\n"),
}
IPMI_ADDRESS = "198.18.2.81"
VNC = {"vnc-none": ("None", 181), "vnc-tls": ("TLSNone", 182)}  # name -> (SecurityTypes, X display number)
PROXY_ALLOWED_URL = r"^http://198\.18\.5\.80(:80)?/"
CANARIES = {"198.18.5.80": "outside-allowed", "198.18.5.81": "outside-forbidden"}
CANARY_MARKER = "preuve-egress-canary"
PROXIES = ("198.18.3.80", "198.18.3.81")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def root(paths: LabPaths) -> Path:
    return paths.root / "adminplane"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _nginx(paths: LabPaths, name: str, servers: str, modules: str = "") -> str:
    tmp = root(paths) / "nginx-tmp" / name
    tmp.mkdir(parents=True, exist_ok=True)
    temps = "\n".join(f"    {d}_temp_path {tmp / d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# preuve lab: {name} (generated)
{modules}worker_processes 1;
pid {paths.pid_file(name)};
error_log {paths.log(name + ".error")} notice;
events {{ worker_connections 128; }}
http {{
    access_log {paths.log(name + ".access")};
{temps}
    default_type text/html;
{servers}
}}
"""


def _page(title: str) -> str:
    return f'return 200 "<!doctype html><title>{title}</title><p>{title}</p>\\n";'


MODSEC_MAIN = """\
# ModSecurity v3 with the OWASP Core Rule Set as Debian ships it (modsecurity-crs), blocking mode
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess Off
SecAuditEngine Off
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include /usr/share/modsecurity-crs/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
"""


def write(paths: LabPaths) -> None:
    """Every config of the admin plane under <state>/adminplane, and the inventory's canary SNMP community."""
    r = root(paths)
    canary = paths.keys / "snmp-canary.community"
    if not canary.is_file():
        import secrets

        _write(canary, f"pv-snmp-{secrets.token_hex(12)}\n", 0o600)
    for name, (address, body) in SNMP.items():
        (r / name).mkdir(parents=True, exist_ok=True)
        _write(
            r / name / "snmpd.conf",
            f"agentAddress udp:{address}:161\nview pvsys included .1.3.6.1.2.1.1\n{body}"
            f"sysDescr preuve lab {name}\nsysLocation lab\nsysContact lab\n",
            0o600,
        )
    _write(
        r / "ipmi" / "lan.conf",
        f"""name "pvbmc"
set_working_mc 0x20
  startlan 1
    addr {IPMI_ADDRESS} 623
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  user 1 true  ""      ""                  user  10 none md2 md5 straight
  user 2 true  "admin" "pv-lab-bmc-pass-12" admin 10 none md2 md5 straight
""",
        0o600,
    )
    _write(
        r / "ipmi" / "bmc.emu",
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n",
    )
    (r / "ipmi" / "state").mkdir(parents=True, exist_ok=True)
    empty = r / "ftp-empty"
    empty.mkdir(parents=True, exist_ok=True)
    empty.chmod(0o555)
    _write(r / "ftp-users", "preuve-probe\n")
    ftp_common = (
        f"listen=YES\nbackground=NO\nanonymous_enable=NO\nlocal_enable=YES\nwrite_enable=NO\n"
        f"secure_chroot_dir={empty}\npam_service_name=vsftpd\nseccomp_sandbox=NO\n"
        f"userlist_enable=YES\nuserlist_deny=NO\nuserlist_file={r / 'ftp-users'}\n"
    )
    _write(r / "vsftpd-clear.conf", ftp_common + "listen_address=198.18.2.82\nftpd_banner=preuve lab FTP\n")
    _ensure_cert(r)
    _write(
        r / "vsftpd-tls.conf",
        ftp_common + "listen_address=198.18.2.83\nftpd_banner=preuve lab FTPS\nssl_enable=YES\n"
        f"rsa_cert_file={r / 'ftp.crt'}\nrsa_private_key_file={r / 'ftp.key'}\n"
        "force_local_logins_ssl=YES\nforce_local_data_ssl=YES\n",
    )
    _write(
        r / "bmc-web.conf",
        _nginx(
            paths, "bmc-web", f"    server {{ listen {IPMI_ADDRESS}:80; location / {{ {_page('BMC web console')} }} }}"
        ),
    )
    _write(r / "modsec-main.conf", MODSEC_MAIN)
    _write(r / "www" / "index.html", "<!doctype html><title>front end (WAF)</title><p>front end (WAF)</p>\n")
    fronts = "\n".join(
        [
            f"    server {{ listen 198.18.3.82:8000; modsecurity on; modsecurity_rules_file {r / 'modsec-main.conf'};"
            f" root {r / 'www'}; }}",  # a static page: `return` would answer before ModSecurity's access phase
            f"    server {{ listen 198.18.3.83:8000; location / {{ {_page('front end (no WAF)')} }} }}",
            '    server { listen 198.18.3.84:8000; if ($args ~ "%3Cscript%3E") { return 403; }'
            f" location / {{ {_page('front end (naive filter)')} }} }}",
        ]
    )
    _write(
        r / "waf-fronts.conf",
        _nginx(paths, "waf-fronts", fronts, "load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;\n"),
    )
    canaries = "\n".join(
        f'    server {{ listen {a}:80; location / {{ return 200 "{CANARY_MARKER} {n}\\n"; }} }}'
        for a, n in CANARIES.items()
    )
    _write(r / "egress-canaries.conf", _nginx(paths, "egress-canaries", canaries))
    _write(r / "proxy-filter", PROXY_ALLOWED_URL + "\n")
    for name, address, filtered in (("egress-proxy", PROXIES[0], True), ("egress-proxy-open", PROXIES[1], False)):
        rules = f'Filter "{r / "proxy-filter"}"\nFilterURLs On\nFilterExtended On\nFilterDefaultDeny Yes\n'
        _write(
            r / f"{name}.conf",
            f"User nobody\nGroup nogroup\nPort 8888\nListen {address}\nBind {address}\nTimeout 5\nMaxClients 32\n"
            "Allow 198.18.0.0/15\nLogLevel Info\n" + (rules if filtered else ""),
        )


def _ensure_cert(r: Path) -> None:
    if (r / "ftp.crt").is_file() and (r / "ftp.key").is_file():
        return
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
         "825", "-subj", "/C=FR/O=preuve lab/CN=ftp.lab", "-keyout", str(r / "ftp.key"), "-out", str(r / "ftp.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    (r / "ftp.key").chmod(0o600)


def _spawn(paths: LabPaths, name: str, ns: str, argv: list[str], *, env: dict | None = None) -> None:
    """A foreground daemon, detached in its own session inside `ns`; its pid file is ours to write."""
    log = paths.log(name).open("ab")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns.check_name(ns), *argv],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        env={**ENV, **(env or {})},
    )
    paths.pid_file(name).write_text(f"{proc.pid}\n")  # `ip netns exec` execs the daemon: same pid


def start(paths: LabPaths) -> None:
    """Start every admin-plane daemon; returns once the UDP agents answer (TCP ones are waited by lab up)."""
    r = root(paths)
    prod, dmz, pub = ZONES["prod"].ns, ZONES["dmz"].ns, ZONES["pub"].ns
    for name, (_address, _) in SNMP.items():
        argv = ["/usr/sbin/snmpd", "-f", "-C", "-c", str(r / name / "snmpd.conf"), "-M", "/nonexistent"]
        argv += ["-Lf", str(paths.log(name)), "-I", "-ifTable,ifXTable,ipAddressTable"]
        _spawn(paths, name, prod, argv, env={"SNMP_PERSISTENT_DIR": str(r / name), "MIBS": ""})
    ipmi = ["/usr/bin/ipmi_sim", "-n", "-c", str(r / "ipmi" / "lan.conf"), "-f", str(r / "ipmi" / "bmc.emu")]
    _spawn(paths, "ipmi-sim", prod, [*ipmi, "-s", str(r / "ipmi" / "state")])
    telnetd = ["/usr/sbin/telnetd", "-h", "-E", "/bin/false"]  # nothing to log in to
    _spawn(paths, "telnet", prod, ["systemd-socket-activate", "-l", "198.18.2.82:23", "--inetd", "-a", *telnetd])
    _spawn(paths, "ftp-clear", prod, ["/usr/sbin/vsftpd", str(r / "vsftpd-clear.conf")])
    _spawn(paths, "ftp-tls", prod, ["/usr/sbin/vsftpd", str(r / "vsftpd-tls.conf")])
    for name, (types, display) in VNC.items():
        address = SERVICES[name].address
        _free_display(display)
        argv = ["Xtigervnc", f":{display}", "-rfbport", "5900", "-interface", address, "-SecurityTypes", types]
        # TigerVNC blacklists an address after 5 handshakes left at the security step (the probe's): the lab's
        # tests scan it many times a minute from the same namespaces, a real one sees a scanner a few times a run
        argv += ["-BlacklistThreshold", "1000000"]
        _spawn(paths, name, prod, [*argv, "-nolisten", "tcp", "-desktop", f"preuve lab {name}"])
    for name in ("egress-proxy", "egress-proxy-open"):
        _spawn(paths, name, dmz, ["tinyproxy", "-d", "-c", str(r / f"{name}.conf")])
    for name, ns in (("bmc-web", prod), ("waf-fronts", dmz), ("egress-canaries", pub)):
        argv = ["/usr/sbin/nginx", "-c", str(r / f"{name}.conf"), "-e", str(paths.log(name + ".error"))]
        proc = netns.run_in(ns, argv, stdin=subprocess.DEVNULL, env=ENV)
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed to start: {proc.stderr.strip()}")
    _wait_udp(paths, prod)


def _free_display(display: int) -> None:
    """Remove the X lock and socket of a display whose server is gone (a lab torn down hard leaves them)."""
    lock = Path(f"/tmp/.X{display}-lock")
    try:
        pid = int(lock.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if (
        pid
        and Path(f"/proc/{pid}").exists()
        and "Xtigervnc" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    ):
        return
    lock.unlink(missing_ok=True)
    Path(f"/tmp/.X11-unix/X{display}").unlink(missing_ok=True)


def _wait_udp(paths: LabPaths, ns: str, wait: float = 10.0) -> None:
    """The SNMP agents and the BMC answer their first datagram (an SNMPv3 discovery, an RMCP ping)."""
    from preuve.observe.network.admin_protocols import RMCP_PING, snmp_v3_discovery

    wanted = [(a, 161, snmp_v3_discovery(1)) for a, _ in SNMP.values()] + [(IPMI_ADDRESS, 623, RMCP_PING)]
    end = time.monotonic() + wait
    with netns.enter(ns):
        while wanted and time.monotonic() < end:
            address, port, payload = wanted[0]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(payload, (address, port))
                    s.recv(2048)
                    wanted.pop(0)
                except OSError:
                    time.sleep(0.05)
    if wanted:
        raise RuntimeError(f"admin plane: no answer from {[f'{a}:{p}/udp' for a, p, _ in wanted]}; see {paths.logs}")
