"""The sets of objects that get applied together, which the cross-checks reason about.

Each kustomize overlay under knative/overlays/ is one deployable whole (dev, prod), joined
by the raw manifests that are applied beside it (eventing/, monitoring/, the Secret
template, istio/ when the overlay does not include it). Without overlays, all raw
manifests form one set.
"""
from dataclasses import dataclass, field

from .findings import Doc

DEFAULT_NAMESPACE = "fnshop"


def group_of(doc: Doc) -> str:
    return str(doc.body.get("apiVersion", "")).rpartition("/")[0]


def key_of(doc: Doc) -> tuple[str, str, str, str]:
    meta = doc.body.get("metadata") or {}
    return (group_of(doc), doc.kind, str(meta.get("namespace") or DEFAULT_NAMESPACE), doc.name)


@dataclass
class DeploymentSet:
    label: str
    docs: list[Doc]
    origin: dict = field(default_factory=dict)   # key_of -> raw file that defines it

    def of_kind(self, group: str, kind: str) -> list[Doc]:
        return [d for d in self.docs if d.kind == kind and group_of(d) == group]

    def find(self, group: str, kind: str, namespace: str, name: str) -> Doc | None:
        for doc in self.of_kind(group, kind):
            if key_of(doc)[2:] == (namespace, name):
                return doc
        return None

    def where(self, doc: Doc) -> str:
        """The raw file that defines doc (findings name files people edit)."""
        return self.origin.get(key_of(doc), doc.file)


def build_sets(raw: list[Doc], rendered: dict[str, list[Doc]]) -> list[DeploymentSet]:
    origin = {}
    for doc in raw:
        if isinstance(doc.body, dict):
            origin.setdefault(key_of(doc), doc.file)
    raw = [d for d in raw if isinstance(d.body, dict)]
    overlays = sorted(label for label in rendered if label.startswith("knative/overlays/"))
    if not overlays:
        base = rendered.get("knative/base")
        if base is None:
            return [DeploymentSet("repo", raw, origin)]
        overlays, rendered = ["knative/base"], {"knative/base": base}
    sets = []
    for label in overlays:
        docs = [d for d in rendered[label] if isinstance(d.body, dict)]
        present = {key_of(d) for d in docs}
        beside = [d for d in raw if key_of(d) not in present and not _is_other_overlay(d, label)]
        sets.append(DeploymentSet(label, docs + beside, origin))
    return sets


def _is_other_overlay(doc: Doc, label: str) -> bool:
    """Raw files of knative/ that the overlay does not render (other overlays' resources,
    the base itself) are not applied beside it; the Secret template and Argo CD apps are."""
    path = doc.file
    if not path.startswith("knative/"):
        return False
    return path.startswith(("knative/base/", "knative/overlays/"))
