"""fnshop's own rules across code and manifests, beyond any single schema:
function targets <-> Knative Services, settings <-> ConfigMap/Secret, and (in routes_check,
eventing_check) routes, authorization and event wiring."""
from pathlib import Path

from . import eventing_check, routes_check
from .deployment_sets import DeploymentSet, build_sets
from .findings import Doc, Finding, field_path
from .functions_index import Target, discover_targets, read_settings

SERVING = "serving.knative.dev"
CONFIG_MAP, SECRET = "fnshop-config", "fnshop-secrets"
# Variables the runtime itself reads (functions-framework / gunicorn); PORT is Knative's.
RUNTIME_ENV = {"FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "FUNCTION_SOURCE", "WORKERS",
               "THREADS", "CLOUD_RUN_TIMEOUT_SECONDS"}
RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
SETTINGS_FILE = "functions/kit/fnkit/config.py"


def run(root: Path, raw: list[Doc], rendered: dict[str, list[Doc]]) -> list[Finding]:
    targets = discover_targets(root)
    settings = read_settings(root)
    findings = _duplicates(raw) + _containerfiles(root, targets)
    if settings is None:
        findings.append(Finding(SETTINGS_FILE, "", "", "no SETTINGS tuple found: env coverage is unchecked"))
    missing = {}
    for dset in build_sets(raw, rendered):
        services = {d.name: d for d in dset.of_kind(SERVING, "Service")}
        for target in targets:
            if target.service not in services:
                missing.setdefault(target, []).append(dset.label)
        findings += check_services(dset, services, targets, settings or [])
        findings += _deployment_images(dset)
        if settings is not None:
            findings += _settings(dset, settings)
        findings += routes_check.run(dset, services, targets)
        findings += eventing_check.run(dset, services, targets)
    for target, labels in missing.items():
        findings.append(Finding(target.file, "", "", f"function target {target.name} has no Knative "
                                f"Service {target.service!r} (in {', '.join(labels)}); expected in "
                                f"knative/base/{target.domain}.yaml (run `task manifests:scaffold`)"))
    return findings


def _duplicates(raw: list[Doc]) -> list[Finding]:
    seen, found = {}, []
    for doc in raw:
        if not isinstance(doc.body, dict) or not doc.name:
            continue
        ns = (doc.body.get("metadata") or {}).get("namespace", "")
        key = (doc.body.get("apiVersion"), doc.kind, ns, doc.name)
        if key in seen:
            found.append(doc.finding("metadata.name", f"also defined in {seen[key]}"))
        seen.setdefault(key, doc.file)
    return found


def _containerfiles(root: Path, targets: list[Target]) -> list[Finding]:
    found = []
    for domain in sorted({t.domain for t in targets}):
        path = root / "knative" / "images" / f"{domain}.Containerfile"
        rel = str(path.relative_to(root))
        if not path.is_file():
            found.append(Finding(rel, "", "", f"missing: domain {domain!r} has function targets but no container build file"))
        elif f"functions/{domain}" not in path.read_text():
            found.append(Finding(rel, "", "", f"does not copy functions/{domain}"))
    return found


def check_services(dset: DeploymentSet, services: dict, targets: list[Target], settings) -> list[Finding]:
    by_name = {t.name: t for t in targets}
    declared = {s.name for s in settings}
    found = []
    for name, doc in services.items():
        file = dset.where(doc)
        spec = ((doc.body.get("spec") or {}).get("template") or {}).get("spec") or {}
        containers = spec.get("containers") or []
        if len(containers) != 1:
            found.append(Finding(file, doc.label, "spec.template.spec.containers", "a function Service has exactly one container"))
            continue
        c, at = containers[0], ["spec", "template", "spec", "containers", 0]
        env = {e.get("name"): e for e in c.get("env") or [] if isinstance(e, dict)}
        fn = (env.get("FUNCTION_TARGET") or {}).get("value")
        target = by_name.get(name.replace("-", "_"))
        if target is None:
            found.append(Finding(file, doc.label, "metadata.name", f"no function target {name.replace('-', '_')!r} "
                                 f"in functions/*/main.py: a Knative Service must run one"))
        elif fn != target.name:
            found.append(Finding(file, doc.label, field_path(at + ["env"]),
                                 f"FUNCTION_TARGET is {fn!r}, expected {target.name!r}"))
        if target is not None and _image_repo(c.get("image", "")) != f"fnshop/{target.domain}":
            found.append(Finding(file, doc.label, field_path(at + ["image"]),
                                 f"{c.get('image')!r} is not the {target.domain} domain's image fnshop/{target.domain}"))
        if dset.label.startswith("knative/overlays/") and ":" not in c.get("image", "").rsplit("/", 1)[-1] \
                and "@" not in c.get("image", ""):
            found.append(Finding(dset.label, doc.label, field_path(at + ["image"]),
                                 f"{c.get('image')!r} has no tag: add the image to this overlay's images:"))
        refs = {(k, (v or {}).get("name")) for e in c.get("envFrom") or [] for k, v in e.items()}
        for kind, ref in (("configMapRef", CONFIG_MAP), ("secretRef", SECRET)):
            if (kind, ref) not in refs:
                found.append(Finding(file, doc.label, field_path(at + ["envFrom"]), f"missing {kind} {ref}"))
        for var in env:
            if var in RESERVED_ENV:
                found.append(Finding(file, doc.label, field_path(at + ["env"]), f"{var} is set by Knative; do not set it"))
            elif var not in RUNTIME_ENV and declared and var not in declared:
                found.append(Finding(file, doc.label, field_path(at + ["env"]), f"{var} is not a declared setting ({SETTINGS_FILE})"))
        probe = ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
        if probe != "/healthz":
            found.append(Finding(file, doc.label, field_path(at + ["readinessProbe", "httpGet", "path"]),
                                 f"is {probe!r}; every function answers readiness on /healthz"))
        visibility = ((doc.body.get("metadata") or {}).get("labels") or {}).get("networking.knative.dev/visibility")
        if visibility != "cluster-local":
            found.append(Finding(file, doc.label, 'metadata.labels["networking.knative.dev/visibility"]',
                                 "must be cluster-local: the Istio gateway (JWT checks) is the only way in"))
    return found


def _deployment_images(dset: DeploymentSet) -> list[Finding]:
    """Deployments (the outbox relay) need their image set by each overlay, like Services."""
    if not dset.label.startswith("knative/overlays/"):
        return []
    found = []
    for doc in dset.of_kind("apps", "Deployment"):
        containers = (((doc.body.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        for i, c in enumerate(containers):
            image = str(c.get("image", ""))
            if ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
                found.append(Finding(dset.label, doc.label, f"spec.template.spec.containers[{i}].image",
                                     f"{image!r} has no tag: add the image to this overlay's images:"))
    return found


def _image_repo(image: str) -> str:
    """registry.example/fnshop/products:1.2@sha256:... -> fnshop/products"""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return "/".join(name.split("/")[-2:])


def _settings(dset: DeploymentSet, settings) -> list[Finding]:
    cm = dset.find("", "ConfigMap", "fnshop", CONFIG_MAP)
    secret = dset.find("", "Secret", "fnshop", SECRET)
    found = []
    for doc, name in ((cm, CONFIG_MAP), (secret, SECRET)):
        if doc is None:
            found.append(Finding(dset.label, "", "", f"no {'ConfigMap' if name == CONFIG_MAP else 'Secret'} {name} in namespace fnshop"))
    if cm is None or secret is None:
        return found
    cm_data = cm.body.get("data") or {}
    secret_data = {**(secret.body.get("data") or {}), **(secret.body.get("stringData") or {})}
    declared = {s.name: s for s in settings}
    for s in settings:
        if s.secret and s.name in cm_data:
            found.append(Finding(dset.where(cm), cm.label, f"data.{s.name}", "is a secret setting: it belongs in the Secret " + SECRET))
        elif s.secret and s.name not in secret_data:
            found.append(Finding(dset.where(secret), secret.label, "stringData", f"missing secret setting {s.name}"))
        elif not s.secret and s.name not in cm_data and s.name not in secret_data:
            found.append(Finding(dset.where(cm), cm.label, "data", f"missing setting {s.name} (declared in {SETTINGS_FILE})"))
        elif not s.secret and s.default is None and not str(cm_data.get(s.name, secret_data.get(s.name, ""))):
            found.append(Finding(dset.where(cm), cm.label, f"data.{s.name}", "has no default in the kit: it needs a value here"))
    for doc, data, where in ((cm, cm_data, "data"), (secret, secret_data, "stringData")):
        for key in data:
            if key not in declared:
                found.append(Finding(dset.where(doc), doc.label, f"{where}.{key}", f"not a declared setting ({SETTINGS_FILE})"))
    return found
