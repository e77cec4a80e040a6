"""The two nginx TLS endpoints: configs (hardened vs legacy) and how they start.

tls-weak needs TLS 1.0/1.1, static RSA and an RSA-1024/SHA-1 certificate:
OpenSSL 3 only allows those at security level 0, hence ``@SECLEVEL=0`` in
its ``ssl_ciphers`` (a client must ask for it too). The page is a ``return``
so workers read no file.
"""

from __future__ import annotations

import subprocess

from . import netns
from .paths import LabPaths
from .pki import TlsMaterial, dhparam_path
from .topology import SERVICES

NGINX = "/usr/sbin/nginx"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

GOOD_TLS = """\
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_prefer_server_ciphers on;
        ssl_session_tickets off;
        add_header Strict-Transport-Security "max-age=63072000" always;
"""

WEAK_TLS = """\
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers 'AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:@SECLEVEL=0';
        ssl_dhparam {dhparam};
        ssl_prefer_server_ciphers off;
"""


def _service(profile: str) -> str:
    return f"tls-{profile}"


def render_config(paths: LabPaths, profile: str, tls: TlsMaterial) -> str:
    """nginx.conf text for ``profile`` (``good`` or ``weak``)."""
    name = _service(profile)
    svc = SERVICES[name]
    tmp = paths.nginx / "tmp" / profile
    temp_paths = "\n".join(f"    {d}_temp_path {tmp / d};" for d in TEMP_DIRS)
    tls_block = GOOD_TLS if profile == "good" else WEAK_TLS.format(dhparam=dhparam_path(paths))
    return f"""# preuve lab: {name} (generated, do not edit)
worker_processes 1;
pid {paths.pid_file(name)};
error_log {paths.log(name + ".error")} info;
events {{ worker_connections 128; }}
http {{
    access_log {paths.log(name + ".access")};
{temp_paths}
    server_tokens off;
    default_type text/html;
    server {{
        listen {svc.address}:{svc.port} ssl;
        server_name {name}.lab;
        ssl_certificate {tls.chain};
        ssl_certificate_key {tls.key};
{tls_block}
        location / {{
            return 200 "<!doctype html><title>{name}</title><p>preuve lab: {name}</p>\\n";
        }}
    }}
}}
"""


ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def write_configs(paths: LabPaths, tls: dict[str, TlsMaterial]) -> None:
    """Write both configs (errors surface when nginx starts: it checks before forking)."""
    paths.nginx.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    for profile in ("good", "weak"):
        (paths.nginx / "tmp" / profile).mkdir(parents=True, exist_ok=True)
        cfg = paths.nginx_config(profile)
        cfg.write_text(render_config(paths, profile, tls[_service(profile)]))


def start(paths: LabPaths, profile: str) -> None:
    """Start nginx for ``profile`` in its zone namespace (daemonizes itself).

    nginx binds before forking, so a zero exit status means it listens.
    """
    name = _service(profile)
    svc = SERVICES[name]
    paths.run.mkdir(parents=True, exist_ok=True)
    argv = [NGINX, "-c", str(paths.nginx_config(profile)), "-e", str(paths.log(name + ".error"))]
    proc = netns.run_in(svc.ns, argv, stdin=subprocess.DEVNULL, env=ENV)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed to start: {proc.stderr.strip()}")
