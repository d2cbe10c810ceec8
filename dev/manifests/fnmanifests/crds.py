"""CustomResourceDefinitions read from upstream YAML: one entry per (apiVersion, kind)."""
from dataclasses import dataclass

from .yamlio import load_all


@dataclass
class CrdVersion:
    api_version: str
    kind: str
    namespaced: bool
    served: bool
    deprecated: bool
    schema: dict | None


def crd_versions(text: bytes) -> list[CrdVersion]:
    found = []
    for doc in load_all(text.decode()):
        if doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec.get("versions", []):
            found.append(CrdVersion(
                api_version=f"{spec['group']}/{version['name']}",
                kind=spec["names"]["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                served=bool(version.get("served")),
                deprecated=bool(version.get("deprecated")),
                schema=(version.get("schema") or {}).get("openAPIV3Schema")))
    return found
