"""What runs on the cluster and from where: a maintained Kubernetes release, images from the declared registries
only, and an image admission policy that is actually enforced (bound, or a signature policy)."""

import datetime as dt

from preuve.judge import ObservationUnavailable, check
from preuve.judge.eol import fresh_table


@check(
    "K8S-VERSION-SUPPORTED",
    requirements={
        "12.10.b#1": "the Kubernetes release offered to customers still gets security fixes (dated table)",
        "5.1.a#2": "the control plane runs a Kubernetes release still under security support",
    },
    target="k8s_cluster",
    severity="high",
    rule="kubernetes.io/releases : End Of Life Date de chaque version mineure (preuve/data/eol.yaml)",
)
def check_version_supported(k8s_supply, params, now, judge):
    table = fresh_table(now, params.patching.eol_table_max_age_days)
    version = k8s_supply["version"]
    minor = f"{version.get('major', '')}.{str(version.get('minor', '')).rstrip('+')}"
    entry = table["kubernetes"].get(minor)
    if entry is None:
        raise ObservationUnavailable(f"Kubernetes {version.get('gitVersion')} ({minor}) is not in preuve/data/eol.yaml")
    until = dt.date.fromisoformat(entry["security_until"])
    judge.at_least("k8s.version_security_days_left", (until - now.date()).days, params.patching.eol_min_days_left)


@check(
    "K8S-IMAGES-ALLOWED",
    requirements={
        "12.10.a#2": "every container image of every pod comes from a registry the inventory allows",
    },
    target="k8s_cluster",
    severity="high",
    rule="inventaire : kubernetes.clusters[].image_registries (préfixes autorisés)",
)
def check_images_allowed(k8s_supply, target, judge):
    allowed = target.spec.image_registries
    if allowed is None:
        judge.not_applicable("the inventory declares no image_registries for this cluster")
    images = {f"{i['namespace']}/{i['pod']}/{i['container']}": i["image"] or "" for i in k8s_supply["images"]}
    judge.each(
        "k8s.images_allowed",
        {k: any(img.startswith(a) for a in allowed) for k, img in images.items()},
        observed=images,
    )


def enforced_policies(admission: dict) -> list[str]:
    """Image policies that take effect: a sigstore ClusterImagePolicy, a Kyverno ClusterPolicy with verifyImages
    in Enforce, or a ValidatingAdmissionPolicy about images with a binding that denies."""
    found = [f"ClusterImagePolicy/{p['metadata']['name']}" for p in admission.get("clusterimagepolicies") or []]
    for p in admission.get("kyverno_clusterpolicies") or []:
        spec = p.get("spec", {})
        enforce = str(spec.get("validationFailureAction", "Audit")).lower() == "enforce"
        if enforce and any(r.get("verifyImages") for r in spec.get("rules", [])):
            found.append(f"ClusterPolicy/{p['metadata']['name']} (verifyImages, Enforce)")
    bound = {
        b.get("spec", {}).get("policyName")
        for b in admission.get("validatingadmissionpolicybindings") or []
        if "Deny" in (b.get("spec", {}).get("validationActions") or [])
    }
    for p in admission.get("validatingadmissionpolicies") or []:
        about_images = any("image" in v.get("expression", "") for v in p.get("spec", {}).get("validations", []))
        if about_images and p["metadata"]["name"] in bound:
            found.append(f"ValidatingAdmissionPolicy/{p['metadata']['name']} (bound, Deny)")
    return found


@check(
    "K8S-IMAGE-ADMISSION",
    requirements={
        "12.10.c#1": "an enforced admission policy checks images (signature policy or a bound, denying one)",
        "12.10.a#2": "the API server refuses pods whose images the admission policy does not allow",
    },
    target="k8s_cluster",
    severity="high",
    rule="sigstore policy-controller, Kyverno verifyImages ou ValidatingAdmissionPolicy liée (Deny)",
)
def check_image_admission(k8s_supply, judge):
    admission = k8s_supply["admission"]
    found = enforced_policies(admission)
    if found:
        judge.non_empty("k8s.image_admission", found)
        return
    present = {kind: [p["metadata"]["name"] for p in items] for kind, items in admission.items() if items}
    judge.equals("k8s.image_admission", f"none enforced (present: {present or 'none'})", "an enforced image policy")
