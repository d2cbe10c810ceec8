"""Which workloads an Istio security policy applies to: the ingress gateway, function pods, or both.

Istio's rules: a policy in the root namespace (istio-system) without a selector applies to the
whole mesh; one elsewhere without a selector to every workload of its namespace; a selector (or a
targetRef to a Gateway) narrows it. Knative labels each pod with its service and revision names.
"""
from __future__ import annotations

from dataclasses import dataclass

ROOT_NAMESPACE = "istio-system"
GATEWAY_LABELS = {"istio": "ingressgateway", "app": "istio-ingressgateway"}


@dataclass(frozen=True)
class Workload:
    namespace: str
    labels: dict

    @classmethod
    def gateway(cls) -> "Workload":
        return cls(ROOT_NAMESPACE, GATEWAY_LABELS)

    @classmethod
    def revision(cls, namespace: str, service: str, revision: str) -> "Workload":
        return cls(namespace, {
            "serving.knative.dev/service": service, "serving.knative.dev/configuration": service,
            "serving.knative.dev/revision": revision, "app": revision,
        })

    @property
    def is_gateway(self) -> bool:
        return self.labels is GATEWAY_LABELS or self.labels == GATEWAY_LABELS


@dataclass(frozen=True)
class Scope:
    namespace: str
    match_labels: dict | None
    gateway_ref: bool

    @classmethod
    def of(cls, doc: dict) -> "Scope":
        spec = doc.get("spec") or {}
        refs = spec.get("targetRefs") or ([spec["targetRef"]] if spec.get("targetRef") else [])
        selector = (spec.get("selector") or {}).get("matchLabels")
        return cls(doc.get("metadata", {}).get("namespace", "default"), selector,
                   any(ref.get("kind") == "Gateway" for ref in refs))

    def applies_to(self, workload: Workload) -> bool:
        if self.gateway_ref:
            return workload.is_gateway
        if self.namespace != ROOT_NAMESPACE and self.namespace != workload.namespace:
            return False
        if self.match_labels is None:
            return True
        return all(workload.labels.get(k) == v for k, v in self.match_labels.items())
