"""Maintained software, package sources, LUKS volumes and admin keys, judged on recorded real output.

The lab facts in tests/fixtures/host_maintenance/ are the raw stdout of preuve's own snippets on the lab hosts
ssh-mfa and ssh-key-only (apt 2.6, cryptsetup 2.6.1, OpenSSH 9.2 of Debian 12) under the non-root scanning
account; the dnf/yum and yum.repos.d samples are real output and files published by their vendors or operators
(see the folder's README: dnf cannot run on this Debian machine). The lab tests judge the same checks live.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.encryption import check_admin_keys as ak
from checks.encryption import check_luks as cl
from checks.kubernetes import check_supply as ks
from checks.patching import check_patching as cp
from checks.patching import check_sources as cs
from preuve.inputs.params import Params
from preuve.judge import ObservationUnavailable
from preuve.judge.check_api import Judge, TrackedParams
from preuve.observe.host import admin_keys, luks, package_sources, patching

FIXTURES = Path(__file__).parents[1] / "fixtures" / "host_maintenance"
NOW = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)


def _read(name: str) -> str:
    return (FIXTURES / name).read_text()


def _fact(host: str, fact: str) -> dict:
    return {"patching": patching, "package_sources": package_sources, "luks": luks, "admin_keys": admin_keys}[
        fact
    ].parse(_read(f"{host}.{fact}.txt"))


def _params(j: Judge) -> TrackedParams:
    return TrackedParams(Params(), j.reads)


def _target(**spec) -> SimpleNamespace:
    base = {"data_volumes": [], "package_mirrors": None, "image_registries": None}
    return SimpleNamespace(spec=SimpleNamespace(**{**base, **spec}))


# --- patching ---------------------------------------------------------------------------------------------------


def test_apt_simulation_names_the_pending_security_update():
    weak, good = _fact("ssh-key-only", "patching"), _fact("ssh-mfa", "patching")
    assert weak["manager"] == "apt" and weak["security"] == ["base-files"]
    (p,) = weak["pending"]
    assert p["installed"] != p["candidate"] and p["origins"] == ["preuve-lab-Security:bookworm-security"]
    assert good["pending"] == [] and good["security"] == []
    j = Judge()
    cp.check_security_pending(weak, j)
    assert j.failed and "base-files" in j.failed[0].observed


def test_origins_of_security_archives():
    assert patching.is_security_origin("Debian-Security:12/stable-security")
    assert patching.is_security_origin("Ubuntu:22.04/jammy-security")
    assert not patching.is_security_origin("Ubuntu:22.04/jammy-updates")
    assert not patching.is_security_origin("Debian:12.5/stable-updates")


@pytest.mark.parametrize(
    "sample, security",
    [
        ("hce2.yum-updateinfo-list.txt", ["curl", "gnupg2", "kernel"]),
        ("ol6.yum-updateinfo-list.txt", ["abrt", "abrt-addon-ccpp"]),  # bugfix advisories are not security ones
    ],
)
def test_dnf_updateinfo_security_lines(sample, security):
    text = "== manager dnf\n== index /var/cache\n== pending\n" + _read(sample)
    fact = patching.parse(text)
    assert fact["security"] == security
    assert all(p["advisory"] and p["severity"] for p in fact["pending"])


def test_index_age_and_kernel_and_release():
    weak, good = _fact("ssh-key-only", "patching"), _fact("ssh-mfa", "patching")
    for fact, fails in ((good, False), (weak, True)):
        j = Judge()
        cp.check_index_fresh(fact, _params(j), j)
        assert bool(j.failed) is fails
        if fails:
            assert j.failed[0].param == "patching.index_max_age_days" and j.failed[0].observed >= 59
    j = Judge()
    cp.check_kernel_running(weak, j)
    assert j.failed[0].expected == "6.99.0-99-amd64"
    assert patching.newest_kernel(["6.1.0-9-amd64", "6.1.0-28-amd64"]) == "6.1.0-28-amd64"
    j = Judge()
    cp.check_os_supported(weak, _params(j), NOW, j)
    assert weak["os_release"]["VERSION_ID"] == "10" and j.failed[0].observed < 0
    j = Judge()
    cp.check_os_supported(good, _params(j), NOW, j)
    assert not j.failed


def test_no_kernel_in_boot_and_a_stale_table_are_errors():
    fact = _fact("ssh-mfa", "patching")
    fact["kernel"]["installed"] = []
    with pytest.raises(ObservationUnavailable, match="no kernel image in /boot"):
        cp.check_kernel_running(fact, Judge())
    j = Judge()
    with pytest.raises(ObservationUnavailable, match="eol_table_max_age_days"):
        cp.check_os_supported(fact, _params(j), NOW + dt.timedelta(days=400), j)


# --- package sources --------------------------------------------------------------------------------------------


def test_apt_sources_trusted_yes_beats_signed_by():
    weak = _fact("ssh-key-only", "package_sources")
    reasons = {s["file"]: package_sources.unsigned_reason(s, weak["apt_insecure"]) for s in weak["sources"]}
    assert reasons["/etc/apt/sources.list.d/preuve-lab.sources"].startswith("trusted=yes")  # Signed-By is there too
    assert reasons["/etc/apt/sources.list"].startswith("trusted=yes")
    good = _fact("ssh-mfa", "package_sources")
    (src,) = good["sources"]
    assert src["signed_by_exists"] and package_sources.unsigned_reason(src, []) is None


def test_yum_repos_gpgcheck_and_main_default():
    rocky = "== file /etc/yum.repos.d/Rocky-BaseOS.repo\n" + _read("rocky8.Rocky-BaseOS.repo")
    local = "== file /etc/yum.repos.d/Local.repo\n" + _read("rocky8.Local.repo")
    fact = package_sources.parse(
        rocky + local + "== aptconf\n== keyrings\n/etc/pki/rpm-gpg/RPM-GPG-KEY-rockyofficial\n"
    )
    by_id = {(s["file"], s["id"]): s for s in fact["sources"]}
    base = by_id[("/etc/yum.repos.d/Rocky-BaseOS.repo", "baseos")]
    assert base["gpgcheck"] and base["uris"][0].startswith("https://mirrors.rockylinux.org/mirrorlist")
    assert package_sources.unsigned_reason(base, []) is None
    dvd = by_id[("/etc/yum.repos.d/Local.repo", "appstream")]
    assert package_sources.unsigned_reason(dvd, []) == "gpgcheck off (from /etc/yum.repos.d/Local.repo)"
    # a repository that says nothing inherits [main]; dnf's own default is off
    bare = "== file /etc/yum.repos.d/x.repo\n[x]\nbaseurl=https://mirror.dmz.example/x/\n"
    assert package_sources.parse(bare)["sources"][0]["gpgcheck"] is False
    main = "== file /etc/dnf/dnf.conf\n[main]\ngpgcheck=1\ninstallonly_limit=3\n"
    assert package_sources.parse(main + bare)["sources"][0]["gpgcheck"] is True


def test_mirror_allow_list():
    weak = _fact("ssh-key-only", "package_sources")
    j = Judge()
    cs.check_sources_mirrors(weak, _target(package_mirrors=["file:/var/tmp/preuve-lab/apt-mirror/"]), j)
    assert j.failed[0].offending == ["/etc/apt/sources.list:1 http://deb.example.invalid/debian"]
    with pytest.raises(Exception, match="no package_mirrors"):
        cs.check_sources_mirrors(weak, _target(), Judge())


# --- LUKS ---------------------------------------------------------------------------------------------------------


def test_luks_dumps_of_both_versions():
    one = luks.parse_dump(_read("luksdump-luks1.txt").splitlines())
    assert (one["version"], one["cipher"], one["key_bits"]) == (1, "aes-cbc-essiv:sha256", 256)
    assert one["keyslots"][0]["pbkdf"] == "pbkdf2"
    two = luks.parse_dump(_read("luksdump-luks2.txt").splitlines())
    assert (two["version"], two["cipher"], two["key_bits"]) == (2, "aes-xts-plain64", 512)
    assert two["keyslots"][0]["pbkdf"] == "argon2id" and two["keyslots"][0]["memory_kib"] == 65536


def test_luks_fact_drops_salts_and_reads_crypttab():
    text = _read("ssh-key-only.luks.txt")
    assert "Salt:" not in text and "MK digest" not in text
    fact = luks.parse(text)
    assert fact["volumes"]["/dev/loop63"]["luks"] is None and fact["volumes"]["/dev/loop62"]["luks"]["version"] == 1
    uuid = fact["volumes"]["/dev/loop61"]["luks"]["uuid"]
    assert luks.unlock_of("/dev/loop61", "/dev/loop61", fact["crypttab"]) is None  # crypttab names it by UUID=
    keyed = luks.unlock_of("/dev/loop61", "/dev/loop61", fact["crypttab"], uuid)
    assert keyed["device"] == f"UUID={uuid}" and keyed["key"] == "/etc/luks-keys/data.key"


def test_luks_checks_both_ways_and_the_naive_target():
    weak_t = _target(data_volumes=["/dev/loop61", "/dev/loop62", "/dev/loop63"])
    good_t = _target(data_volumes=["/dev/loop60"])
    weak, good = _fact("ssh-key-only", "luks"), _fact("ssh-mfa", "luks")
    for fn in (cl.check_luks_params, cl.check_luks_unlock):
        j = Judge()
        fn(good, good_t, _params(j), j)
        assert not j.failed, fn.__name__
    j = Judge()
    cl.check_data_volumes(weak, weak_t, j)
    assert j.failed[0].offending == ["/dev/loop63"]
    # /dev/loop61 alone: a perfect header (a header-only check passes it) whose key file lies on the host's disk
    only = _target(data_volumes=["/dev/loop61"])
    j = Judge()
    cl.check_luks_params(weak, only, _params(j), j)
    assert not j.failed
    j = Judge()
    cl.check_luks_unlock(weak, only, _params(j), j)
    assert j.failed[0].offending == ["/dev/loop61"]
    with pytest.raises(Exception, match="no data_volumes"):
        cl.check_data_volumes(weak, _target(), Judge())


# --- admin keys ---------------------------------------------------------------------------------------------------


def test_admin_keys_fact_holds_names_and_fingerprints_only():
    for host in ("ssh-mfa", "ssh-key-only"):
        text = _read(f"{host}.admin_keys.txt")
        assert "PRIVATE KEY" not in text and "AAAA" not in text and "token:" not in text
    weak = _fact("ssh-key-only", "admin_keys")
    assert weak["authorized_keys_files"] == [".ssh/authorized_keys"]  # sshd -T's AuthorizedKeysFile, expanded per home
    assert {k["file"] for k in weak["admins"]["root"]["authorized"]} == {"/root/.ssh/authorized_keys"}
    assert weak["admins"]["pvadmin"]["declared_canary"]
    root = weak["admins"]["root"]
    assert {k["file"]: k["encrypted"] for k in root["private_keys"]} == {
        ".ssh/backup-deploy": False,
        ".ssh/id_ed25519": False,
    }
    assert [c["field"] for c in root["kube_credentials"]] == ["token", "client-key-data"]


def test_admin_key_checks_both_ways():
    weak, good = _fact("ssh-key-only", "admin_keys"), _fact("ssh-mfa", "admin_keys")
    j = Judge()
    ak.check_admin_hardware(good, _params(j), j)
    assert not j.failed and sorted(j.expectations[0].observed.values()) == ["ED25519-SK", "cert-authority"]
    j = Judge()
    ak.check_admin_hardware(weak, _params(j), j)
    assert list(j.failed[0].observed.values()) == ["ED25519"]
    # certificates only: no authorized key at all, sshd trusts a user CA
    certs = {
        "trusted_user_ca_keys": "/etc/ssh/user_ca.pub",
        "admins": {"root": {**good["admins"]["root"], "authorized": []}},
    }
    j = Judge()
    ak.check_admin_hardware(certs, _params(j), j)
    assert not j.failed and j.expectations[0].observed == {
        "sshd TrustedUserCAKeys /etc/ssh/user_ca.pub": "cert-authority"
    }
    with pytest.raises(Exception, match="no administrator logs in with a key"):
        ak.check_admin_hardware({**certs, "trusted_user_ca_keys": None}, _params(Judge()), Judge())
    j = Judge()
    ak.check_admin_homes(weak, j)
    assert len(j.failed) == 2
    j = Judge()
    ak.check_admin_homes(good, j)
    assert not j.failed


# --- Kubernetes admission ---------------------------------------------------------------------------------------


def test_an_unbound_validating_policy_enforces_nothing():
    vap = {
        "metadata": {"name": "p"},
        "spec": {"validations": [{"expression": "object.spec.containers.all(c, c.image)"}]},
    }
    admission = {"validatingadmissionpolicies": [vap], "validatingadmissionpolicybindings": []}
    assert ks.enforced_policies(admission) == []
    bound = {
        **admission,
        "validatingadmissionpolicybindings": [{"spec": {"policyName": "p", "validationActions": ["Warn"]}}],
    }
    assert ks.enforced_policies(bound) == []  # Warn does not refuse
    deny = {
        **admission,
        "validatingadmissionpolicybindings": [{"spec": {"policyName": "p", "validationActions": ["Deny"]}}],
    }
    assert ks.enforced_policies(deny) == ["ValidatingAdmissionPolicy/p (bound, Deny)"]
    kyverno = {
        "kyverno_clusterpolicies": [
            {"metadata": {"name": "k"}, "spec": {"validationFailureAction": "Audit", "rules": [{"verifyImages": [{}]}]}}
        ]
    }
    assert ks.enforced_policies(kyverno) == []


# --- repository signing keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ring, want",
    [  # (fingerprint, algorithm, bits or curve) as `gpg --show-keys --with-colons` prints them for the same file
        ("debian-archive-bookworm-stable.gpg", [("4D64FEC119C2029067D6E791F8D2585B8783D481", "EdDSA", "Ed25519")]),
        (
            "debian-archive-bookworm-automatic.gpg",
            [
                ("B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8", "RSA", 4096),
                ("4CB50190207B4758A3F73A796ED0E7B82643E131", "RSA", 4096),
            ],
        ),
        ("lab-legacy-rsa1024.gpg", [("799630FEF384FFAE2316C575E39306467B944729", "RSA", 1024)]),
    ],
)
def test_openpgp_keyrings_read_as_gpg_reads_them(ring, want):
    from preuve.observe.host import openpgp

    got = openpgp.keys((FIXTURES / ring).read_bytes())
    assert [(k["fingerprint"], k["algorithm"], k.get("bits") or k.get("curve")) for k in got] == want


def test_signing_keys_check_both_ways():
    good = _fact("ssh-mfa", "package_sources")
    j = Judge()
    cs.check_signing_keys(good, _params(j), j)
    assert not j.failed and list(j.expectations[0].observed.values()) == ["EdDSA Ed25519"]
    # the weak host's keyring (same Signed-By path) also holds a 1024-bit RSA key
    weak = _fact("ssh-key-only", "package_sources")
    j = Judge()
    cs.check_signing_keys(weak, _params(j), j)
    assert sorted(j.failed[0].observed.values()) == ["EdDSA Ed25519", "RSA 1024 bits"]
    assert len(j.failed[0].offending) == 1 and j.failed[0].param == "supply.signing_min_rsa_bits"
    # a keyring the sources name, present on the host but not sent (unreadable): an error, never a pass
    weak["keyring_keys"] = {}
    with pytest.raises(ObservationUnavailable, match="could not be read"):
        cs.check_signing_keys(weak, _params(Judge()), Judge())


def test_a_refused_sudo_on_a_home_fails_the_fact_never_skips_it(tmp_path):
    """As a non-root account whose sudo refuses `cat` (stand-in binaries first on PATH: id, getent, sudo), the
    admin_keys snippet stops with the refusal on stderr: a home it could not read is never a silent pass."""
    import os
    import subprocess

    from preuve.observe.privileged import explain_refusal

    home = tmp_path / "root-home"
    (home / ".ssh").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {
        "id": "#!/bin/sh\necho 1000\n",
        "getent": f'#!/bin/sh\n[ "$1" = group ] && echo "sudo:x:27:" || echo "root:x:0:0:root:{home}:/bin/sh"\n',
        "sudo": '#!/bin/sh\n[ "$1" = -n ] && shift\n'
        '[ "$1" = sshd ] && { echo "authorizedkeysfile .ssh/authorized_keys"; exit 0; }\n'
        'echo "sudo: a password is required" >&2\nexit 1\n',
    }
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LC_ALL": "C"}
    proc = subprocess.run(["sh", "-c", admin_keys.ADMIN_KEYS], capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert "a password is required" in proc.stderr and "#auth" not in proc.stdout
    assert "/usr/bin/cat -- /root/*" in explain_refusal("admin_keys", proc.stderr.strip().splitlines()[-1])
    assert os.environ.get("PATH")  # the test's own environment untouched


def test_a_declared_open_mapping_is_judged_on_its_device():
    """/dev/mapper/data declared (the open dm-crypt mapping): the snippet dumps the header of its parent, which the
    fact records; the recorded lab dump stands for the header read there."""
    dump = _read("luksdump-luks2.txt")
    text = f"== lsblk\n{{}}\n== crypttab\n== volume /dev/mapper/data\n#device /dev/dm-0\n#mapping-of /dev/sdb\n{dump}"
    vol = luks.parse(text)["volumes"]["/dev/mapper/data"]
    assert vol["mapping_of"] == "/dev/sdb" and vol["luks"]["cipher"] == "aes-xts-plain64"
    assert 'lsblk -dno TYPE "$v"' in luks.LUKS and 'luksDump "$d"' in luks.LUKS


def test_a_crypttab_entry_by_uuid_is_matched_to_its_volume():
    """crypttab usually names volumes by UUID=: a key file there must not hide behind a path that does not match."""
    fact = _fact("ssh-mfa", "luks")
    uuid = fact["volumes"]["/dev/loop60"]["luks"]["uuid"]
    assert len(uuid) == 36
    fact["crypttab"] = [{"name": "data", "device": f"UUID={uuid}", "key": "/root/data.key", "options": ["luks"]}]
    j = Judge()
    cl.check_luks_unlock(fact, _target(data_volumes=["/dev/loop60"]), _params(j), j)
    assert j.failed[0].observed == {"/dev/loop60": "key file /root/data.key (crypttab data)"}


def test_an_unknown_dnf_listing_is_an_error_never_nothing_pending():
    """A listing whose lines match no format the parser knows (here a made-up five-column layout, not a recording)
    must not read as "nothing pending": the lines are kept and the check errors quoting one."""
    header = "== manager dnf\n== index /var/cache\n== pending\n"
    known = patching.parse(header + _read("hce2.yum-updateinfo-list.txt") + _read("ol6.yum-updateinfo-list.txt"))
    assert known["unparsed"] == []
    odd = patching.parse(
        header + "Name Type Severity Package Issued\nX-1 security Moderate curl-8.6.0-1.fc40.x86_64 2024-03-01\n"
    )
    assert odd["security"] == [] and len(odd["unparsed"]) == 2
    with pytest.raises(ObservationUnavailable, match="cannot read"):
        cp.check_security_pending(odd, Judge())


def test_a_key_on_a_separate_device_is_a_disjoint_medium():
    """crypttab(5) `path:device` (the key file on another device, e.g. a USB key) is the support disjoint 10.5.c
    allows; the device is named in the observation for the auditor."""
    fact = _fact("ssh-key-only", "luks")
    for entry in fact["crypttab"]:
        if entry["key"]:
            entry["key"] = "/keys/data.key:LABEL=USBKEY"
    j = Judge()
    cl.check_luks_unlock(fact, _target(data_volumes=["/dev/loop61"]), _params(j), j)
    assert not j.failed and "separate device /keys/data.key:LABEL=USBKEY" in j.expectations[0].observed["/dev/loop61"]
