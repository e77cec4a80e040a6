"""IPSEC-* judged on recorded real swanctl output (tests/fixtures/ipsec, strongSwan 5.9.8 on the lab) and on the
lab's swanctl.conf templates (a pre-shared key drawn here): the compliant gateway passes IKEv2, AEAD/PFS and
certificates; the weak one fails each for its reason: an IKEv1 connection, the 3DES proposal kept as a fallback
behind AES-GCM (a check of the negotiated SA alone passes it) and ESP without a group, pre-shared keys."""

from __future__ import annotations

import secrets
from pathlib import Path

from checks.internal_flows.check_ipsec import check_aead_pfs, check_cert_auth, check_ikev2_only, check_tunnels_up
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.network import ipsec
from preuve_lab import internal_flows

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "ipsec"


def _facts(name: str, config: str, tunnels: list[str]) -> dict:
    sections = {
        "conns": ((FIX / f"{name}.list-conns.txt").read_text(), 0),
        "sas": ((FIX / f"{name}.list-sas.txt").read_text(), 0),
        "file /etc/swanctl/swanctl.conf": (config, 0),
    }
    facts = ipsec.facts_of(sections, ["/etc/swanctl/swanctl.conf"])
    facts["tunnels_declared"] = tunnels
    return facts


def _gw_config() -> str:
    return internal_flows.GW_CONF.format(
        conn="saclay",
        name="ipsec-gw",
        local="198.18.2.93",
        remote="198.18.2.94",
        remote_port=1500,
        cert="ipsec-gw.pem",
        ca="ca.pem",
        local_id="ipsec-gw.lab",
        remote_id="ipsec-peer.lab",
        local_ts="10.1.0.0/16",
        remote_ts="10.2.0.0/16",
        start="trap",
    )


def _weak_config(psk: str) -> str:
    return internal_flows.WEAK_CONF.format(local="198.18.2.95", psk=psk)


def _failed(fn, facts, **kw) -> list:
    judge = Judge()
    fn(facts, judge=judge, **kw)
    return judge.failed


def test_compliant_gateway_passes_the_crypto_checks():
    facts = _facts("ipsec-gw", _gw_config(), ["saclay"])
    params = Params()
    assert facts["sas"][0]["encryption"] == "AES_GCM_16_256" and facts["sas"][0]["dh_group"] == "ECP_384"
    assert not _failed(check_ikev2_only, facts)
    assert not _failed(check_aead_pfs, facts, params=params)
    assert not _failed(check_cert_auth, facts, params=params)
    tunnel = _failed(check_tunnels_up, facts)  # the sandbox refused the CHILD SA: said as such
    assert tunnel[0].observed == {"saclay": "IKE SA ESTABLISHED, no CHILD SA installed"}


def test_weak_gateway_fails_each_for_its_reason_and_its_secret_is_dropped():
    psk = f"0s{secrets.token_urlsafe(24)}"
    facts = _facts("ipsec-weak", _weak_config(psk), ["partner"])
    assert psk not in str(facts)  # the secrets section is never parsed nor recorded
    params = Params()
    assert _failed(check_ikev2_only, facts)[0].offending == ["connection legacy"]
    aead, groups = _failed(check_aead_pfs, facts, params=params)
    assert "partner IKE 3des-sha1-modp1024" in aead.offending
    assert "partner IKE aes256gcm16-prfsha384-ecp384" not in aead.offending  # the first proposal is fine
    assert "partner/partner ESP aes256gcm16" in groups.offending  # no group: no PFS
    assert _failed(check_cert_auth, facts, params=params)[0].observed["partner local-1"] == "pre-shared key"
    assert _failed(check_tunnels_up, facts)[0].observed == {"partner": "no IKE SA"}


def test_proposal_keywords_normalise_to_swanctl_names():
    p = ipsec.proposals("aes128gcm16-aes256gcm128-prfsha256-ecp256-ecp384bp-modp3072s256,3des-sha1-modp1024,default")
    assert p[0]["encryption"] == ["AES_GCM_16_128", "AES_GCM_16_256"]
    assert p[0]["dh_groups"] == ["ECP_256", "ECP_384_BP", "MODP_3072_256"]
    assert p[1] == {
        "proposal": "3des-sha1-modp1024",
        "encryption": ["3DES_CBC"],
        "dh_groups": ["MODP_1024"],
        "default": False,
    }
    assert p[2]["default"] is True
