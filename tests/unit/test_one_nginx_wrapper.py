"""The TLS test servers and the TLS fleet bench start nginx through one module (preuve_lab.loopback_nginx): neither
writes its own http{} block, server block or start loop, so a bench figure and a test verdict come from servers
configured the same way."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USERS = [REPO / "tests" / "support" / "tls_servers.py", REPO / "bench" / "tls_fleet.py"]


def test_both_users_go_through_the_shared_module() -> None:
    for path in USERS:
        text = path.read_text()
        assert "loopback_nginx" in text, path
        for own_copy in ("listen {", "ssl_certificate_key {", "_temp_path", "daemon off"):
            assert own_copy not in text, f"{path.name} writes nginx config itself: {own_copy!r}"


def test_config_puts_everything_under_the_scratch_root(tmp_path: Path) -> None:
    from preuve_lab import loopback_nginx

    block = loopback_nginx.server_block(20443, tmp_path / "c.crt", tmp_path / "c.key", "        ssl_protocols TLSv1.3;")
    text = loopback_nginx.config(tmp_path, [block], workers=2, connections=8192)
    assert "listen 127.0.0.1:20443 ssl;" in text and "ssl_protocols TLSv1.3;" in text
    assert "worker_processes 2;" in text and "worker_rlimit_nofile 16384;" in text
    paths = [w for line in text.splitlines() for w in line.split() if w.startswith("/") and w != "/"]
    assert paths and all(p.rstrip(";").startswith(str(tmp_path)) for p in paths)
