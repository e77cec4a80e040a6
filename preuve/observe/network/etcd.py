"""What an etcd member accepts on its client and peer ports (13.2.b: the control plane's flows encrypted and
authenticated), judged on behaviour: the answers a client without credentials gets.

Per port, two read-only requests of `GET /version` (the path etcd serves on both listeners, no data):
- in clear (plain HTTP over TCP): an HTTP answer means the port accepts clear text;
- over TLS, offering NO client certificate: an HTTP answer means `--client-cert-auth` (or `--peer-client-cert-auth`)
  is off, whoever reaches the port talks to the cluster; a refusal records the TLS alert. The server's certificate
  is verified separately against the inventory's `ca_file` (recorded, never a reason to skip the probe).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

REQUEST = b"GET /version HTTP/1.1\r\nHost: %s\r\nUser-Agent: preuve\r\nConnection: close\r\n\r\n"


def _http_answer(data: bytes) -> str | None:
    first = data.split(b"\r\n", 1)[0].decode("latin-1", errors="replace")
    return first if first.startswith("HTTP/1.") else None


def clear(address: str, port: int, timeout: float) -> dict[str, Any]:
    try:
        with socket.create_connection((address, port), timeout=timeout) as s:
            s.sendall(REQUEST % address.encode())
            data = s.recv(256)
    except ConnectionRefusedError:
        return {"reachable": False, "answer": "connection refused"}
    except OSError as e:
        if isinstance(e, (TimeoutError, socket.timeout)):
            return {"reachable": False, "answer": "timeout"}
        return {"reachable": True, "answer": f"{type(e).__name__}: {e.strerror or e}"}
    status = _http_answer(data)
    return {
        "reachable": True,
        "answer": status or f"no HTTP answer ({len(data)} bytes)",
        "accepted": status is not None,
    }


def tls_without_certificate(address: str, port: int, timeout: float, ca_file: str | None) -> dict[str, Any]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the probe must reach the server's decision; verification is recorded apart
    out: dict[str, Any] = {}
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=address) as s,
        ):
            out["version"] = s.version()
            der = s.getpeercert(binary_form=True)
            s.sendall(REQUEST % address.encode())
            data = s.recv(256)
    except ssl.SSLError as e:
        return {**out, "handshake": bool(out), "accepted": False, "answer": f"refused: {e.reason or e}"}
    except (ConnectionResetError, BrokenPipeError) as e:
        return {**out, "accepted": False, "answer": f"refused: {type(e).__name__}"}
    except OSError as e:
        raise ObservationError(f"{address}:{port}: {type(e).__name__}: {e.strerror or e}") from None
    status = _http_answer(data)
    out.update(accepted=status is not None, answer=status or f"no HTTP answer ({len(data)} bytes)")
    out["certificate_verified"] = _verified(der, ca_file) if ca_file else None
    return out


def _verified(der: bytes | None, ca_file: str) -> bool:
    """Does the member's certificate chain to the inventory's CA (signature check only, no name)?"""
    if der is None:
        return False
    from cryptography import x509

    leaf = x509.load_der_x509_certificate(der)
    with open(ca_file, "rb") as f:
        cas = x509.load_pem_x509_certificates(f.read())
    for ca in cas:
        try:
            leaf.verify_directly_issued_by(ca)
            return True
        except Exception:  # InvalidSignature, a key type mismatch...: not issued by this CA
            continue
    return False


def probe(address: str, ports: dict[str, int], timeout: float, ca_file: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role, port in ports.items():
        c = clear(address, port, timeout)
        if not c["reachable"] and c["answer"] in ("connection refused", "timeout"):
            raise ObservationError(f"{address}:{port} ({role}): {c['answer']}: the member could not be probed")
        t = tls_without_certificate(address, port, timeout, ca_file)
        out[role] = {"port": port, "clear": c, "tls_without_client_certificate": t}
    return out


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    from preuve import __version__

    m = target.spec
    ports = {"client": m.client_port, "peer": m.peer_port}
    query = {
        "address": m.address,
        "ports": ports,
        "requests": "per port: GET /version in clear, then over TLS without a client certificate",
        "ca_file": m.ca_file,
    }
    return query, probe(m.address, ports, timeout, m.ca_file), {}, f"preuve {__version__} (python ssl)"


COLLECTOR = Collector(
    name="etcd_member",
    collect=collect,
    limit=8,
    fixtures=(
        Fixture(
            "etcd",
            "etcd_member",
            doc="etcd client and peer ports: answer in clear, answer over TLS without a client certificate",
        ),
    ),
)
