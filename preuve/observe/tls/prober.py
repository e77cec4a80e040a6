"""The TLS prober: the facts the checks judge, from as few handshakes as the question needs.

Per endpoint (everything bounded by ``timeout`` per connection and read, at most ``CONNECTIONS_PER_ENDPOINT``
sockets open at once):

1. preflight: one ClientHello offering every version (1.0 to 1.3) and every suite. Refused, silent, or
   non-TLS endpoints end here with an ObservationError; the answer names the server's highest version;
2. per version, concurrently: suite enumeration by elimination. Offer every candidate suite, remove the one
   the server picks, repeat until it refuses; n accepted suites cost n + 1 handshakes. The first answer is
   the version probe. The order of picks is the server's preference when it enforces one (one more
   handshake, offering the accepted suites reversed, tells). SSLv2: one CLIENT-HELLO (the server lists
   every spec it accepts in its SERVER-HELLO);
3. concurrently with 2: the curves, by elimination at the highest version (TLS 1.3: empty key share, the
   HelloRetryRequest names the group; TLS <= 1.2: ECDHE suites only, the ServerKeyExchange names the curve);
   fallback SCSV; and the full handshakes of :mod:`.session` (renegotiation, HTTP for HSTS, the chain of a
   TLS-1.3-only server).

What the unencrypted first flight of each handshake shows is read from it: DH prime size and curve
(ServerKeyExchange), chain as presented and OCSP staple (TLS <= 1.2), compression, extended master
secret and secure renegotiation (ServerHello extensions of the highest version <= TLS 1.2).

The probes run on :mod:`.reactor` (one epoll loop per process and network namespace, not asyncio: see there
why); the plan below is written as coroutines awaiting its requests.
"""

from __future__ import annotations

import functools
import itertools
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.tls import facts as F
from preuve.observe.tls import handshaker, reactor
from preuve.observe.tls import hello as H
from preuve.observe.tls.handshaker import Handshake
from preuve.observe.tls.reactor import Blocking, ConnectFailed, Exchange, ReadTimeout, Slots, gather
from preuve.observe.tls.suites import LEGACY, SSL2, TLS13

VERSIONS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# Sockets one endpoint may hold at once (a modest load for a web server or a WAF); across endpoints the run's
# concurrency limit multiplies it: open descriptors never exceed limit x this.
CONNECTIONS_PER_ENDPOINT = 6
# Every suite of a version is offered at once; elimination never exceeds the candidates' count anyway.
_ECDHE_SUITES = [c for c, n in LEGACY.items() if "_ECDHE_" in n]
_ALERT_NAMES = {
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    47: "illegal_parameter",
    50: "decode_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    112: "unrecognized_name",
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    sni: str | None
    http_path: str | None
    timeout: float

    @property
    def key(self) -> tuple[str, int, str | None]:
        return (self.host, self.port, self.sni)

    @property
    def server_name(self) -> str:
        """Sent as SNI and matched against the certificate (an IP literal when no name is known)."""
        return self.sni or self.host

    @functools.cached_property
    def sni_sent(self) -> str | None:
        """The name sent as SNI (none for an IP literal); read by every hello, so computed once."""
        return None if F.is_ip(self.server_name) else self.server_name

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"TLS {host}:{self.port}"


@dataclass
class _Probe:
    ep: Endpoint
    ip: str
    slots: Slots
    log: list[dict] = field(default_factory=list)

    async def exchange(self, what: str, hello: bytes, *, want_flight: bool = True) -> H.Flight:
        """Send one ClientHello, read the server's first flight, hang up."""
        started = time.perf_counter()
        parser = H.FlightParser(want_flight)
        flight = parser.flight

        def sink(data: bytes | None) -> bool:
            if data is None:
                flight.closed = "reset"
                return True
            if not data:
                flight.closed = "eof"
                return True
            parser.feed(data)
            return parser.done

        ep = self.ep
        try:
            await Exchange((self.ip, ep.port), hello, sink, ep.timeout, self.slots)
        except ConnectFailed as exc:
            raise self._unreachable(exc) from None
        except ReadTimeout:
            raise ObservationError(
                f"{ep.label}: no TLS answer within {ep.timeout:g}s (TCP accepted, server silent)"
            ) from None
        if flight.malformed:
            raise ObservationError(f"{ep.label}: malformed TLS answer (a handshake message that does not parse)")
        self.log.append(
            {
                "probe": what,
                "answer": flight.answer(),
                **_summary(flight),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
        return flight

    def _unreachable(self, exc: ConnectFailed) -> ObservationError:
        ep = self.ep
        if exc.reason == "timeout":
            return ObservationError(f"{ep.label} unreachable: connection timed out after {ep.timeout:g}s")
        if exc.reason == "refused":
            return ObservationError(f"{ep.label} unreachable: connection refused")
        return ObservationError(f"{ep.label} unreachable: {exc.reason}")

    async def raw(self, what: str, payload: bytes) -> bytes:
        """Send bytes, return the first answer (SSLv2)."""
        started = time.perf_counter()
        chunks: list[bytes] = []

        def sink(data: bytes | None) -> bool:
            if data:
                chunks.append(data)
            return True

        try:
            await Exchange((self.ip, self.ep.port), payload, sink, self.ep.timeout, self.slots)
        except ConnectFailed as exc:
            raise self._unreachable(exc) from None
        except ReadTimeout:
            pass  # silence to an SSLv2 hello: not SSLv2
        data = b"".join(chunks)
        self.log.append(
            {
                "probe": what,
                "answer": data[:8].hex() or "closed",
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
        return data

    async def certificate(self, chain_der: list[bytes], ocsp: bool | None) -> dict:
        """:func:`.chain.certificate` of the presented chain: in the handshake helper when there is one (no
        connection held), else here."""
        try:
            out: dict = await Handshake("certificate", chain_der, self.ep.server_name, ocsp, slots=None)
        except ObservationError as exc:  # judged here
            raise ObservationError(f"{self.ep.label}: {exc}") from None
        failed = _failed_there(out)
        if failed is not None:
            raise ObservationError(f"{self.ep.label}: its certificate chain could not be judged: {failed}")
        return out

    async def handshake(self, name: str, *args: Any) -> dict:
        """A full handshake of :mod:`.session` (``name``), in the handshake helper process when there is one."""
        return await Handshake(name, *args, slots=self.slots)


def _summary(f: H.Flight) -> dict:
    out: dict[str, Any] = {}
    if f.hello:
        out["version"] = H.VERSION_NAMES.get(f.version or 0, f"0x{f.version:04x}")
        out["suite"] = _suite_name(f.suite)
        if f.hello_retry or f.version == H.TLS13:
            group = f.group()
            out["group"] = H.GROUPS.get(group) or H.FFDHE.get(group) if group is not None else None
        elif f.key_exchange is not None:
            out["ske"] = _ske_summary(f)
    elif f.alert:
        out["alert"] = _ALERT_NAMES.get(f.alert[1], str(f.alert[1]))
    return out


def _ske_summary(f: H.Flight) -> str | None:
    key = _ephemeral(f)
    return f"{key['type']} {key['curve'] or key['size']}" if key else None


def _suite_name(code: int | None) -> str:
    if code is None:
        return "none"
    return LEGACY.get(code) or TLS13.get(code) or f"0x{code:04X}"


def _ephemeral(f: H.Flight) -> dict | None:
    """The ephemeral key of an accepted handshake, sized like OpenSSL does."""
    if f.version == H.TLS13 or f.hello_retry:
        group = f.group()
        return H.group_key(group) if group is not None else None
    if f.key_exchange is None:
        return None
    name = _suite_name(f.suite)
    if "_ECDHE_" in name or "_ECDH_anon_" in name:
        group = H.ske_group(f.key_exchange)
        return H.group_key(group) if group is not None else None
    if "_DHE_" in name or "_DH_anon_" in name:
        bits = H.ske_dh_bits(f.key_exchange)
        return {"type": "DH", "size": bits, "curve": None} if bits else None
    return None


# --- the plan -----------------------------------------------------------------------------------


def _hello(ep: Endpoint, version: str, suites: list[int], **kw: Any) -> bytes:
    """TLS 1.3 hellos carry an empty key share: the server answers with a HelloRetryRequest naming its suite and
    group, without computing a key exchange or signing anything (a cheap probe for the server, too)."""
    if version == "TLSv1.3":
        kw.setdefault("key_share", False)
        return H.client_hello(H.TLS12, suites, server_name=ep.sni_sent, supported_versions=(H.TLS13,), **kw)
    return H.client_hello(H.VERSION_CODES[version], suites, server_name=ep.sni_sent, **kw)


async def _preflight(p: _Probe) -> H.Flight:
    hello = H.client_hello(
        H.TLS12,
        [*TLS13, *LEGACY],
        server_name=p.ep.sni_sent,
        key_share=False,
        supported_versions=(H.TLS13, H.TLS12, H.TLS11, H.TLS10),
    )
    flight = await p.exchange("preflight (TLS 1.0 to 1.3, every suite)", hello)
    if flight.not_tls is not None:
        raise ObservationError(f"{p.ep.label}: the server does not speak TLS (non-TLS answer to a ClientHello)")
    return flight


# A hang-up without an alert proves nothing (some stacks and middleboxes reset ClientHellos past a size): the
# candidates are then offered in chunks of this many suites, as nmap does.
CHUNK = 64


async def _enumerate(p: _Probe, version: str) -> dict:
    """Accepted suites of ``version`` in the order the server picked them, each with its handshake."""
    candidates = list(TLS13 if version == "TLSv1.3" else LEGACY)
    code = H.TLS13 if version == "TLSv1.3" else H.VERSION_CODES[version]
    picks: list[H.Flight] = []
    last = await _eliminate(p, version, code, candidates, picks)
    chunked = not picks and last.closed is not None and len(candidates) > CHUNK
    if chunked:
        for i in range(0, len(candidates), CHUNK):
            last = await _eliminate(p, version, code, candidates[i : i + CHUNK], picks)
    out: dict[str, Any] = {"picks": picks, "end": last, "chunked": chunked}
    if len(picks) > 1 and not chunked:  # does the server impose its order? offer its picks reversed
        reversed_codes = [f.suite for f in reversed(picks)]
        check = await p.exchange(f"{version} preference", _hello(p.ep, version, reversed_codes))
        out["server_order"] = bool(check.hello and check.suite == picks[0].suite)
    elif picks:
        out["server_order"] = None  # one suite, or picks across chunks (no order to compare)
    return out


async def _eliminate(p: _Probe, version: str, code: int, offered: list[int], picks: list[H.Flight]) -> H.Flight:
    """Offer ``offered``, remove what the server picks, repeat until it refuses; the picks go to ``picks``."""
    offered = list(offered)
    last = H.Flight()
    while offered:
        last = await p.exchange(f"{version} suites, {len(offered)} offered", _hello(p.ep, version, offered))
        if last.hello and last.version == code and last.suite not in offered:
            raise ObservationError(
                f"{p.ep.label}: the server chose {_suite_name(last.suite)} at {version}, which "
                "was not offered (a broken TLS stack: its suites cannot be enumerated)"
            )
        if not last.hello or last.version != code:
            break
        picks.append(last)
        offered.remove(last.suite)
    return last


async def _ssl2(p: _Probe) -> list[str]:
    answer = await p.raw("SSLv2 CLIENT-HELLO", H.ssl2_client_hello(list(SSL2)))
    specs = H.parse_ssl2_server_hello(answer) or []
    return sorted(SSL2[s] for s in specs if s in SSL2)


async def _groups(p: _Probe, highest: str, ecdsa: bool) -> dict:
    """Curves at the highest version (as sslyze: tested there only).

    By elimination: offer every remaining curve (TLS 1.3: with an empty key share, the HelloRetryRequest names
    the one the server wants; TLS <= 1.2: with the ECDHE suites, the ServerKeyExchange names it), remove it,
    repeat. Except at TLS <= 1.2 with an ECDSA certificate: its curve must be among the client's (RFC 8422
    5.1), so once it is eliminated the server refuses everything and the curves it ranks lower would be
    missed; there, one probe per curve offered alone (a curve other than the certificate's is then refused,
    exactly as sslyze reports it)."""
    supported: list[str] = []
    if highest == "TLSv1.3" or not ecdsa:
        remaining = list(H.GROUPS)
        tls13 = highest == "TLSv1.3"
        while remaining:
            hello = (
                _hello(p.ep, highest, list(TLS13), groups=remaining, key_share=False)
                if tls13
                else _hello(p.ep, highest, _ECDHE_SUITES, groups=remaining)
            )
            flight = await p.exchange(f"{highest} groups, {len(remaining)} offered", hello)
            group = flight.group() if tls13 else (H.ske_group(flight.key_exchange) if flight.key_exchange else None)
            if not flight.hello or group not in remaining:
                break
            supported.append(H.GROUPS[group])
            remaining.remove(group)
    else:

        async def alone(group: int) -> bool:
            flight = await p.exchange(
                f"{highest} group {H.GROUPS[group]}", _hello(p.ep, highest, _ECDHE_SUITES, groups=[group])
            )
            return bool(flight.hello and flight.key_exchange and H.ske_group(flight.key_exchange) == group)

        accepted = await gather(*(alone(g) for g in H.GROUPS))
        supported = [H.GROUPS[g] for g, ok in zip(H.GROUPS, accepted, strict=True) if ok]
    return {
        "supported": sorted(supported),
        "rejected": sorted(set(H.GROUPS.values()) - set(supported)),
        "ecdh_supported": bool(supported),
        "preference": None if ecdsa and highest != "TLSv1.3" else supported,
    }


def _ecdsa(flight: H.Flight) -> bool:
    """Does the (TLS <= 1.2) flight present an EC certificate? Its suite says: up to TLS 1.2 the certificate sent
    must suit the suite's authentication (RFC 5246 7.4.2, RFC 8422 5.3), an EC key for ECDSA and fixed-ECDH
    suites, an RSA or DSA key for the RSA and DSS ones. Anything else (no certificate, another suite) counts as
    yes: the safe, slower path."""
    name = LEGACY.get(flight.suite) if flight.certificates and flight.suite is not None else None
    if name is None or "_ECDSA_" in name or name.startswith("TLS_ECDH_"):
        return True
    return not ("_RSA_" in name or "_DSS_" in name)


async def _fallback(p: _Probe, accepted: list[str]) -> bool | None:
    """TLS_FALLBACK_SCSV (RFC 7507) at the second-highest accepted version; True when nothing lower exists."""
    lower = [v for v in accepted if v not in ("SSLv2",)]
    if len(lower) < 2:
        return True
    version = lower[-2]
    flight = await p.exchange(
        f"{version} with TLS_FALLBACK_SCSV",
        _hello(p.ep, version, list(TLS13 if version == "TLSv1.3" else LEGACY), fallback_scsv=True),
        want_flight=False,
    )
    if flight.alert and flight.alert[1] == H.ALERT_INAPPROPRIATE_FALLBACK:
        return True
    return False if flight.hello else None


# --- one endpoint -----------------------------------------------------------------------------


async def observe(ep: Endpoint, ip: str, connections: int = CONNECTIONS_PER_ENDPOINT) -> tuple[dict, dict]:
    p = _Probe(ep, ip, Slots(connections))
    started = time.perf_counter()
    preflight = await _preflight(p)
    legacy_versions = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    highest = H.VERSION_NAMES.get(preflight.version or 0) if preflight.hello else None
    groups_probe = [_groups(p, highest, _ecdsa(preflight))] if highest else []
    outcomes = await gather(*(_enumerate(p, v) for v in legacy_versions), _ssl2(p), *groups_probe)
    results = dict(zip(legacy_versions, outcomes[:5], strict=True))
    ssl2_specs = outcomes[5]
    groups = outcomes[6] if groups_probe else None
    versions = {"SSLv2": bool(ssl2_specs), **{v: bool(results[v]["picks"]) for v in legacy_versions}}
    accepted = [v for v in VERSIONS if versions[v]]
    facts = empty_facts(ep)
    facts["versions"] = versions
    raw: dict[str, Any] = {
        "target": {"host": ep.host, "port": ep.port, "ip": ip, "server_name": ep.server_name, "timeout": ep.timeout},
        "preflight": preflight.answer(),
    }
    if not accepted:
        if not preflight.hello and not preflight.alert:
            raise ObservationError(f"{ep.label}: TLS handshake impossible (connection closed by the server)")
        raw.update(handshakes=len(p.log), probes=p.log)
        return facts, raw
    if groups is None:  # preflight failed but some version answered (e.g. SSLv3 only): probe there
        below = [v for v in accepted if v != "SSLv2"]
        groups = await _groups(p, below[-1], _ecdsa(results[below[-1]]["picks"][0])) if below else None

    # side requests: fallback, renegotiation, HTTP and (TLS 1.3 only) the chain, concurrently
    below13 = [v for v in accepted if v not in ("SSLv2", "TLSv1.3")]
    side: dict[str, Any] = {"fallback": _fallback(p, accepted)}
    if below13:
        hello = results[below13[-1]]["picks"][0]
        secure = H.EXT_RENEGOTIATION_INFO in hello.extensions  # RFC 5746, as the probes saw it
        side["renegotiation"] = p.handshake("renegotiation", ip, ep.port, below13[-1], ep.sni_sent, ep.timeout, secure)
    session_version = accepted[-1] if accepted[-1] != "SSLv2" else None
    if session_version and (ep.http_path is not None or not below13):
        side["session"] = _http_session(p, session_version)
    done = dict(zip(side, await gather(*side.values()), strict=True))

    facts["cipher_suites"], facts["suite_details"], facts["preference"] = _suites(results, ssl2_specs)
    facts["groups"] = {k: v for k, v in groups.items() if k != "preference"} if groups else None
    if groups and groups["preference"] is not None:
        facts["groups_preference"] = groups["preference"]
    hello12 = results[below13[-1]]["picks"][0] if below13 else None
    chain_der = _chain_from_flights(results, below13) or done.get("session", {}).get("chain_der") or []
    ocsp = _ocsp(results, below13, done.get("session"))
    facts["certificate"] = await p.certificate(chain_der, ocsp) if chain_der else None
    facts["compression"] = bool(hello12.compression) if hello12 else False
    facts["extended_master_secret"] = (H.EXT_EMS in hello12.extensions) if hello12 else True
    facts["renegotiation"] = _renegotiation(hello12, done.get("renegotiation"))
    facts["fallback_scsv"] = done["fallback"]
    facts["client_auth"] = (
        "REQUESTED" if any(f.certificate_request for v in below13 for f in results[v]["picks"]) else "DISABLED"
    )
    session_out = done.get("session")
    if ep.http_path is not None:
        facts["hsts"] = _hsts(session_out)
    errors = {k: v["error"] for k, v in done.items() if isinstance(v, dict) and v.get("error")}
    if session_out and session_out.get("error"):
        errors["session"] = session_out["error"]
    facts["errors"] = dict(sorted(errors.items()))
    raw.update(
        elapsed_s=round(time.perf_counter() - started, 4),
        handshakes=len(p.log),
        probes=p.log,
        chain_pem=[_pem(d) for d in chain_der],
        side_requests={k: _side_raw(v) for k, v in done.items()},
    )
    return facts, raw


async def _http_session(p: _Probe, version: str) -> dict:
    """GET http_path (following same-origin redirects), each over a full handshake; the first one also
    brings the chain and OCSP staple."""
    from preuve.observe.tls import session

    ep = p.ep
    host = session.host_header(ep.server_name, ep.port)
    path = ep.http_path
    first: dict[str, Any] | None = None
    hops: list[dict] = []
    while True:
        http = (path, host) if path is not None else None
        out = await p.handshake("full_session", p.ip, ep.port, version, ep.sni_sent, ep.timeout, http)
        first = first or out
        if "http" not in out:
            if out.get("error") and first is not out:
                first.setdefault("error", out["error"])
            break
        hops.append(out["http"])
        path = session.same_origin_redirect(out["http"], ep.server_name, ep.port)
        if path is None or len(hops) > session.HTTP_MAX_REDIRECTS:
            break
    if hops:
        first["hops"] = hops
    return first


def _suites(results: dict, ssl2_specs: list[str]) -> tuple[dict, dict, dict]:
    suites: dict[str, list[str]] = {}
    details: dict[str, dict] = {}
    preference: dict[str, dict] = {}
    if ssl2_specs:
        suites["SSLv2"] = ssl2_specs
        for name in ssl2_specs:
            details[name] = _detail(name)
    for version, result in results.items():
        picks = result["picks"]
        if not picks:
            continue
        names = [_suite_name(f.suite) for f in picks]
        suites[version] = sorted(names)
        preference[version] = {"order": names, "server_order": result.get("server_order")}
        for name, flight in zip(names, picks, strict=True):
            detail = details.setdefault(name, _detail(name))
            key = _ephemeral(flight)
            if key and (detail["ephemeral_key"] is None or key["size"] < detail["ephemeral_key"]["size"]):
                detail["ephemeral_key"] = key  # the weakest key seen across versions
            if version == "TLSv1.3" and key:
                detail["key_exchange"] = "ECDHE" if key["type"] == "ECDH" else "DHE"
    return suites, dict(sorted(details.items())), preference


def _detail(name: str) -> dict:
    parsed = F.parse_suite_name(name)
    return {**parsed, "key_size": F.suite_key_size(parsed["encryption"]), "ephemeral_key": None}


def _chain_from_flights(results: dict, below13: list[str]) -> list[bytes]:
    for version in reversed(below13):
        for flight in results[version]["picks"]:
            if flight.certificates:
                return flight.certificates
    return []


def _ocsp(results: dict, below13: list[str], session_out: dict | None) -> bool | None:
    if below13:
        return any(f.ocsp_response for f in results[below13[-1]]["picks"])
    return session_out.get("ocsp_stapled") if session_out else None


def _renegotiation(hello12: H.Flight | None, reneg: dict | None) -> dict:
    """TLS 1.3 has no renegotiation (RFC 8446): a TLS-1.3-only server is secure and refuses it."""
    if hello12 is None:
        return {"secure": True, "client_initiated_accepted": False, "client_initiated_successes": 0}
    accepted = bool(reneg and reneg.get("accepted"))
    return {
        "secure": H.EXT_RENEGOTIATION_INFO in hello12.extensions,
        "client_initiated_accepted": accepted,
        "client_initiated_successes": int(accepted),
    }


def _hsts(session_out: dict | None) -> dict | None:
    """HSTS from the first response carrying it (a UA honours it on any HTTPS response)."""
    hops = (session_out or {}).get("hops")
    if not hops:
        return None
    carrying = next((h for h in hops if h["strict_transport_security"]), None)
    header = carrying["strict_transport_security"][0] if carrying else None
    return {**F.parse_hsts(header), "header": header, "http_status": hops[0]["status"], "path": hops[0]["path"]}


def _pem(der: bytes) -> str:
    import base64

    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _side_raw(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "chain_der"}
    return value


def empty_facts(ep: Endpoint) -> dict:
    return {
        "host": ep.host,
        "port": ep.port,
        "sni": ep.sni,
        "server_name": ep.server_name,
        "versions": dict.fromkeys(VERSIONS, False),
        "cipher_suites": {},
        "suite_details": {},
        "preference": {},
        "groups": None,
        "certificate": None,
        "additional_certificates": [],
        "renegotiation": None,
        "compression": None,
        "extended_master_secret": None,
        "fallback_scsv": None,
        "hsts": None,
        "client_auth": None,
        "errors": {},
    }


# --- many endpoints ---------------------------------------------------------------------------


async def _resolve(ep: Endpoint) -> str:
    if F.is_ip(ep.host):
        return ep.host
    try:
        infos = await Blocking(socket.getaddrinfo, ep.host, ep.port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ObservationError(f"{ep.label} unreachable: cannot resolve {ep.host}") from None
    return str(infos[0][4][0])


async def observe_many(endpoints: list[Endpoint], concurrency: int) -> dict:
    """Every endpoint concurrently, at most ``concurrency`` at a time; errors returned per endpoint."""

    async def one(ep: Endpoint) -> tuple[dict, dict] | ObservationError:
        try:
            return await observe(ep, await _resolve(ep))
        except ObservationError as exc:
            return exc

    outcomes = await gather(*(one(ep) for ep in endpoints), limit=max(1, concurrency))
    return {ep.key: o for ep, o in zip(endpoints, outcomes, strict=True)}


def run(endpoints: list[Endpoint], concurrency: int) -> dict:
    """Observe ``endpoints`` on the reactor of the caller's network namespace (blocking)."""
    shared = prepare(len(endpoints))
    return shared.submit(observe_many(endpoints, concurrency)).result()


def prepare(planned: int) -> reactor.Reactor:
    """The reactor of the caller's network namespace, started, with its full-handshake helper process
    (:mod:`.handshaker`) when more than one endpoint is planned: one endpoint's two handshakes are done before the
    helper would be up. A run calls this ahead of its observations (the collector's prepare hook)."""
    shared = reactor.shared()
    if planned > 1:
        handshaker.start(shared)
    return shared


_SHARE = itertools.count()


def run_one(ep: Endpoint) -> tuple[dict, dict] | ObservationError:
    """Observe one endpoint (thread-safe, blocking): every other one in the handshake helper process when the
    caller's reactor has one (its reactor probes it there, beside this process's: the probes of a large run no
    longer all wait on this process's interpreter lock), the rest here."""
    shared = reactor.shared()
    if handshaker.running(shared) and next(_SHARE) % 2:
        out = shared.submit(_observed_there(ep)).result()
        failed = _failed_there(out)
        return out if failed is None else ObservationError(f"{ep.label}: {failed}")
    return run_here(ep)


def _failed_there(out: Any) -> str | None:
    """Why a request sent to the helper failed (an ObservationError raised there, or the helper's own failure, in
    the shape handshaker._serve and Helper._end answer with), None when ``out`` is its answer."""
    if not isinstance(out, dict):
        return None
    if "observation_error" in out:
        return str(out["observation_error"])
    return str(out["error"]) if set(out) == {"error"} else None


async def _observed_there(ep: Endpoint) -> Any:
    return await Handshake("run_here", ep, slots=None)


def run_here(ep: Endpoint) -> tuple[dict, dict] | ObservationError:
    """Observe one endpoint (thread-safe, blocking). The run's engine calls this from each of its workers: they
    all share one reactor, on its own thread, per network namespace of the caller (a thread is created in its
    creator's namespace; the run enters the lab's before starting its workers). The workers still bound how
    many endpoints are observed at once."""
    return run([ep], 1)[ep.key]
