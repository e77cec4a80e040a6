"""S3-TLS-ONLY quotes what plain HTTP got from the endpoint. A port that refuses connections is asked once per run
and its answer reused for every bucket: that answer must name the endpoint, not the bucket whose probe happened to
go first (otherwise the message, and every run's diff, depends on thread order)."""

from __future__ import annotations

import socket

from preuve.observe.storage import s3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _endpoint(port: int) -> s3.Endpoint:
    # Throwaway values: the probe signs a request to a port nobody listens on.
    return s3.Endpoint(
        url=f"http://127.0.0.1:{port}", signing_region="eu-west-3", access_key="AKIDTEST", secret_key="t"
    )


def test_refusal_quotes_the_endpoint_without_a_bucket_path() -> None:
    port = _closed_port()
    first = s3.plain_http_probe(_endpoint(port), "alpha-bucket", 1.0)
    second = s3.plain_http_probe(_endpoint(port), "beta-bucket", 1.0)
    assert first == second  # the same words whichever bucket was probed first
    (probe,) = first
    assert probe["accepted"] is False
    assert f"http://127.0.0.1:{port}" in probe["answer"]
    assert "alpha-bucket" not in probe["answer"] and "?location" not in probe["answer"]


def test_first_probe_of_a_fresh_port_says_the_same_for_any_bucket() -> None:
    """Two fresh ports probed for different buckets give answers that differ only by the port."""
    a, b = _closed_port(), _closed_port()
    one = s3.plain_http_probe(_endpoint(a), "alpha-bucket", 1.0)[0]["answer"]
    two = s3.plain_http_probe(_endpoint(b), "beta-bucket", 1.0)[0]["answer"]
    assert one.replace(str(a), "PORT") == two.replace(str(b), "PORT")
