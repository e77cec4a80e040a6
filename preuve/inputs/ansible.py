"""Import hosts from an Ansible inventory (INI, YAML, or `ansible-inventory --list` JSON) or from the nodes of a
Kubernetes cluster, into a preuve inventory that `preuve lint` accepts.

What is taken from Ansible: the inventory hostname (`name`), `ansible_host` (`address`, else the hostname),
`ansible_user`/`ansible_ssh_user`, `ansible_port`/`ansible_ssh_port`, `ansible_ssh_private_key_file` (`ssh.key_file`),
and the groups. Variables follow Ansible's precedence (all < parent groups < child groups < host). Never taken:
passwords (`ansible_password`, `ansible_ssh_pass`, `ansible_become_pass`: preuve takes secrets by reference, a warning
says so); hosts with `ansible_connection` other than ssh/smart/paramiko are skipped with a warning.

Where a host goes comes from a small rules file (`--rules`), validated like every input:

    name: acme-prod                 # the inventory's name (scope)
    defaults: {ssh: {known_hosts: inventories/known_hosts.acme}}   # copied as is
    sites: [{name: paris-dc2, country: FR}]                         # copied as is
    zones: [{name: dmz, kind: dmz, cidrs: [192.0.2.0/24]}]           # copied as is
    groups:                         # Ansible group (glob) -> placement
      web*: {zone: dmz, site: paris-dc2, tags: [web]}
      db: {zone: production}
    group_tags: true                # each Ansible group becomes a tag (default)
    kubernetes:                     # for `preuve import kubeconfig`
      zone: production
      labels: {"node-role.kubernetes.io/control-plane": {zone: admin, tags: [control-plane]}}

Decisions: two rules that place one host in different zones (or sites) are an error naming both rules, never a
silent first-wins; a host no rule places gets the zone whose CIDR holds its address (when it is an IP address).
Every error names the file and line where the offending value was written (the inventory or the rules file).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from preuve.inputs.errors import InputError, InputProblem
from preuve.inputs.source import Located, load_yaml, read_input, validate

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SECRET_VARS = (
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_become_pass",
    "ansible_become_password",
    "ansible_ssh_password",
)
SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh")
IMPLICIT = ("all", "ungrouped")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Placement(_Strict):
    zone: str | None = None
    site: str | None = None
    tags: list[str] = []


class KubeRules(_Strict):
    zone: str | None = None
    site: str | None = None
    tags: list[str] = ["kubernetes-node"]
    ssh: dict[str, Any] | None = Field(None, description="ssh section of every node (user, key_file, jump…)")
    labels: dict[str, Placement] = Field({}, description="'key' (label present) or 'key=value' -> placement")


class ImportRules(_Strict):
    name: str = Field("imported", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    defaults: dict[str, Any] | None = None
    sites: list[dict[str, Any]] = []
    zones: list[dict[str, Any]] = []
    groups: dict[str, Placement] = {}
    group_tags: bool = True
    kubernetes: KubeRules = KubeRules()


@dataclass
class Var:
    value: Any
    file: Path
    line: int | None


@dataclass
class Group:
    name: str
    vars: dict[str, Var] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    line: int | None = None


@dataclass
class AHost:
    name: str
    file: Path
    line: int | None
    vars: dict[str, Var] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    hosts: dict[str, AHost] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)

    def group(self, name: str, line: int | None = None) -> Group:
        g = self.groups.setdefault(name, Group(name, line=line))
        return g

    def host(self, name: str, file: Path, line: int | None, group: str) -> AHost:
        h = self.hosts.get(name)
        if h is None:
            h = self.hosts[name] = AHost(name, file, line)
        if group not in h.groups:
            h.groups.append(group)
        return h


# --- INI ---------------------------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[([^\]\s:]+)(?::(vars|children))?\]\s*(?:[#;].*)?$")
_RANGE = re.compile(r"\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\]")


def expand_range(pattern: str) -> list[str]:
    """Ansible's host ranges: web[01:03].x -> web01.x web02.x web03.x; db-[a:c]; a stride after a second colon."""
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    start, end, stride = m.group(1), m.group(2), int(m.group(3) or 1)
    if start.isdigit() and end.isdigit():
        if int(start) > int(end) or stride < 1:
            raise ValueError(f"host range [{start}:{end}] is empty (start after end)")
        width = len(start) if start.startswith("0") else 0
        values = [str(i).zfill(width) for i in range(int(start), int(end) + 1, stride)]
    elif len(start) == len(end) == 1 and start.isalpha() and end.isalpha():
        if start > end or stride < 1:
            raise ValueError(f"host range [{start}:{end}] is empty (start after end)")
        values = [chr(c) for c in range(ord(start), ord(end) + 1, stride)]
    else:
        raise ValueError(f"host range [{start}:{end}]: both bounds numbers, or both single letters")
    out = []
    for v in values:
        out += expand_range(pattern[: m.start()] + v + pattern[m.end() :])
    return out


def _ini_value(text: str) -> Any:
    """Host-line values as Ansible reads them: Python literals where they parse (numbers, booleans), else text."""
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, int | float | bool | str) else text


def parse_ini(path: Path, text: str) -> Parsed:
    p = Parsed()
    section, kind = "ungrouped", "hosts"
    p.group("all")
    p.group("ungrouped")

    def bad(n: int, msg: str) -> None:
        p.problems.append(InputProblem(path, n, "", msg))

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            m = _SECTION.match(line)
            if not m:
                bad(n, f"malformed section header {line!r}: expected [group], [group:vars] or [group:children]")
                section, kind = "", "skip"
                continue
            section, kind = m.group(1), m.group(2) or "hosts"
            p.group(section, n)
            continue
        if kind == "skip":
            continue
        if kind == "children":
            name = line.split()[0]
            if not NAME.match(name):
                bad(n, f"[{section}:children]: {name!r} is not a group name")
                continue
            p.group(name, p.groups.get(name, Group(name)).line or n)
            p.groups[section].children.append(name)
            continue
        if kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                bad(n, f"[{section}:vars]: expected key=value, got {line!r}")
                continue
            p.groups[section].vars[key.strip()] = Var(value.strip(), path, n)
            continue
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            bad(n, f"cannot split the host line: {exc}")
            continue
        pattern, host_vars, ok = tokens[0], {}, True
        for tok in tokens[1:]:
            key, eq, value = tok.partition("=")
            if not eq or not key:
                bad(n, f"host {pattern}: expected key=value host variable, got {tok!r}")
                ok = False
                break
            host_vars[key] = Var(_ini_value(value), path, n)
        if not ok:
            continue
        port = None
        if re.match(r"^[^\[\]:]+:\d+$", pattern):  # host:2222 (not an IPv6 address, not a range)
            pattern, port = pattern.rsplit(":", 1)
        try:
            names = expand_range(pattern)
        except ValueError as exc:
            bad(n, f"{pattern}: {exc}")
            continue
        for name in names:
            h = p.host(name, path, n, section)
            if port is not None:
                h.vars["ansible_port"] = Var(int(port), path, n)
            h.vars.update(host_vars)
    return p


# --- YAML and `ansible-inventory --list` JSON ---------------------------------------------------------------------


def _yaml_group(p: Parsed, loc: Located, name: str, body: Any, where: tuple) -> None:
    line = loc.line_of(where)
    if not NAME.match(str(name)):
        p.problems.append(InputProblem(loc.path, line, "", f"{name!r} is not a group name"))
        return
    g = p.group(str(name), line)
    if body is None:
        return
    if not isinstance(body, dict):
        p.problems.append(InputProblem(loc.path, line, name, "a group is a mapping with hosts, vars, children"))
        return
    for key in body:
        if key not in ("hosts", "vars", "children"):
            p.problems.append(
                InputProblem(
                    loc.path,
                    loc.line_of((*where, key)),
                    f"{name}.{key}",
                    "unknown key: a group has hosts, vars and children",
                )
            )
    hosts = body.get("hosts") or {}
    if not isinstance(hosts, dict):
        p.problems.append(
            InputProblem(
                loc.path,
                loc.line_of((*where, "hosts")),
                f"{name}.hosts",
                "hosts is a mapping (host name: its variables or nothing), not a list",
            )
        )
        hosts = {}
    for hname, hvars in hosts.items():
        hwhere = (*where, "hosts", hname)
        if hvars is not None and not isinstance(hvars, dict):
            p.problems.append(
                InputProblem(
                    loc.path,
                    loc.line_of(hwhere),
                    f"{name}.hosts.{hname}",
                    "a host's value is a mapping of its variables",
                )
            )
            continue
        try:
            names = expand_range(str(hname))
        except ValueError as exc:
            p.problems.append(InputProblem(loc.path, loc.line_of(hwhere), f"{name}.hosts", f"{hname}: {exc}"))
            continue
        for hn in names:
            h = p.host(hn, loc.path, loc.line_of(hwhere), g.name)
            for k, v in (hvars or {}).items():
                h.vars[k] = Var(v, loc.path, loc.line_of((*hwhere, k)))
    gvars = body.get("vars") or {}
    if not isinstance(gvars, dict):
        p.problems.append(InputProblem(loc.path, loc.line_of((*where, "vars")), f"{name}.vars", "vars is a mapping"))
        gvars = {}
    for k, v in gvars.items():
        g.vars[k] = Var(v, loc.path, loc.line_of((*where, "vars", k)))
    children = body.get("children") or {}
    if isinstance(children, list):  # the --list JSON form: names only
        for i, child in enumerate(children):
            p.group(str(child), loc.line_of((*where, "children", i)))
            g.children.append(str(child))
        return
    if not isinstance(children, dict):
        p.problems.append(
            InputProblem(
                loc.path, loc.line_of((*where, "children")), f"{name}.children", "children is a mapping of groups"
            )
        )
        return
    for child, cbody in children.items():
        _yaml_group(p, loc, child, cbody, (*where, "children", child))
        g.children.append(str(child))


def parse_structured(loc: Located) -> Parsed:
    p = Parsed()
    p.group("all")
    p.group("ungrouped")
    data = loc.data
    if not isinstance(data, dict):
        raise InputError([InputProblem(loc.path, 1, "", "an Ansible inventory is a mapping of groups")])
    meta = data.get("_meta")
    for name, body in data.items():
        if name == "_meta":
            continue
        if isinstance(body, list):  # --list JSON: a group may be a plain list of hosts
            body = {"hosts": body}
        if isinstance(body, dict) and isinstance(body.get("hosts"), list) and meta is not None:
            body = {**body, "hosts": {h: None for h in body["hosts"]}}  # hosts' vars are in _meta.hostvars
        _yaml_group(p, loc, name, body, (name,))
    if isinstance(meta, dict):
        for hname, hvars in (meta.get("hostvars") or {}).items():
            where = ("_meta", "hostvars", hname)
            if hname not in p.hosts:
                p.host(hname, loc.path, loc.line_of(where), "ungrouped")
            if not isinstance(hvars, dict):
                p.problems.append(
                    InputProblem(
                        loc.path, loc.line_of(where), f"_meta.hostvars.{hname}", "a host's variables are a mapping"
                    )
                )
                continue
            for k, v in hvars.items():
                p.hosts[hname].vars[k] = Var(v, loc.path, loc.line_of((*where, k)))
    return p


def parse_file(path: Path) -> Parsed:
    """Whichever form the file has: JSON (`ansible-inventory --list`), YAML, else INI."""
    raw = read_input(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError([InputProblem(path, None, "", "not UTF-8 text")]) from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError([InputProblem(path, exc.lineno, "", f"JSON syntax error: {exc.msg}")]) from None
        parsed = parse_structured(load_yaml(path))
    elif path.suffix in (".yaml", ".yml") or re.match(r"^(---|all\s*:|[A-Za-z0-9_-]+\s*:\s*$)", stripped):
        parsed = parse_structured(load_yaml(path))
    else:
        parsed = parse_ini(path, text)
    if parsed.problems:
        raise InputError(parsed.problems)
    return parsed


# --- from Ansible's model to preuve's -----------------------------------------------------------------------------


def _ancestors(parsed: Parsed) -> tuple[dict[str, set[str]], dict[str, int]]:
    """For each group, itself and its ancestors; and each group's depth below `all` (Ansible applies group vars
    shallowest first, then by name)."""
    parents: dict[str, set[str]] = {g: set() for g in parsed.groups}
    for g in parsed.groups.values():
        for c in g.children:
            parents.setdefault(c, set()).add(g.name)
    depth: dict[str, int] = {}

    def d(name: str, seen: frozenset = frozenset()) -> int:
        if name in depth:
            return depth[name]
        if name in seen:
            return 0  # a cycle: Ansible refuses it too; depth 0 keeps us finite
        depth[name] = 1 + max((d(p, seen | {name}) for p in parents.get(name, ())), default=0)
        return depth[name]

    out = {}
    for g in parents:
        chain, todo = set(), [g]
        while todo:
            x = todo.pop()
            if x not in chain:
                chain.add(x)
                todo += parents.get(x, ())
        out[g] = chain | {"all"}
    for g in parents:
        d(g)
    depth["all"] = 0
    return out, depth


@dataclass
class Imported:
    data: dict[str, Any]
    warnings: list[str]


def _placement(
    host: str,
    groups: list[str],
    rules: ImportRules,
    rules_loc: Located | None,
    problems: list[InputProblem],
    origin: tuple[Path, int | None],
) -> tuple[str | None, str | None, list]:
    zone = site = None
    zone_from = site_from = ""
    tags: list[str] = []
    for pattern, place in rules.groups.items():
        matched = [g for g in groups if fnmatch.fnmatchcase(g, pattern)]
        if not matched:
            continue
        line = rules_loc.line_of(("groups", pattern)) if rules_loc else None
        here = f"{rules_loc.path}:{line} ({pattern})" if rules_loc else pattern
        for attr, current, source in (("zone", zone, zone_from), ("site", site, site_from)):
            value = getattr(place, attr)
            if value is None:
                continue
            if current is not None and current != value:
                problems.append(
                    InputProblem(
                        origin[0],
                        origin[1],
                        host,
                        f"groups {', '.join(groups)} place this host "
                        f"in {attr} {current} ({source}) and {value} ({here}): give one rule",
                    )
                )
                continue
            if attr == "zone":
                zone, zone_from = value, here
            else:
                site, site_from = value, here
        tags += [t for t in place.tags if t not in tags]
    return zone, site, tags


def _zone_by_address(address: str, rules: ImportRules) -> str | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for z in rules.zones:
        for c in z.get("cidrs") or []:
            try:
                if ip in ipaddress.ip_network(c, strict=False):
                    return z.get("name")
            except ValueError:
                continue
    return None


def _frame(rules: ImportRules) -> dict[str, Any]:
    data: dict[str, Any] = {"version": 1, "name": rules.name}
    if rules.defaults:
        data["defaults"] = rules.defaults
    if rules.sites:
        data["sites"] = rules.sites
    if rules.zones:
        data["zones"] = rules.zones
    return data


def _host_entry(
    name: str, address: str, zone: str | None, site: str | None, tags: list[str], ssh: dict[str, Any]
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "address": address}
    if zone:
        entry["zone"] = zone
    if site:
        entry["site"] = site
    if tags:
        entry["tags"] = tags
    if ssh:
        entry["ssh"] = ssh
    return entry


def _check_refs(
    data: dict[str, Any], rules: ImportRules, rules_loc: Located | None, problems: list[InputProblem]
) -> None:
    """Zones and sites the rules name must be declared in the rules (else the output would not lint)."""
    zones = {z.get("name") for z in rules.zones}
    sites = {s.get("name") for s in rules.sites}
    places = [(("groups", k), v) for k, v in rules.groups.items()]
    places += [(("kubernetes", "labels", k), v) for k, v in rules.kubernetes.labels.items()]
    places.append((("kubernetes",), rules.kubernetes))
    for where, place in places:
        for attr, known in (("zone", zones), ("site", sites)):
            value = getattr(place, attr)
            if value is not None and value not in known:
                problems.append(
                    InputProblem(
                        rules_loc.path if rules_loc else Path("rules"),
                        rules_loc.line_of((*where, attr)) if rules_loc else None,
                        ".".join(map(str, (*where, attr))),
                        f"{attr} {value!r} is not declared in the rules' {attr}s "
                        f"({', '.join(sorted(map(str, known))) or 'none'})",
                    )
                )


def load_rules(path: Path | None) -> tuple[ImportRules, Located | None]:
    if path is None:
        return ImportRules(), None
    loc = load_yaml(Path(path))
    if loc.data is None:
        return ImportRules(), loc
    return validate(loc, ImportRules), loc


def convert(parsed: Parsed, rules: ImportRules, rules_loc: Located | None) -> Imported:
    from preuve.inputs.inventory import _check_address

    problems: list[InputProblem] = []
    _check_refs({}, rules, rules_loc, problems)
    warnings: list[str] = []
    chains, depth = _ancestors(parsed)
    data = _frame(rules)
    hosts = []
    for name in sorted(parsed.hosts):
        h = parsed.hosts[name]
        direct = [g for g in h.groups if g in parsed.groups]
        order = sorted(
            set().union(*(chains.get(g, {g, "all"}) for g in direct)) if direct else {"all"},
            key=lambda x: (depth.get(x, 1), x),
        )
        merged: dict[str, Var] = {}
        for g in order:
            merged.update(parsed.groups[g].vars if g in parsed.groups else {})
        merged.update(h.vars)

        def bad(var: str, msg: str, h: AHost = h, merged: dict[str, Var] = merged) -> None:
            v = merged.get(var)
            problems.append(
                InputProblem(v.file if v else h.file, v.line if v else h.line, var, f"host {h.name}: {msg}")
            )

        conn = str(merged["ansible_connection"].value) if "ansible_connection" in merged else "ssh"
        if conn not in SSH_CONNECTIONS:
            warnings.append(
                f"{h.file}:{h.line}: host {name} skipped: ansible_connection={conn} (preuve logs in over SSH)"
            )
            continue
        for secret in SECRET_VARS:
            if secret in merged:
                v = merged[secret]
                warnings.append(
                    f"{v.file}:{v.line}: host {name}: {secret} not imported (preuve takes secrets by "
                    "reference: ssh.password: {env: VAR} or {file: /path})"
                )
        if not NAME.match(name):
            problems.append(
                InputProblem(
                    h.file,
                    h.line,
                    "",
                    f"host name {name!r}: preuve names are letters, digits, "
                    "'.', '_' and '-', starting with a letter or digit",
                )
            )
            continue
        address = str(merged["ansible_host"].value) if "ansible_host" in merged else name
        try:
            _check_address(address)
        except ValueError as exc:
            bad("ansible_host", f"{address!r} is not an address: {exc}")
            continue
        ssh: dict[str, Any] = {}
        for var in ("ansible_user", "ansible_ssh_user"):
            if var in merged:
                ssh["user"] = str(merged[var].value)
        for var in ("ansible_port", "ansible_ssh_port"):
            if var in merged:
                value = merged[var].value
                try:
                    port = int(str(value))
                except ValueError:
                    bad(var, f"port {value!r} is not a number")
                    break
                if not 1 <= port <= 65535:
                    bad(var, f"port {port} is outside 1-65535")
                    break
                ssh["port"] = port
        if "ansible_ssh_private_key_file" in merged:
            ssh["key_file"] = str(merged["ansible_ssh_private_key_file"].value)
        groups = [g for g in order if g not in IMPLICIT]
        zone, site, tags = _placement(name, groups, rules, rules_loc, problems, (h.file, h.line))
        zone = zone or _zone_by_address(address, rules)
        if rules.group_tags:
            tags += [g for g in groups if g not in tags]
        hosts.append(_host_entry(name, address, zone, site, tags, ssh))
    data["hosts"] = hosts
    if problems:
        raise InputError(problems)
    return Imported(data, warnings)


def import_ansible(path: Path, rules_path: Path | None = None) -> Imported:
    rules, rules_loc = load_rules(rules_path)
    return convert(parse_file(Path(path)), rules, rules_loc)


# --- Kubernetes nodes -----------------------------------------------------------------------------------------------


def _label_matches(selector: str, labels: dict[str, str]) -> bool:
    key, eq, value = selector.partition("=")
    return key in labels and (not eq or labels[key] == value)


def import_kubeconfig(kubeconfig: Path, context: str | None, rules_path: Path | None) -> Imported:
    """The cluster's nodes as hosts (name, InternalIP), placed by the rules' `kubernetes` section."""
    from kubernetes import config

    rules, rules_loc = load_rules(rules_path)
    problems: list[InputProblem] = []
    _check_refs({}, rules, rules_loc, problems)
    if problems:
        raise InputError(problems)
    try:
        api = config.new_client_from_config(config_file=str(kubeconfig), context=context)
        # Raw JSON, not the generated models: they refuse nodes whose status lacks fields a real kubelet fills.
        req = api.param_serialize(
            "GET", "/api/v1/nodes", header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
        )
        resp = api.call_api(*req, _request_timeout=15)
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status} on /api/v1/nodes")
        nodes = json.loads(body).get("items") or []
    except Exception as exc:  # unreadable kubeconfig, unknown context, API refused: say which, never a traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(
            [
                InputProblem(
                    Path(kubeconfig), None, "", f"cannot list the cluster's nodes: {type(exc).__name__}: {first}"
                )
            ]
        ) from None
    k = rules.kubernetes
    data = _frame(rules)
    hosts, warnings = [], []
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        name, labels = node["metadata"]["name"], node["metadata"].get("labels") or {}
        addresses = {a.get("type"): a.get("address") for a in (node.get("status") or {}).get("addresses") or []}
        address = addresses.get("InternalIP") or addresses.get("ExternalIP")
        if not address:
            warnings.append(f"node {name} skipped: no InternalIP or ExternalIP in its status")
            continue
        zone, site, tags = k.zone, k.site, list(k.tags)
        for selector, place in k.labels.items():
            if _label_matches(selector, labels):
                zone, site = place.zone or zone, place.site or site
                tags += [t for t in place.tags if t not in tags]
        zone = zone or _zone_by_address(address, rules)
        hosts.append(_host_entry(name, address, zone, site, tags, dict(k.ssh or {})))
    data["hosts"] = hosts
    return Imported(data, warnings)


def dump(imported: Imported, source: str) -> str:
    import yaml

    head = (
        f"# Imported by `preuve import` from {source}. Check it with:\n"
        "#   preuve lint -i THIS_FILE -p PROFILE\n"
        "# Passwords are never imported: give them by reference (ssh.password: {env: VAR}).\n"
    )
    return head + yaml.safe_dump(imported.data, sort_keys=False, allow_unicode=True, width=120)


def cmd_import(a: Any) -> int:
    import sys

    from preuve.exitcodes import Exit

    try:
        if a.kind == "ansible":
            imported = import_ansible(Path(a.source), Path(a.rules) if a.rules else None)
        else:
            imported = import_kubeconfig(Path(a.source), a.context, Path(a.rules) if a.rules else None)
    except InputError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing written", file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    for w in imported.warnings:
        print(f"warning: {w}", file=sys.stderr)
    text = dump(imported, a.source)
    if a.out in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(a.out).write_text(text)
        print(f"{len(imported.data['hosts'])} host(s) written to {a.out}", file=sys.stderr)
    return 0
