"""The eventing manifests as the local dispatcher, ingest and pinger read them: KafkaSources
(what to consume and where to deliver), KafkaSinks (topic per sink) and PingSources (schedules),
from every *.yaml under eventing/ — the same files the cluster gets.

A destination (`sink`, `delivery.deadLetterSink`) resolves as Knative resolves it: a Knative
Service becomes the local runtime's `/_runtime/services/<name>` URL on the gateway (or a URL a
test maps the name to), a KafkaSink becomes its topic, a `uri` is used as is, and a `uri` next
to a `ref` is a path relative to the ref's address.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EVENTING_DIR = ROOT / "eventing"
_ISO_DURATION = re.compile(r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
                           r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")
DEFAULT_TIMEOUT_SECONDS = 30.0  # Knative leaves an attempt unbounded without `timeout`; we do not


class EventingError(ValueError):
    """A manifest the local eventing cannot honour: fix the YAML."""


def seconds(duration: str) -> float:
    """ISO-8601 duration (PT0.5S, PT2M, P1DT1H) -> seconds."""
    match = _ISO_DURATION.match(str(duration).strip())
    if not match or str(duration).strip() in ("P", "PT"):
        raise EventingError(f"{duration!r} is not an ISO-8601 duration such as PT0.5S")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


@dataclass(frozen=True)
class Destination:
    """Where events go: an HTTP URL, or a Kafka topic (a KafkaSink written directly)."""

    url: str | None = None
    topic: str | None = None

    def __str__(self) -> str:
        return self.url or f"kafka:{self.topic}"


@dataclass(frozen=True)
class Delivery:
    retry: int = 0
    backoff_policy: str = "exponential"
    backoff_delay: float = 0.2   # Knative's default backoffDelay
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    dead_letter: dict | None = None  # the raw deadLetterSink destination

    def delay_before_retry(self, n: int) -> float:
        """Wait before retry n (0 = the first retry): exponential delay * 2^n, linear delay * (n + 1)."""
        if self.backoff_policy == "linear":
            return self.backoff_delay * (n + 1)
        return self.backoff_delay * 2 ** n


@dataclass(frozen=True)
class KafkaSource:
    name: str
    namespace: str
    topics: tuple[str, ...]
    consumer_group: str
    initial_offset: str  # earliest | latest
    ordered: bool
    sink: dict
    delivery: Delivery
    file: str = ""


@dataclass(frozen=True)
class PingSource:
    name: str
    namespace: str
    schedule: str
    content_type: str
    data: str
    sink: dict


@dataclass
class Eventing:
    sources: list[KafkaSource] = field(default_factory=list)
    sinks: dict[tuple[str, str], str] = field(default_factory=dict)  # (namespace, name) -> topic
    pings: list[PingSource] = field(default_factory=list)

    def resolve(self, destination: dict, namespace: str, gateway: str, service_urls: dict[str, str]) -> Destination:
        """A Knative destination -> URL or topic (see the module docstring)."""
        ref, uri = destination.get("ref"), destination.get("uri")
        if not ref:
            if not uri:
                raise EventingError(f"destination {destination} has neither ref nor uri")
            return Destination(url=uri)
        kind, name, ns = ref.get("kind"), ref.get("name"), ref.get("namespace", namespace)
        if kind == "KafkaSink":
            if (ns, name) not in self.sinks:
                raise EventingError(f"KafkaSink {ns}/{name} is not declared under eventing/")
            return Destination(topic=self.sinks[(ns, name)])
        if kind != "Service":
            raise EventingError(f"cannot deliver to a {ref.get('apiVersion')} {kind} locally")
        base = service_urls.get(name) or f"{gateway.rstrip('/')}/_runtime/services/{name}"
        return Destination(url=base.rstrip("/") + "/" + str(uri or "").lstrip("/"))


def load(folder: Path = EVENTING_DIR) -> Eventing:
    found = Eventing()
    for path in sorted([*Path(folder).rglob("*.yaml"), *Path(folder).rglob("*.yml")]):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
            meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
            namespace = meta.get("namespace", "fnshop")
            if kind == "KafkaSink" and api.startswith("eventing.knative.dev/"):
                found.sinks[(namespace, meta["name"])] = spec["topic"]
            elif kind == "KafkaSource" and api.startswith("sources.knative.dev/"):
                found.sources.append(_source(meta, spec, namespace, path))
            elif kind == "PingSource" and api.startswith("sources.knative.dev/"):
                found.pings.append(PingSource(meta["name"], namespace, spec["schedule"],
                                              spec.get("contentType", "application/json"), spec.get("data", ""),
                                              spec["sink"]))
    return found


def _source(meta: dict, spec: dict, namespace: str, path: Path) -> KafkaSource:
    delivery = spec.get("delivery") or {}
    ordering = spec.get("ordering", "ordered")
    if ordering not in ("ordered", "unordered"):
        raise EventingError(f"{path}: ordering {ordering!r} is neither ordered nor unordered")
    policy = delivery.get("backoffPolicy", "exponential")
    if policy not in ("exponential", "linear"):
        raise EventingError(f"{path}: backoffPolicy {policy!r} is neither exponential nor linear")
    return KafkaSource(
        name=meta["name"], namespace=namespace, topics=tuple(spec["topics"]),
        consumer_group=spec.get("consumerGroup") or meta["name"],
        initial_offset=spec.get("initialOffset", "latest"), ordered=ordering == "ordered", sink=spec["sink"],
        delivery=Delivery(
            retry=int(delivery.get("retry", 0)), backoff_policy=policy,
            backoff_delay=seconds(delivery["backoffDelay"]) if "backoffDelay" in delivery else 0.2,
            timeout=seconds(delivery["timeout"]) if "timeout" in delivery else DEFAULT_TIMEOUT_SECONDS,
            dead_letter=delivery.get("deadLetterSink")),
        file=str(path))
