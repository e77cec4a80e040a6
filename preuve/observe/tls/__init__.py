"""TLS observation: what a server *accepts* in real handshakes, recorded as facts + raw probe log.

Observe once, judge many times: this package is the only TLS code that touches the network. The prober
(:mod:`.prober`) sends hand-built ClientHellos (:mod:`.hello`) and reads only the server's first flight;
:mod:`.session` completes the few handshakes that need a real TLS stack (nassl). sslyze is not used here:
it is the referee of the tests (tests/lab/test_tls_referee.py).

Facts (``None`` = could not be observed; see ``errors``)::

    host, port, sni                 as given
    server_name                     name sent as SNI and matched against the certificate (sni or host)
    versions                        {"SSLv2"|"SSLv3"|"TLSv1.0"|"TLSv1.1"|"TLSv1.2"|"TLSv1.3": bool}
    cipher_suites                   {version: sorted IANA names accepted}, accepted versions only
    preference                      {version: {order: [names in the order the server picked them],
                                     server_order: bool (the server imposes its order) | None (one suite)}}
    suite_details                   {IANA name: {key_exchange: ECDHE|DHE|RSA|ECDH|DH|PSK|SRP|KRB5|None,
                                     authentication, encryption, mac, aead, cbc, export, null_encryption,
                                     anonymous, forward_secrecy: bool, key_size: symmetric bits,
                                     ephemeral_key: {type: ECDH|DH, size, curve} | None}}
                                    TLS 1.3 suites: key_exchange from the negotiated group (ECDHE|DHE);
                                    ephemeral_key is the weakest seen across versions (sizes as OpenSSL:
                                    X25519 253 bits; DH: bits of the prime)
    groups                          {"supported", "rejected", "ecdh_supported"}: the 30 IANA curves,
                                    tested at the highest version only (FFDHE groups not tested);
                                    groups_preference: supported curves in the order the server picked
    certificate                     {hostname_matches, trusted_by_system, trusted_by: ["system"] | [],
                                     validation_error, ocsp_stapled, chain_in_order, chain: [...]}
                                    (chain as presented; see facts.certificate_facts)
    renegotiation                   {secure, client_initiated_accepted, client_initiated_successes}
    compression, extended_master_secret   bool, from the ServerHello of the highest version <= TLS 1.2
                                    (a TLS-1.3-only server: no compression, EMS True: 1.3 always binds)
    fallback_scsv                   bool (True also when no lower version exists to fall back to)
    hsts                            {header, max_age, include_subdomains, preload, http_status, path} |
                                    None (http_path None, or no valid HTTP answer)
    client_auth                     DISABLED | REQUESTED (a CertificateRequest in the first flight)
    errors                          {side request: reason} (empty normally)

Errors: unresolvable, refused, silent, non-TLS endpoints raise ObservationError; so does a server that stops
answering in the middle of an enumeration (a half-enumerated version would read as "not accepted"). A server
that speaks TLS but accepts no version is an observation (all versions False, other facts None).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome
from preuve.observe.tls.facts import (
    certificate_facts,
    hostname_matches,
    parse_hsts,
    parse_suite_name,
    system_ca_file,
)

if TYPE_CHECKING:
    from preuve.inputs.targets import Target
    from preuve.observe.tls.prober import VERSIONS

__all__ = [
    "COLLECTOR",
    "VERSIONS",
    "certificate_facts",
    "collect",
    "collect_many",
    "endpoint_key",
    "hostname_matches",
    "parse_hsts",
    "parse_suite_name",
    "system_ca_file",
]


def __getattr__(name: str) -> object:
    """VERSIONS from the prober, imported on first use: building the registry reads this package without loading
    the prober (its reactor, the hand-built ClientHellos)."""
    if name == "VERSIONS":
        from preuve.observe.tls.prober import VERSIONS

        return VERSIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Endpoints observed at once by collect_many (each holds at most prober.CONNECTIONS_PER_ENDPOINT sockets).
DEFAULT_CONCURRENCY = 16


def endpoint_key(host: str, port: int, sni: str | None = None) -> tuple[str, int, str | None]:
    """Key of an endpoint in :func:`collect_many`'s result."""
    return (host, int(port), sni)


def collect(
    host: str,
    port: int,
    *,
    sni: str | None = None,
    timeout: float = 5.0,
    http_path: str | None = "/",
) -> tuple[dict, dict]:
    """Return (facts, raw) for one TLS endpoint; raise ObservationError if it cannot be observed."""
    from preuve.observe.tls.prober import Endpoint, run_one

    ep = Endpoint(host, int(port), sni, http_path, float(timeout))
    outcome = run_one(ep)
    if isinstance(outcome, ObservationError):
        raise outcome
    return outcome


def collect_many(
    endpoints: list[dict],
    timeout: float = 5.0,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[tuple[str, int, str | None], tuple[dict, dict] | ObservationError]:
    """Observe several endpoints concurrently (at most ``concurrency`` at once).

    ``endpoints``: dicts with ``host``, ``port`` and optional ``sni``, ``http_path`` (default "/").
    Errors are returned, not raised, so one bad endpoint does not hide the others."""
    from preuve.observe.tls.prober import Endpoint, run

    eps = {}
    for e in endpoints:
        ep = Endpoint(e["host"], int(e["port"]), e.get("sni"), e.get("http_path", "/"), float(timeout))
        eps[ep.key] = ep
    return run(list(eps.values()), concurrency)


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.reveal import tool

    sni = target.spec.sni
    query = {"host": target.address, "port": target.port, "sni": sni, "http_path": "/" if target.spec.http else None}
    found, raw = collect(target.address, target.port or 443, sni=sni, timeout=timeout, http_path=query["http_path"])
    return query, found, raw, tool("nassl")  # the prober is preuve's own; nassl completes full handshakes


def _prepare(planned: int) -> None:
    """Start this vantage point's reactor, and its handshake helper process when more than one endpoint is planned:
    the helper loads nassl and cryptography on another core and takes the full handshakes and the chains."""
    from preuve.observe.tls.prober import prepare

    prepare(planned)


def _warm(planned: int) -> None:
    """No helper (one endpoint): load nassl and cryptography (~50 ms) here while the first probes are on the wire;
    the handshakes and the chain wait for them under the import lock."""
    from preuve.observe.tls import handshaker, reactor

    if not handshaker.running(reactor.shared()):
        handshaker.load_here()


# A TLS observation holds at most prober.CONNECTIONS_PER_ENDPOINT sockets, mostly waiting on the server.
COLLECTOR = Collector(
    "tls",
    _collect,
    limit=32,
    fixtures=(
        Fixture("tls", "tls_endpoint", doc="TLS endpoint: accepted versions, suites, groups, certificate chain"),
    ),
    preload=("preuve.observe.tls.prober",),  # nassl and cryptography: by prepare, here or in the helper process
    prepare=_prepare,
    warm=_warm,
)
