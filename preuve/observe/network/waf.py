"""A web application firewall in front of a public endpoint (13.2.d), shown by what it does to a harmless attack.

Requests (GET only, from the scanner): the declared URL as is (the control: the endpoint must answer it), then
the same URL with each probe of the profile's `network.waf_probes` as the value of the query parameter
`network.waf_parameter`. The probes are inert strings (an XSS, a SQL injection and a path traversal pattern in
several spellings: lower case, mixed case, double URL encoding) that only a filter looks at: the page ignores the
parameter. Each answer's status, size and server headers are recorded (the WAF's presence in the path: its block
status, a Server or X- header, a body that differs from the control's), never more than 512 bytes of body.
"""

from __future__ import annotations

import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

HEADERS_KEPT = ("server", "via", "x-cache", "x-waf", "x-sucuri-id", "x-request-id", "cf-ray", "x-iinfo", "x-cdn")


def with_probe(url: str, parameter: str, probe: str) -> str:
    """The URL with `parameter=<probe, percent-encoded once>` added to its query."""
    u = urlsplit(url)
    extra = f"{quote(parameter, safe='')}={quote(probe, safe='')}"
    return urlunsplit((u.scheme, u.netloc, u.path or "/", f"{u.query}&{extra}" if u.query else extra, ""))


def _get(url: str, ca_file: str | None, timeout: float) -> dict[str, Any]:
    import http.client

    u = urlsplit(url)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca_file)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            u.hostname or "", u.port or 443, timeout=timeout, context=ctx
        )
    else:
        conn = http.client.HTTPConnection(u.hostname or "", u.port or 80, timeout=timeout)
    t0 = time.perf_counter()
    try:
        conn.request("GET", path, headers={"User-Agent": "preuve-waf-probe", "Accept": "*/*"})
        resp = conn.getresponse()
        body = resp.read(65536)
        headers = {k.lower(): v[:120] for k, v in resp.getheaders() if k.lower() in HEADERS_KEPT}
        return {
            "status": resp.status,
            "bytes": len(body),
            "headers": headers,
            "body_start": body[:512].decode("utf-8", "replace"),
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
    finally:
        conn.close()


def collect(url: str, ca_file: str | None, parameter: str, probes: list[str], timeout: float) -> dict[str, Any]:
    """The control answer, then one answer per probe (an unreachable endpoint is an ObservationError)."""
    try:
        control = _get(url, ca_file, timeout)
    except (OSError, ssl.SSLError) as exc:
        raise ObservationError(f"{url}: {type(exc).__name__}: {exc}") from None
    answers = []
    for probe in probes:
        sent = with_probe(url, parameter, probe)
        try:
            answers.append({"probe": probe, "url": sent} | _get(sent, ca_file, timeout))
        except (OSError, ssl.SSLError) as exc:  # a WAF that drops the connection blocks too: recorded as such
            answers.append({"probe": probe, "url": sent, "status": None, "error": f"{type(exc).__name__}: {exc}"})
    return {"control": control, "answers": answers}


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.profile_params import current

    spec, net = target.spec, current().network
    probes = list(net.waf_probes)
    query = {
        "url": spec.url,
        "ca_file": spec.ca_file,
        "parameter": net.waf_parameter,
        "probes": probes,
        "method": "GET",
    }
    found = collect(spec.url, spec.ca_file, net.waf_parameter, probes, timeout)
    return query, found, {"requests": 1 + len(probes)}, f"preuve {__version__} (http.client)"


COLLECTOR = Collector(
    "waf",
    _collect,
    limit=8,
    fixtures=(
        Fixture(
            "waf",
            "waf_endpoint",
            doc="a public endpoint's answers to a plain request and to harmless attack patterns (WAF in the path)",
        ),
    ),
)
