"""`preuve import ansible|kubeconfig` (issue 16 item 5): their inventories become preuve inventories that lint clean;
bad input gets file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from preuve.inputs.ansible import expand_range
from tests.conftest import FULL_PROFILE, REPO, preuve

FIX = REPO / "tests" / "fixtures" / "ansible"
RULES = FIX / "rules.yaml"


def _import(tmp: Path, source: Path, *extra: str) -> tuple[dict, str]:
    out = tmp / f"{source.stem}.inventory.yaml"
    proc = preuve("import", "ansible", source, "--rules", RULES, "-o", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(out.read_text()), str(out)


@pytest.mark.parametrize("source", ["hosts.ini", "list.json"])
def test_three_groups_ten_hosts_import_and_lint_clean(tmp_path, source):
    inv, out = _import(tmp_path, FIX / source)
    hosts = {h["name"]: h for h in inv["hosts"]}
    assert len(hosts) == 10
    assert {g for h in hosts.values() for g in h["tags"] if g in ("web", "db", "monitoring")} == {
        "web",
        "db",
        "monitoring",
    }
    assert hosts["web05"] == {
        "name": "web05",
        "address": "192.0.2.15",
        "zone": "dmz",
        "site": "paris-dc2",
        "tags": ["internet-facing", "web"],
        "ssh": {"port": 2222},
    }, "host var beats group var"
    assert hosts["web03"]["ssh"] == {"user": "deploy", "port": 22}
    assert hosts["db-b.acme.internal"]["ssh"] == {"user": "dba", "port": 2200, "key_file": "~/.ssh/db_ed25519"}
    assert hosts["mon1"]["zone"] == "supervision", "no rule gives a zone: the zone whose CIDR holds the address"
    lint = preuve("lint", "-i", out, "-p", FULL_PROFILE)
    assert lint.returncode == 0 and lint.stdout.strip() == "inputs are valid", lint.stderr


def test_ini_json_and_yaml_agree(tmp_path):
    ini, _ = _import(tmp_path, FIX / "hosts.ini")
    js, _ = _import(tmp_path, FIX / "list.json")
    assert ini == js


def test_yaml_precedence_all_parent_child_host(tmp_path):
    inv, out = _import(tmp_path, FIX / "hosts.yaml")
    hosts = {h["name"]: h for h in inv["hosts"]}
    assert hosts["bastion"]["ssh"] == {"user": "ops"}, "host beats all"
    assert hosts["mon1"]["ssh"] == {"user": "preuve-audit"}, "all's vars reach every host"
    assert hosts["db-a.acme.internal"]["ssh"] == {"user": "dba", "port": 2200}, "group beats all"
    assert hosts["web02"]["address"] == "192.0.2.20" and hosts["web05"]["ssh"]["port"] == 2222
    assert preuve("lint", "-i", out, "-p", FULL_PROFILE).returncode == 0


def test_ranges():
    assert expand_range("web[01:03].x") == ["web01.x", "web02.x", "web03.x"]
    assert expand_range("db-[a:c]") == ["db-a", "db-b", "db-c"]
    assert expand_range("n[0:10:5]") == ["n0", "n5", "n10"]
    with pytest.raises(ValueError, match="empty"):
        expand_range("web[05:01]")


def test_passwords_are_never_imported_and_local_connections_skipped(tmp_path):
    src = tmp_path / "inv.ini"
    src.write_text(
        "[web]\nweb1 ansible_host=192.0.2.1 ansible_password=hunter2-secret\nlocalhost ansible_connection=local\n"
    )
    out = tmp_path / "out.yaml"
    proc = preuve("import", "ansible", src, "--rules", RULES, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in out.read_text() and "hunter2" not in proc.stderr
    assert f"{src}:2: host web1: ansible_password not imported" in proc.stderr
    assert f"{src}:3: host localhost skipped: ansible_connection=local" in proc.stderr
    assert [h["name"] for h in yaml.safe_load(out.read_text())["hosts"]] == ["web1"]


# Ten malformed inputs: each names the file, the line and what is wrong.
MALFORMED = [
    ("port.ini", "[web]\nweb1 ansible_host=192.0.2.1\nweb2 ansible_port=abc\n", None, 3, "port 'abc' is not a number"),
    ("range.ini", "[web]\nweb[05:01]\n", None, 2, "host range [05:01] is empty"),
    ("section.ini", "[web\nweb1\n", None, 1, "malformed section header"),
    ("kv.ini", "[web]\nweb1 ansible_host\n", None, 2, "expected key=value host variable, got 'ansible_host'"),
    ("vars.ini", "[web]\nweb1\n[web:vars]\nansible_user\n", None, 4, "[web:vars]: expected key=value"),
    ("address.ini", "[db]\n\ndb1 ansible_host=10.0.0.999\n", None, 3, "'10.0.0.999' is not an address"),
    (
        "bigport.yaml",
        "all:\n  children:\n    web:\n      vars:\n        ansible_port: 70000\n      hosts:\n        web1:\n",
        None,
        5,
        "port 70000 is outside 1-65535",
    ),
    ("list.yaml", "all:\n  children:\n    web:\n      hosts:\n        - web1\n", None, 4, "hosts is a mapping"),
    (
        "syntax.json",
        '{\n  "all": {"children": ["web"]},\n  "web": {"hosts": ["a",]}\n}\n',
        None,
        3,
        "JSON syntax error",
    ),
    (
        "zone.ini",
        "[web]\nweb1 ansible_host=192.0.2.1\n",
        "groups:\n  web: {zone: dmz}\n",
        2,
        "zone 'dmz' is not declared in the rules' zones",
    ),
    (
        "conflict.ini",
        "[web]\nweb1 ansible_host=192.0.2.1\n[db]\nweb1\n",
        "zones:\n"
        "  - {name: dmz, kind: dmz, cidrs: [192.0.2.0/24]}\n  - {name: prod, kind: production, cidrs: [10.0.0.0/8]}\n"
        "groups:\n  web: {zone: dmz}\n  db: {zone: prod}\n",
        2,
        "rules.yaml:5 (web)) and prod (",
    ),
    (
        "badname.ini",
        "[web]\nweb1 ansible_host=192.0.2.1\n'web two' ansible_host=192.0.2.2\n",
        None,
        3,
        "host name 'web two'",
    ),
    ("rules-key.ini", "[web]\nweb1 ansible_host=192.0.2.1\n", "name: x\ngroup:\n  web: {}\n", 2, "group"),
]


@pytest.mark.parametrize(("name", "text", "rules", "line", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_inputs_give_file_line_errors(tmp_path, name, text, rules, line, message):
    src = tmp_path / name
    src.write_text(text)
    args: list = ["import", "ansible", src, "-o", tmp_path / "out.yaml"]
    bad_file = src
    if rules is not None:
        bad_file = tmp_path / "rules.yaml"
        bad_file.write_text(rules)
        args += ["--rules", bad_file]
        if name in ("conflict.ini",):
            bad_file = src
    proc = preuve(*args)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert not (tmp_path / "out.yaml").exists(), "nothing written on error"
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{bad_file}:{line}:"), proc.stderr
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


# --- Kubernetes nodes from a kubeconfig, against the API stand-in over HTTPS on loopback ---------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from preuve_lab.kube_seed import seed
    from preuve_lab.kube_standin import Cluster, serve_in_thread
    from preuve_lab.kubeapi import write_pki, write_tokens

    d = tmp_path_factory.mktemp("kube-import")
    ca, cert, key = write_pki(d, ["127.0.0.1"])
    tokens = write_tokens(d)
    data = seed("good", tokens["scanner"], tokens["noaccess"])
    nodes = [o for o in data["objects"] if o["kind"] == "Node"]
    for i, node in enumerate(nodes):  # the seed has no addresses: give all but the last one an InternalIP
        if i < len(nodes) - 1:
            node["status"]["addresses"] = [
                {"type": "InternalIP", "address": f"10.20.0.{10 + i}"},
                {"type": "Hostname", "address": node["metadata"]["name"]},
            ]
    nodes[0]["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = ""
    server = serve_in_thread(Cluster(data), cert=cert, key=key)
    kubeconfig = d / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "lab",
                "clusters": [
                    {
                        "name": "lab",
                        "cluster": {
                            "server": f"https://127.0.0.1:{server.server_address[1]}",
                            "certificate-authority": str(ca),
                        },
                    }
                ],
                "users": [{"name": "scanner", "user": {"token": tokens["scanner"]}}],
                "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "scanner"}}],
            }
        )
    )
    yield {"kubeconfig": kubeconfig, "nodes": nodes, "dir": d}
    server.shutdown()
    server.server_close()


def test_kubeconfig_nodes_become_hosts_that_lint(cluster, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "name": "caas",
                "defaults": {"ssh": {"user": "preuve-audit"}},
                "sites": [{"name": "paris", "country": "FR"}],
                "zones": [
                    {"name": "admin", "kind": "admin", "cidrs": ["10.10.0.0/24"]},
                    {"name": "production", "kind": "production", "cidrs": ["10.20.0.0/16"]},
                ],
                "kubernetes": {
                    "zone": "production",
                    "site": "paris",
                    "labels": {"node-role.kubernetes.io/control-plane": {"zone": "admin", "tags": ["control-plane"]}},
                },
            }
        )
    )
    out = tmp_path / "nodes.yaml"
    proc = preuve("import", "kubeconfig", cluster["kubeconfig"], "--rules", rules, "-o", out)
    assert proc.returncode == 0, proc.stderr
    hosts = yaml.safe_load(out.read_text())["hosts"]
    names = [n["metadata"]["name"] for n in cluster["nodes"]]
    assert [h["name"] for h in hosts] == sorted(names[:-1])
    assert f"node {names[-1]} skipped: no InternalIP" in proc.stderr
    cp = next(h for h in hosts if h["name"] == names[0])
    assert cp["zone"] == "admin" and "control-plane" in cp["tags"] and cp["address"] == "10.20.0.10"
    other = next(h for h in hosts if h["name"] == names[1])
    assert other["zone"] == "production" and other["tags"] == ["kubernetes-node"]
    assert preuve("lint", "-i", out, "-p", FULL_PROFILE).returncode == 0


def test_kubeconfig_that_cannot_list_nodes_says_why(cluster, tmp_path):
    bad = tmp_path / "kubeconfig"
    text = cluster["kubeconfig"].read_text()
    bad.write_text(text.replace("current-context: lab", "current-context: nowhere"))
    proc = preuve("import", "kubeconfig", bad, "-o", tmp_path / "o.yaml")
    assert proc.returncode == 3 and f"{bad}: cannot list the cluster's nodes" in proc.stderr, proc.stderr
