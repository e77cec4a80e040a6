"""The flow matrix (13.1.a): which zone may open which port to which zone or host, and why. Default deny.

Ops teams keep it in YAML or in a spreadsheet exported as CSV; both load into the same `FlowMatrix`, and every
problem names the file and the line (the CSV line, header included, for a spreadsheet). Lint is split in two:
structural problems (unknown zone, bad port, duplicate id, ...) stop a run like any input error; a missing
justification stops `preuve lint` but lets `preuve run` proceed so that the NET-FLOW-JUSTIFIED check reports it.
"""

import csv
import datetime as dt
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from preuve.inputs.errors import InputError, InputProblem, field_path
from preuve.inputs.source import Located, bad_char, load_yaml, read_input, validate

Proto = Literal["tcp", "udp", "icmp"]
CSV_COLUMNS = ("id", "src", "dst", "dst_hosts", "proto", "ports", "service", "justification", "owner")

# Ports an attacker tries first; probed on every (vantage, destination host) the matrix does not open.
SENTINEL_TCP = [
    21,
    22,
    23,
    80,
    443,
    445,
    623,
    1433,
    2375,
    2379,
    2380,
    3306,
    3389,
    5432,
    5900,
    5985,
    5986,
    6379,
    6443,
    8080,
    8443,
    9100,
    9200,
    10250,
    10255,
    27017,
]
SENTINEL_UDP = [53, 123, 161, 623]
# A CSV matrix declares its last review (13.1.b) in a row whose first cell is "# reviewed_on: 2026-12-05".
REVIEWED_ROW = re.compile(r"#\s*reviewed_on\s*[:=]\s*(\S+)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def parse_ports(value: Any) -> list[tuple[int, int]]:
    """[22, "8000-8100", "443"] or "22;443;8000-8100" -> [(22, 22), (443, 443), (8000, 8100)]."""
    items = re.split(r"[;, ]+", value.strip()) if isinstance(value, str) else list(value or [])
    out = []
    for item in items:
        if item in ("", None):
            continue
        text = str(item).strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
        if not m:
            raise ValueError(f"bad port {text!r}: expected a number or a range such as 8000-8100")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
            raise ValueError(f"port {text!r} outside 1-65535")
        if lo > hi:
            raise ValueError(f"port range {text!r} is reversed")
        out.append((lo, hi))
    return out


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[;, ]+", value.strip()) if v]
    return [str(v) for v in value or []]


class Flow(Strict):
    """One allowed flow. `dst` names zones; `dst_hosts` (addresses or inventory names) narrows or replaces it."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    src: list[str] = Field(min_length=1)
    dst: list[str] = []
    dst_hosts: list[str] = []
    proto: Proto
    ports: list[tuple[int, int]] = []
    service: str = ""
    justification: str = ""
    owner: str = ""

    @field_validator("src", "dst", "dst_hosts", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _names(v)

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, v: Any) -> list[tuple[int, int]]:
        return parse_ports(v)

    def port_set(self) -> set[int]:
        return {p for lo, hi in self.ports for p in range(lo, hi + 1)}


Port = Annotated[int, Field(ge=1, le=65535)]


class Sentinels(Strict):
    tcp: list[Port] = SENTINEL_TCP
    udp: list[Port] = SENTINEL_UDP


class Probing(Strict):
    """How probes are sent (operational, so it lives with the matrix rather than in the profile)."""

    timeout: float = Field(1.0, gt=0, le=30, description="seconds to wait for a reply after the last send")
    retries: int = Field(1, ge=0, le=5, description="re-sends of a probe that stayed silent")
    rate: float = Field(5000.0, gt=0, description="probes sent per second and per vantage point")
    workers: int = Field(64, ge=1, le=1024, description="connect() probes in flight (no-root and SSH vantages)")
    full_range: bool = Field(False, description="negative probes on every TCP port 1-65535 (nightly sweeps)")
    wide_range: int = Field(16, ge=1, description="a flow with more ports than this is sampled, not enumerated")
    sweep_ports: list[int] = Field(
        [22, 80, 443, 2379, 3389, 5900, 6443, 8443, 9100],
        description="TCP ports of the live-host sweep of each vantage's zone subnets (8.1.a, NET-UNDECLARED-HOSTS)",
    )
    sweep_max_addresses: int = Field(
        4096, ge=1, le=65536, description="addresses one vantage sweeps at most (a larger zone: error, not a sample)"
    )


class FlowMatrixFile(Strict):
    version: Literal[1] = 1
    default: Literal["deny"] = "deny"
    sentinel_ports: Sentinels = Sentinels()
    probing: Probing = Probing()
    probe_hosts: dict[str, list[str]] = Field(
        {}, description="zone -> extra addresses to probe (hosts the inventory does not log in to)"
    )
    reviewed_on: dt.date | None = Field(
        None, description="date of the last review of the mapping this matrix belongs to (13.1.b: at least yearly)"
    )
    flows: list[Flow] = []

    @field_validator("probe_hosts")
    @classmethod
    def _addresses(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for zone, hosts in v.items():
            for h in hosts:
                try:
                    ipaddress.ip_address(h)
                except ValueError:
                    shown = repr(h) if len(h) <= 60 else "a long text"
                    raise ValueError(f"probe_hosts.{zone}: {shown} is not an IP address") from None
        return v


@dataclass
class FlowMatrix:
    """A loaded matrix, with where each flow was written (for findings: 'matrix line')."""

    path: Path
    sha256: str
    spec: FlowMatrixFile
    lines: dict[str, int] = field(default_factory=dict)  # flow id -> line

    @property
    def flows(self) -> list[Flow]:
        return self.spec.flows

    def where(self, flow_id: str) -> str:
        return f"{self.path.name}:{self.lines.get(flow_id, '?')}"


def _load_csv(path: Path) -> tuple[Located, list[InputProblem]]:
    """A CSV export: one flow per row (header row required); line numbers are the file's lines."""
    raw = read_input(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([InputProblem(path, None, "", "cannot read CSV: not UTF-8 text")]) from None
    reader = csv.DictReader(text.splitlines(), skipinitialspace=True)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise InputError([InputProblem(path, 1, "", f"CSV syntax error: {exc}")]) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown or not header:
        # named only when they look like column names: a file passed by mistake must not be echoed
        shown = [h for h in unknown if re.fullmatch(r"[A-Za-z_ ]{1,30}", h)]
        what = f"unknown CSV columns {shown}" if shown and len(shown) == len(unknown) else "not a flow matrix CSV"
        raise InputError([InputProblem(path, 1, "", f"{what}; expected the header {list(CSV_COLUMNS)}")])
    flows, lines = [], {("flows",): 2}
    reviewed: str | None = None
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte...
            raise InputError([InputProblem(path, reader.line_num + 1, "", f"CSV syntax error: {exc}")]) from None
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for k, v in clean.items():
            if (c := bad_char(v)) is not None:
                raise InputError([InputProblem(path, reader.line_num, k, f"control character {c} in a value")])
        if m := REVIEWED_ROW.fullmatch(clean.get("id", "")):
            reviewed = m.group(1)  # a spreadsheet has no header block: its review date is a comment row
            lines[("reviewed_on",)] = reader.line_num
            continue
        if not any(clean.values()) or clean.get("id", "").startswith("#"):
            continue
        n = len(flows)
        line = reader.line_num
        lines[("flows", n)] = line
        for col in CSV_COLUMNS:
            lines[("flows", n, col)] = line
        flows.append({k: v for k, v in clean.items() if v != "" or k in ("justification",)})
    data: dict[str, Any] = {"flows": flows}
    if reviewed is not None:
        data["reviewed_on"] = reviewed
    return Located(path=path, data=data, lines=lines, sha256=hashlib.sha256(raw).hexdigest()), []


def load_matrix(path: Path | str) -> FlowMatrix:
    """Parse and validate the matrix file alone; a bad flow is set aside in `problems` so that lint can report
    it together with every other problem (zones are checked against the inventory by `lint`)."""
    path = Path(path)
    located = _load_csv(path)[0] if path.suffix.lower() == ".csv" else load_yaml(path)
    if not isinstance(located.data, dict) or "flows" not in located.data:
        raise InputError(
            [
                InputProblem(
                    path,
                    1,
                    "",
                    "not a flow matrix: expected a mapping with a 'flows' list "
                    "(`flows: []` for a matrix that allows nothing)",
                )
            ]
        )
    data = located.data
    raw_flows = data.get("flows") or []
    if not isinstance(raw_flows, list):
        raise InputError(
            [
                InputProblem(
                    path,
                    located.line_of(("flows",)),
                    "flows",
                    f"expected a list of flows (- id: ...), got a {type(raw_flows).__name__}: "
                    "nothing would be allowed, and nothing said",
                )
            ]
        )
    head = Located(
        path=path,
        data={**data, "flows": []} if located.data is not None else None,
        lines=located.lines,
        sha256=located.sha256,
    )
    spec = validate(head, FlowMatrixFile)
    flows, problems, lines, positions = [], [], {}, []
    for i, item in enumerate(raw_flows):
        try:
            flow = validate(
                Located(
                    path, item, {k[2:]: v for k, v in located.lines.items() if k[:2] == ("flows", i)}, located.sha256
                ),
                Flow,
            )
        except InputError as exc:
            for pr in exc.problems:
                loc = f"flows[{i}]" + (f".{pr.field}" if pr.field else "")
                problems.append(InputProblem(path, pr.line or located.line_of(("flows", i)), loc, pr.message))
            continue
        flows.append(flow)
        positions.append(i)
        lines.setdefault(flow.id, located.line_of(("flows", i)) or 0)
    spec = spec.model_copy(update={"flows": flows})
    matrix = FlowMatrix(path=path, sha256=located.sha256, spec=spec, lines=lines)
    matrix._located = located  # type: ignore[attr-defined]
    matrix._problems = problems  # type: ignore[attr-defined]
    matrix._positions = positions  # type: ignore[attr-defined]
    return matrix


def lint(matrix: FlowMatrix, inv: Any) -> tuple[list[InputProblem], list[InputProblem]]:
    """(blocking problems, justification problems) of a matrix against the inventory's zones and hosts."""
    located: Located = matrix._located  # type: ignore[attr-defined]
    hard: list[InputProblem] = []
    soft: list[InputProblem] = []

    def add(bucket: list[InputProblem], loc: tuple, msg: str) -> None:
        bucket.append(InputProblem(matrix.path, located.line_of(loc), field_path(loc), msg))

    hard += matrix._problems  # type: ignore[attr-defined]
    zones = {z.name for z in inv.zones}
    known_hosts = {h.name for h in inv.hosts} | {h.address for h in inv.hosts}
    seen: dict[str, int] = {}
    for i, f in zip(matrix._positions, matrix.flows, strict=True):  # type: ignore[attr-defined]
        if f.id in seen:
            add(hard, ("flows", i, "id"), f"duplicate flow id {f.id!r} (first at line {seen[f.id]})")
        seen.setdefault(f.id, located.line_of(("flows", i)) or 0)
        for key, names in (("src", f.src), ("dst", f.dst)):
            for z in names:
                if z not in zones:
                    add(hard, ("flows", i, key), f"unknown zone {z!r}; declared zones: {sorted(zones) or 'none'}")
        if not f.dst and not f.dst_hosts:
            add(hard, ("flows", i, "dst"), "give a destination zone (dst) or destination hosts (dst_hosts)")
        for h in f.dst_hosts:
            try:
                ipaddress.ip_address(h)
            except ValueError:
                if h not in known_hosts:
                    add(hard, ("flows", i, "dst_hosts"), f"{h!r} is neither an address nor an inventory host")
        if f.proto == "icmp" and f.ports:
            add(hard, ("flows", i, "ports"), "icmp flows take no ports")
        if f.proto != "icmp" and not f.ports:
            add(hard, ("flows", i, "ports"), f"{f.proto} flow without ports")
        if not f.justification.strip():
            add(soft, ("flows", i, "justification"), f"flow {f.id} has no justification (13.1.a requires one)")
    today = dt.datetime.now(dt.UTC).date()
    if matrix.spec.reviewed_on is not None and matrix.spec.reviewed_on > today:
        when = matrix.spec.reviewed_on.isoformat()
        add(hard, ("reviewed_on",), f"{when} is in the future (today is {today.isoformat()} UTC)")
    for z in matrix.spec.probe_hosts:
        if z not in zones:
            add(hard, ("probe_hosts", z), f"unknown zone {z!r}; declared zones: {sorted(zones) or 'none'}")
    return hard, soft


INPUTS_INDEX = "index.json"  # in a run's inputs/: where each input named by the inventory was copied


def matrix_path(inventory_path: Path | str, inv: Any) -> Path | None:
    """The matrix file: `flow_matrix` is relative to the inventory file (absolute once the inventory is loaded).

    An inventory recorded in a run (`RUN/inputs/inventory.yaml`, byte for byte as given) names its matrix as the
    operator wrote it, perhaps `../../x.yaml`; the run keeps the matrix under a content-addressed name inside
    inputs/ and `inputs/index.json` says which, so a replay reads the recorded copy and never a file outside
    the run."""
    if not inv.flow_matrix:
        return None
    here = Path(inventory_path).resolve().parent
    recorded = recorded_input(here, "flow_matrix", inv.flow_matrix)
    return recorded or (here / Path(inv.flow_matrix).expanduser()).resolve()


def recorded_input(inputs_dir: Path, key: str, as_written: str) -> Path | None:
    """The copy of an input recorded in a run's inputs/ (None outside a run, or for another value)."""
    import json

    index = inputs_dir / INPUTS_INDEX
    if not index.is_file():
        return None
    try:
        entry = json.loads(index.read_text()).get(key) or {}
    except (OSError, ValueError, AttributeError):
        return None
    copy = entry.get("copy") if isinstance(entry, dict) and entry.get("as_written") == as_written else None
    if not isinstance(copy, str) or Path(copy).is_absolute() or ".." in Path(copy).parts:
        return None
    return inputs_dir / copy


def network_checks(inv: Any, inventory_path: Path, add: Any) -> list[InputProblem]:
    """Inventory cross-checks for segmentation: vantage points, then the matrix's blocking problems."""
    zones = {z.name for z in inv.zones}
    host_names = {h.name for h in inv.hosts}
    for i, v in enumerate(inv.vantage_points):
        if v.zone not in zones:
            add(("vantage_points", i, "zone"), f"unknown zone {v.zone!r}; declared zones: {sorted(zones) or 'none'}")
        if v.ssh is not None and v.ssh not in host_names:
            add(("vantage_points", i, "ssh"), f"vantage host {v.ssh!r} is not an inventory host")
    path = matrix_path(inventory_path, inv)
    if path is None:
        return []
    try:
        matrix = load_matrix(path)
    except InputError as exc:
        return exc.problems
    _cache[path] = matrix  # the run's collectors ask matrix_of for it next: not parsed a second time
    return lint(matrix, inv)[0]


_cache: dict[Path, FlowMatrix] = {}


def matrix_of(inv: Any) -> FlowMatrix | None:
    """The loaded inventory's matrix (its `flow_matrix` is absolute by then); re-read only when the file changes."""
    if not inv.flow_matrix:
        return None
    path = Path(inv.flow_matrix)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cached = _cache.get(path)
    if cached is None or cached.sha256 != digest:
        cached = _cache[path] = load_matrix(path)
    return cached


def justification_problems(inventory_path: Path | str) -> list[InputProblem]:
    """What `preuve lint` adds on top of loading: flows without justification (13.1.a), listed even when the
    inventory has other problems so that lint shows everything at once."""
    from preuve.inputs.inventory import Inventory

    try:
        inv = validate(load_yaml(Path(inventory_path)), Inventory)
        path = matrix_path(inventory_path, inv)
        return lint(load_matrix(path), inv)[1] if path is not None else []
    except InputError:
        return []  # already reported by the loader
