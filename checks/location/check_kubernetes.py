"""Where a Kubernetes cluster keeps data: nodes, persistent volumes, storage classes, Velero locations (19.2.b).

A region becomes a country through preuve.location's provider tables; an unknown region or an undeclared provider
fails (the country cannot be proven), it never passes.
"""

from preuve.judge import check
from preuve.location import endpoint_region, normalise_country, region_country

REGION_KEYS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def place(provider: str | None, region: str | None) -> str:
    """'eu-west-3 -> FR', 'us-east-1 -> US', 'eu-x -> unknown'."""
    country = region_country(provider, region) if provider and region else None
    return f"{region or 'no region'} -> {country or 'unknown'}"


def allowed(provider: str | None, region: str | None, params) -> bool:
    country = region_country(provider, region) if provider and region else None
    ok = {normalise_country(c) for c in params.location.allowed_countries}
    return country is not None and normalise_country(country) in ok


def node_region(node: dict) -> str | None:
    labels = node["metadata"].get("labels") or {}
    for k in REGION_KEYS:
        if labels.get(k):
            return labels[k]
    pid = (node.get("spec") or {}).get("providerID") or ""
    if pid.startswith("aws:///"):  # aws:///<zone>/<instance>: the zone names the region plus a letter
        zone = pid[len("aws:///") :].split("/")[0]
        return zone[:-1] if zone and zone[-1].isalpha() else None
    return None


@check(
    "LOC-K8S-NODES",
    requirements={
        "19.2.b#2": "every node that runs workloads is in an allowed (EU) region",
    },
    target="k8s_cluster",
    severity="critical",
    rule="nodes in allowed countries (topology labels, providerID)",
)
def check_nodes(k8s_location, target, params, judge):
    p = target.spec.provider
    regions = {n["metadata"]["name"]: node_region(n) for n in k8s_location["nodes"]}
    judge.non_empty("loc.k8s.nodes", sorted(regions))
    judge.each(
        "loc.k8s.node_countries",
        {n: allowed(p, r, params) for n, r in regions.items()},
        observed={n: place(p, r) for n, r in regions.items()},
    )


def pv_region(pv: dict, node_regions: dict[str, str | None]) -> str | None:
    terms = ((((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms")) or []
    found: set[str | None] = set()
    for term in terms:
        region = None
        for e in term.get("matchExpressions") or []:
            if e.get("key") in REGION_KEYS and e.get("operator") == "In" and len(e.get("values") or []) == 1:
                region = e["values"][0]
            elif e.get("key") == "kubernetes.io/hostname" and e.get("operator") == "In" and region is None:
                hosts = {node_regions.get(h) for h in e.get("values") or []}
                region = hosts.pop() if len(hosts) == 1 else None
        found.add(region)
    return found.pop() if len(found) == 1 else None


@check(
    "LOC-K8S-VOLUMES",
    requirements={
        "19.2.b#1": "every persistent volume is pinned to an allowed (EU) region",
    },
    target="k8s_cluster",
    severity="critical",
    rule="persistent volumes pinned to allowed regions (node affinity)",
)
def check_volumes(k8s_location, target, params, judge):
    p = target.spec.provider
    nodes = {n["metadata"]["name"]: node_region(n) for n in k8s_location["nodes"]}
    regions = {v["metadata"]["name"]: pv_region(v, nodes) for v in k8s_location["persistentvolumes"]}
    judge.each(
        "loc.k8s.volume_countries",
        {v: allowed(p, r, params) for v, r in regions.items()},
        observed={v: place(p, r) for v, r in regions.items()},
    )


@check(
    "LOC-K8S-STORAGECLASSES",
    requirements={
        "19.2.b#1": "StorageClasses can provision volumes only in allowed (EU) regions",
    },
    target="k8s_cluster",
    severity="high",
    rule="StorageClass allowedTopologies in allowed regions",
)
def check_storage_classes(k8s_location, target, params, judge):
    p = target.spec.provider
    verdicts, observed = {}, {}
    for sc in k8s_location["storageclasses"]:
        name = sc["metadata"]["name"]
        regions = sorted(
            {
                v
                for t in sc.get("allowedTopologies") or []
                for e in t.get("matchLabelExpressions") or []
                if e.get("key") in REGION_KEYS
                for v in e.get("values") or []
            }
        )
        if not sc.get("allowedTopologies"):  # provisions where the consuming pod runs: judged by LOC-K8S-NODES
            verdicts[name], observed[name] = True, "unrestricted (follows the nodes)"
            continue
        verdicts[name] = bool(regions) and all(allowed(p, r, params) for r in regions)
        observed[name] = [place(p, r) for r in regions] or "topology without region"
    judge.each("loc.k8s.storageclass_countries", verdicts, observed=observed)


@check(
    "LOC-K8S-VELERO",
    requirements={
        "19.2.b#1": "Velero backup and snapshot locations are in allowed (EU) regions",
        "12.5.d#3": "cluster backups are stored in allowed (EU) regions",
        "12.5.d#5": "backups travel to the location over https",
    },
    target="k8s_cluster",
    severity="critical",
    rule="Velero backup and snapshot locations in allowed countries, over TLS, available",
)
def check_velero_locations(k8s_location, target, params, judge):
    if not target.spec.velero:
        judge.not_applicable("the inventory says this cluster is not backed up by Velero (velero: false)")
    velero = k8s_location["velero"]
    if not velero.get("installed"):
        judge.non_empty("loc.k8s.velero.locations", [])
        return
    from urllib.parse import urlsplit

    p = target.spec.provider
    verdicts, observed = {}, {}
    for bsl in velero["backupstoragelocations"]:
        name = f"BackupStorageLocation/{bsl['metadata']['name']}"
        cfg = (bsl.get("spec") or {}).get("config") or {}
        url = urlsplit(cfg["s3Url"]) if cfg.get("s3Url") else None
        region = cfg.get("region") or (endpoint_region(p, url.hostname or "") if url and p else None)
        phase = (bsl.get("status") or {}).get("phase")
        tls = url is None or url.scheme == "https"
        verdicts[name] = allowed(p, region, params) and tls and phase == "Available"
        observed[name] = {"place": place(p, region), "s3Url": cfg.get("s3Url"), "phase": phase}
    for vsl in velero["volumesnapshotlocations"]:
        name = f"VolumeSnapshotLocation/{vsl['metadata']['name']}"
        region = ((vsl.get("spec") or {}).get("config") or {}).get("region")
        verdicts[name], observed[name] = allowed(p, region, params), {"place": place(p, region)}
    judge.non_empty("loc.k8s.velero.locations", sorted(verdicts))
    judge.each("loc.k8s.velero.location_ok", verdicts, observed=observed)
