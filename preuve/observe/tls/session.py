"""Full handshakes, for what only a finished handshake shows: client-initiated renegotiation, the chain and
OCSP staple of a TLS-1.3-only server (encrypted there), and the HTTP response carrying HSTS.

nassl (sslyze's OpenSSL bindings, a dependency already) rather than the stdlib ``ssl``: Python 3.11 cannot
return the presented chain, request an OCSP staple or renegotiate, and Debian's OpenSSL refuses the legacy
versions a weak server may be limited to. Blocking calls: the prober runs them in worker threads, each
holding one of the endpoint's connection slots. nassl is imported here only, lazily."""

from __future__ import annotations

import socket
import ssl
from typing import Any

HTTP_MAX_REDIRECTS = 3
_HTTP_MAX_BYTES = 65536


def _client(sock: socket.socket, version: str, server_name: str | None, legacy: bool = False) -> Any:
    from nassl.legacy_ssl_client import LegacySslClient
    from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum, SslClient

    enum = {
        "SSLv3": OpenSslVersionEnum.SSLV3,
        "TLSv1.0": OpenSslVersionEnum.TLSV1,
        "TLSv1.1": OpenSslVersionEnum.TLSV1_1,
        "TLSv1.2": OpenSslVersionEnum.TLSV1_2,
        "TLSv1.3": OpenSslVersionEnum.TLSV1_3,
    }[version]
    cls = LegacySslClient if legacy or version == "SSLv3" else SslClient
    client = cls(ssl_version=enum, underlying_socket=sock, ssl_verify=OpenSslVerifyEnum.NONE)
    if version != "TLSv1.3":
        client.set_cipher_list("ALL:COMPLEMENTOFALL")
    if server_name:
        client.set_tlsext_host_name(server_name)
    return client


def full_session(
    ip: str, port: int, version: str, server_name: str | None, timeout: float, http: tuple[str, str] | None
) -> dict:
    """One handshake at ``version``: chain and OCSP staple as presented, then the HTTP GET if ``http``
    (path, Host header). Never raises: failures are returned as {"error": ...}."""
    from nassl.ssl_client import ClientCertificateRequested

    out: dict[str, Any] = {"version": version}
    try:
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            client = _client(sock, version, server_name)
            client.set_tlsext_status_ocsp()
            try:
                client.do_handshake()
            except ClientCertificateRequested:
                out["client_certificate_requested"] = True
                return out
            out["chain_der"] = [ssl.PEM_cert_to_DER_cert(pem) for pem in client.get_received_chain()]
            out["ocsp_stapled"] = client.get_tlsext_status_ocsp_resp() is not None
            if http:
                out["http"] = _http_get(client, *http)
            client.shutdown()
    except Exception as exc:  # reported as an error of this side request, never a silent pass
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def _http_get(client: Any, path: str, host: str) -> dict:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: preuve (TLS observer)\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode()
    client.write(request)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HTTP_MAX_BYTES:
        try:
            chunk = client.read(4096)
        except Exception:  # closed without close_notify: keep what came
            break
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
    lines = head.split("\r\n")
    status_parts = lines[0].split(" ", 2) if lines else []
    status = int(status_parts[1]) if len(status_parts) > 1 and status_parts[1].isdigit() else None
    headers = [(k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)]
    return {
        "path": path,
        "status": status,
        "strict_transport_security": [v for k, v in headers if k == "strict-transport-security"],
        "location": next((v for k, v in headers if k == "location"), None),
    }


def renegotiation(
    ip: str, port: int, version: str, server_name: str | None, timeout: float, secure: bool = False
) -> dict:
    """Handshake at ``version`` (<= TLS 1.2), then one client-initiated renegotiation. Accepted = the
    renegotiation completed. Refusals come as alerts, resets, or silence (Netty): all mean refused.

    ``secure``: the probes saw the server offer RFC 5746 secure renegotiation at ``version``. At TLS 1.2 the
    current OpenSSL then tries it (0.5 ms of CPU against 1.8 ms with the legacy one on an ECDSA server: no X25519
    there, slower curves); the legacy OpenSSL otherwise, the only one that still renegotiates insecurely, and
    whenever the current one cannot complete the first handshake."""
    if secure and version == "TLSv1.2":
        out = _renegotiate(ip, port, version, server_name, timeout, legacy=False)
        if "error" not in out:
            return out
    return _renegotiate(ip, port, version, server_name, timeout, legacy=True)


def _renegotiate(ip: str, port: int, version: str, server_name: str | None, timeout: float, legacy: bool) -> dict:
    out: dict[str, Any] = {"version": version}
    try:
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            client = _client(sock, version, server_name, legacy=legacy)
            client.do_handshake()
            ssl_object = client._ssl  # nassl's own object: what LegacySslClient.do_renegotiate calls, on either
            out["secure_renegotiation"] = bool(ssl_object.get_secure_renegotiation_support())
            try:
                ssl_object.renegotiate()
                client.do_handshake()
                out["accepted"] = True
            except (OSError, Exception) as exc:
                out["accepted"] = False
                out["refusal"] = f"{type(exc).__name__}: {exc}"[:200]
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def host_header(server_name: str, port: int) -> str:
    name = f"[{server_name}]" if ":" in server_name else server_name
    return name if port == 443 else f"{name}:{port}"


def same_origin_redirect(hop: dict, server_name: str, port: int) -> str | None:
    """The path to follow when a response redirects within the same origin (HSTS may sit there)."""
    from urllib.parse import urlsplit

    if hop.get("status") is None or not 300 <= hop["status"] < 400 or not hop.get("location"):
        return None
    url = urlsplit(hop["location"])
    if not url.netloc:
        return url.path or "/"
    if (url.hostname or "").lower() != server_name.lower() or (url.port or 443) != port:
        return None
    return (url.path or "/") + (f"?{url.query}" if url.query else "")
