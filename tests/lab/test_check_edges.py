"""The TLS and SSH checks that no lab daemon fails by default, made to fail for the right reason.

- Certificate name and validity: the real compliant nginx, judged against a wrong service name (live) and a
  stricter expiry horizon (offline re-judge of the recorded handshake).
- SSH protocol version: a scripted server announcing `SSH-1.99` (OpenSSH no longer speaks SSHv1, so no real
  daemon can), inside the scanner's namespace.
- Renegotiation and compression: Debian 12's OpenSSL 3 refuses client-initiated renegotiation and is built
  without TLS compression, so no real server here can misbehave; the judge side is tested on recorded evidence
  whose facts the test alters, and says so.
"""

from __future__ import annotations

import json

import pytest

from preuve.exitcodes import Exit
from tests.conftest import lab_inventory, preuve, scan
from tests.support.sshd_servers import kexinit_packet, scripted_server

pytestmark = pytest.mark.lab


def _inventory(tmp, edit):
    return lab_inventory(tmp, edit)


def _results(out):
    return {(r["check_id"], r["target"]["name"]): r for r in map(json.loads, (out / "results.jsonl").open())}


def test_certificate_name_mismatch_fails(lab_up, tmp_path):
    def edit(inv):
        inv["hosts"] = []
        inv["tls_endpoints"] = [{**inv["tls_endpoints"][0], "sni": "console.other-provider.example"}]

    run = scan(tmp_path / "run", "--select", "TLS-CERT-NAME", inventory=_inventory(tmp_path, edit))
    r = run.result("TLS-CERT-NAME", "tls-good")
    assert r["status"] == "fail" and "observé false" in r["message"]["fr"], r["message"]


def test_certificate_expiring_within_the_horizon_fails(lab_run, tmp_path):
    profile = tmp_path / "horizon.yaml"
    profile.write_text(
        'id: horizon\nversion: "1.0"\ntitle: {fr: h, en: h}\nselect: {checks: [TLS-CERT-VALIDITY]}\n'
        "params: {tls: {cert_min_days_left: 4000}}\n"
    )
    proc = preuve("judge", lab_run.out, "-p", profile, "-o", tmp_path / "j", "-q")
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    r = _results(tmp_path / "j")[("TLS-CERT-VALIDITY", "tls-good")]
    days = r["observed"]["tls.cert.days_left"]
    assert r["status"] == "fail" and 300 < days < 400 and f"observé {days}" in r["message"]["fr"]


def test_ssh_1_99_banner_fails_protocol_check(lab_up, tmp_path):
    import preuve_lab as lab

    algorithms = [
        ["curve25519-sha256"],
        ["ssh-ed25519"],
        ["aes128-ctr"],
        ["aes128-ctr"],
        ["hmac-sha2-256"],
        ["hmac-sha2-256"],
        ["none"],
        ["none"],
        [],
        [],
    ]
    payload = b"SSH-1.99-LegacyServer_1.0\r\n" + kexinit_packet(algorithms)
    with lab.enter("pv-admin"), scripted_server(payload) as port:  # listens on pv-admin's own loopback

        def edit(inv):
            inv["hosts"], inv["tls_endpoints"] = [], []
            inv["ssh_endpoints"] = [{"name": "legacy-ssh", "address": "127.0.0.1", "port": port}]

        run = scan(tmp_path / "run", "--select", "SSH-PROTOCOL", inventory=_inventory(tmp_path, edit))
    r = run.result("SSH-PROTOCOL", "legacy-ssh")
    assert r["status"] == "fail" and "observé 1.99" in r["message"]["fr"], r["message"]


def _reseal(run, rel: str) -> None:
    """Make results.jsonl and MANIFEST.sha256 cite the file's new content, as if the run had recorded it."""
    import hashlib

    digest = hashlib.sha256((run / rel).read_bytes()).hexdigest()
    lines = []
    for line in (run / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        for ev in record.get("evidence") or []:
            if ev.get("path") == rel:
                ev["sha256"] = digest
        lines.append(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    (run / "results.jsonl").write_text("\n".join(lines) + "\n")
    manifest = []
    for line in (run / "MANIFEST.sha256").read_text().splitlines():
        name = line.split("  ", 1)[1]
        if name in (rel, "results.jsonl"):
            line = f"{hashlib.sha256((run / name).read_bytes()).hexdigest()}  {name}"
        manifest.append(line)
    (run / "MANIFEST.sha256").write_text("\n".join(manifest) + "\n")


@pytest.mark.parametrize(
    ("check", "path", "value", "quoted"),
    [
        ("TLS-COMPRESSION", ["compression"], True, "observé true"),
        ("TLS-RENEGOTIATION", ["renegotiation", "client_initiated_accepted"], True, "observé true"),
        ("TLS-RENEGOTIATION", ["renegotiation", "secure"], False, "observé false"),
    ],
)
def test_judge_fails_on_altered_evidence(lab_run, tmp_path, check, path, value, quoted):
    import shutil

    copy = tmp_path / "altered"
    shutil.copytree(lab_run.out, copy)
    obs_file = copy / "observations" / "tls" / "tls-good.json"
    obs = json.loads(obs_file.read_text())
    node = obs["facts"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value  # what a misbehaving server would have shown
    obs_file.write_text(json.dumps(obs))
    # Altered behind the run's back: judge refuses the evidence before judging anything.
    refused = preuve("judge", copy, "-o", tmp_path / "refused", "--select", check, "-q")
    assert refused.returncode == Exit.INTEGRITY, refused.stderr
    # Recorded as such by the run (results and manifest cite this content): judged on what it says.
    _reseal(copy, "observations/tls/tls-good.json")
    proc = preuve("judge", copy, "-o", tmp_path / "j", "--select", check, "-q")
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    r = _results(tmp_path / "j")[(check, "tls-good")]
    assert r["status"] == "fail" and quoted in r["message"]["fr"], r["message"]


@pytest.mark.parametrize(
    ("issuer", "country", "declared", "ok"),
    [
        ("CN=Certigna,O=Dhimyotis,C=FR", "FR", [], True),
        ("CN=HARICA TLS RSA Root CA 2021,C=GR", "GR", [], True),
        ("CN=Buypass Class 2 Root CA,C=NO", "NO", [], False),  # EEA, not EU
        ("CN=ISRG Root X1,O=Internet Security Research Group,C=US", "US", [], False),
        ("CN=kubernetes", None, [], False),  # no C=: proves nothing
        ("CN=kubernetes", None, ["CN=kubernetes"], True),  # unless the provider declares it
    ],
)
def test_ca_country_verdict(issuer, country, declared, ok):
    """10.6.a on the issuers the notes name: EU countries pass, EEA/US fail, a CA without C= needs a declaration."""
    from checks.tls.check_certificate import issuer_verdict
    from preuve.inputs.params import Params

    params = Params.model_validate({"tls": {"ca_issuers_declared_eu": declared}})
    verdict, seen = issuer_verdict({"issuer": issuer, "issuer_country": country}, params)
    assert verdict is ok
    assert issuer in seen
