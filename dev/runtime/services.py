"""Knative Serving objects, as the runtime needs them: which function each Service runs, with
which environment and scaling bounds, and how its traffic splits between revisions.

Locally every revision runs the code on disk; a second revision named in `spec.traffic` gets
its own process pool (and its own K_REVISION), so a canary split is observable and behaves
like the cluster's, even though both sides run the same code.
"""
from __future__ import annotations

import base64
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .manifests import ManifestError, of_kind, parse_duration

SERVING = "serving.knative.dev"
AUTOSCALING = "autoscaling.knative.dev/"
DEFAULT_TARGET = 100.0  # Knative's container-concurrency-target-default
DEFAULT_TIMEOUT_SECONDS = 300.0  # Knative's revision-timeout-seconds


@dataclass(frozen=True)
class Revision:
    name: str  # becomes K_REVISION
    service: str
    namespace: str
    target: str  # FUNCTION_TARGET
    source: Path  # functions/<domain>/main.py
    env: dict[str, str]
    min_scale: int = 0
    max_scale: int = 0  # 0 = unlimited, as in Knative
    target_concurrency: float = DEFAULT_TARGET
    container_concurrency: int = 0  # 0 = no hard limit
    retention_seconds: float = 0.0
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class TrafficTarget:
    revision: str
    percent: int
    tag: str | None = None


@dataclass(frozen=True)
class KnativeService:
    name: str
    namespace: str
    revisions: dict[str, Revision]
    traffic: list[TrafficTarget]  # the percent > 0 entries
    tags: dict[str, str] = field(default_factory=dict)  # tag -> revision name

    @property
    def latest(self) -> Revision:
        return next(iter(self.revisions.values()))


@dataclass(frozen=True)
class ClusterDefaults:
    """Cluster-wide settings of Knative's config-autoscaler ConfigMap, when the manifests hold it."""
    grace_seconds: float = 30.0
    scale_to_zero: bool = True
    target: float = DEFAULT_TARGET


def cluster_defaults(docs: list[dict]) -> ClusterDefaults:
    for doc in of_kind(docs, "v1", "ConfigMap"):
        if doc.get("metadata", {}).get("name") == "config-autoscaler":
            data = doc.get("data") or {}
            return ClusterDefaults(
                grace_seconds=parse_duration(data.get("scale-to-zero-grace-period"), 30.0),
                scale_to_zero=str(data.get("enable-scale-to-zero", "true")).lower() == "true",
                target=float(data.get("container-concurrency-target-default", DEFAULT_TARGET)),
            )
    return ClusterDefaults()


def knative_services(docs: list[dict], functions_dir: Path, defaults: ClusterDefaults | None = None,
                     problems: list[str] | None = None) -> dict[str, KnativeService]:
    """The Services by name. A Service that cannot run raises ManifestError, or, when a
    `problems` list is given, is left out with the reason appended (the rest still runs)."""
    defaults = defaults or ClusterDefaults()
    sources = env_sources(docs)
    services = {}
    for doc in of_kind(docs, SERVING, "Service"):
        try:
            service = _service(doc, functions_dir, sources, defaults)
        except ManifestError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
            continue
        services[service.name] = service
    return services


def _service(doc: dict, functions_dir: Path, sources: dict, defaults: ClusterDefaults) -> KnativeService:
    meta = doc.get("metadata", {})
    name, namespace = meta["name"], meta.get("namespace", "default")
    template = doc.get("spec", {}).get("template", {})
    annotations = template.get("metadata", {}).get("annotations", {}) or {}
    spec = template.get("spec", {}) or {}
    containers = spec.get("containers") or []
    if not containers:
        raise ManifestError(f"Service {name}: spec.template.spec.containers is empty")
    container = containers[0]
    env = container_env(container, namespace, sources, f"Service {name}")
    target = env.get("FUNCTION_TARGET")
    if not target:
        raise ManifestError(f"Service {name}: the container sets no FUNCTION_TARGET")
    domain = image_domain(container.get("image", ""))
    source = functions_dir / domain / "main.py"
    if not source.is_file():
        raise ManifestError(f"Service {name}: image {container.get('image')!r} means {source}, which does not exist")

    def annotation(key: str, default):
        return annotations.get(AUTOSCALING + key, default)

    container_concurrency = int(spec.get("containerConcurrency") or 0)
    target_concurrency = float(annotation("target", container_concurrency or defaults.target))
    utilization = annotations.get(AUTOSCALING + "target-utilization-percentage")
    if utilization is not None:  # only when declared: locally "target" means exactly that many
        target_concurrency = max(target_concurrency * float(utilization) / 100.0, 0.01)
    latest_name = template.get("metadata", {}).get("name") or f"{name}-latest"
    latest = Revision(
        name=latest_name, service=name, namespace=namespace, target=target, source=source, env=env,
        min_scale=int(annotation("min-scale", 0)), max_scale=int(annotation("max-scale", 0)),
        target_concurrency=target_concurrency, container_concurrency=container_concurrency,
        retention_seconds=parse_duration(annotation("scale-to-zero-pod-retention-period", None), 0.0),
        timeout_seconds=float(spec.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
    )
    revisions = {latest.name: latest}
    traffic, tags = [], {}
    for entry in doc.get("spec", {}).get("traffic") or [{"latestRevision": True, "percent": 100}]:
        revision_name = latest.name if entry.get("latestRevision") or not entry.get("revisionName") else entry["revisionName"]
        if revision_name not in revisions:  # an older revision: same code, its own pool and K_REVISION
            revisions[revision_name] = Revision(**{**latest.__dict__, "name": revision_name})
        if entry.get("tag"):
            tags[entry["tag"]] = revision_name
        if int(entry.get("percent") or 0) > 0:
            traffic.append(TrafficTarget(revision_name, int(entry["percent"]), entry.get("tag")))
    if sum(t.percent for t in traffic) != 100:
        raise ManifestError(f"Service {name}: spec.traffic percents add up to {sum(t.percent for t in traffic)}, not 100")
    return KnativeService(name, namespace, revisions, traffic, tags)


def image_domain(image: str) -> str:
    """`fnshop/products:1.2` or `registry.example/fnshop/products@sha256:..` -> `products`."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def env_sources(docs: list[dict]) -> dict[tuple[str, str, str], dict[str, str]]:
    """(kind, namespace, name) -> data of every ConfigMap and Secret in the manifests."""
    sources = {}
    for doc in of_kind(docs, "v1", "ConfigMap"):
        meta = doc.get("metadata", {})
        sources[("ConfigMap", meta.get("namespace", "default"), meta["name"])] = {k: str(v) for k, v in (doc.get("data") or {}).items()}
    for doc in of_kind(docs, "v1", "Secret"):
        meta = doc.get("metadata", {})
        data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
        data.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
        sources[("Secret", meta.get("namespace", "default"), meta["name"])] = data
    return sources


def container_env(container: dict, namespace: str, sources: dict, owner: str) -> dict[str, str]:
    """The environment Kubernetes would give the container: envFrom first, then env on top."""
    env: dict[str, str] = {}
    for ref in container.get("envFrom") or []:
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in ref:
                data = sources.get((kind, namespace, ref[key]["name"]))
                if data is None:
                    # Secrets are rarely committed; locally their values come from the shell (stack.env).
                    _warn_once(f"runtime: {kind} {namespace}/{ref[key]['name']} is not in the manifests; "
                               "its values must come from the environment")
                    continue
                env.update({ref.get("prefix", "") + k: v for k, v in data.items()})
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        value_from = item.get("valueFrom") or {}
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if key in value_from:
                ref = value_from[key]
                value = (sources.get((kind, namespace, ref["name"])) or {}).get(ref["key"])
                if value is not None:
                    env[item["name"]] = value
    return env


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)
