"""Turn Kubernetes structural schemas into JSON Schema (draft 2020-12) that rejects what the
API server would reject or silently drop.

Kubernetes and JSON Schema differ where it matters for catching mistakes:
- an object with `properties` and no `additionalProperties` is closed: unknown fields are
  rejected (kubectl's strict field validation) or pruned (CRDs), never kept, unless the node
  says `x-kubernetes-preserve-unknown-fields: true`;
- in a CRD, `type: object` with no properties keeps nothing (everything is pruned); in the
  built-in API it means "free-form" (RawExtension, FieldsV1);
- `x-kubernetes-int-or-string` / `format: int-or-string` accept both;
- `nullable` adds null; OpenAPI 3.0's boolean `exclusiveMinimum` becomes a number;
- branches of `allOf`/`anyOf`/`oneOf`/`not` in CRDs are constraint fragments, never closed.
A "loose" conversion keeps types and enums but drops `required` and closing, for overlaying a
built-in type (PodSpec) on a CRD's own narrower copy of it.
"""
import re

_COPIED = ("enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems",
           "maxItems", "uniqueItems", "minProperties", "maxProperties", "multipleOf")


class SchemaBuilder:
    """Converts schemas for one output document, collecting the `$defs` it refers to."""

    def __init__(self, components: dict):
        self.components = components  # built-in definitions by name (io.k8s.api...)
        self.defs: dict[str, dict] = {}

    def ref(self, name: str, loose: bool = False) -> dict:
        key = ("loose." if loose else "") + name
        if key not in self.defs:
            self.defs[key] = {}  # placeholder: breaks reference cycles
            self.defs[key] = self.convert(self.components[name], crd=False, loose=loose)
        return {"$ref": f"#/$defs/{key}"}

    def document(self, root: dict) -> dict:
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root,
                "$defs": self.defs}

    def convert(self, node: dict, *, crd: bool, loose: bool = False,
                fragment: bool = False) -> dict:
        if "$ref" in node:
            return self.ref(node["$ref"].rsplit("/", 1)[-1], loose)
        out: dict = {}
        sub = dict(crd=crd, loose=loose)
        for key in _COPIED:
            if key in node and not (key == "pattern" and not _compiles(node[key])):
                out[key] = node[key]
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            if node.get(key) is True and key.replace("exclusive", "").lower() in node:
                bound = key.replace("exclusiveM", "m")
                out[key] = out.pop(bound)
        if "required" in node and not loose:
            out["required"] = list(node["required"])
        junctor_is_fragment = crd  # built-in oneOf/allOf branches are whole schemas
        for key in ("allOf", "anyOf", "oneOf"):
            if key in node:
                out[key] = [self.convert(b, **sub, fragment=junctor_is_fragment) for b in node[key]]
        if "not" in node:
            out["not"] = self.convert(node["not"], **sub, fragment=True)
        if "items" in node and isinstance(node["items"], dict):
            out["items"] = self.convert(node["items"], **sub, fragment=fragment)
        if node.get("x-kubernetes-list-type") == "map" and node.get("x-kubernetes-list-map-keys"):
            out[LIST_MAP_KEYS] = list(node["x-kubernetes-list-map-keys"])  # entries unique by key
        elif node.get("x-kubernetes-list-type") == "set":
            out["uniqueItems"] = True

        node_type = node.get("type")
        int_or_string = node.get("x-kubernetes-int-or-string") or node.get("format") == "int-or-string"
        if int_or_string and not any(k in out for k in ("anyOf", "oneOf")):
            out["type"] = ["integer", "string"]
        elif node_type:
            out["type"] = [node_type, "null"] if node.get("nullable") else node_type
        if node_type == "object" or "properties" in node or "additionalProperties" in node:
            self._object(node, out, sub, fragment)
        return out

    def _object(self, node, out, sub, fragment):
        props = {name: self.convert(p, **sub, fragment=fragment)
                 for name, p in node.get("properties", {}).items()}
        if node.get("x-kubernetes-embedded-resource") and not fragment:
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props.setdefault("metadata", self.ref(OBJECT_META))
        if props:
            out["properties"] = props
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = self.convert(extra, **sub, fragment=fragment)
        elif extra is not None:
            out["additionalProperties"] = extra
        elif fragment or sub["loose"] or node.get("x-kubernetes-preserve-unknown-fields"):
            pass
        elif props or sub["crd"]:
            out["additionalProperties"] = False  # closed: unknown fields are rejected/pruned


OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Our own keyword (schema_check registers it): a list-map's entries must differ in its keys,
# as the API server enforces (two env vars of one name, two ports of one number).
LIST_MAP_KEYS = "x-fnshop-list-map-keys"


def crd_root(builder: SchemaBuilder, schema: dict) -> dict:
    """A CRD version's openAPIV3Schema; apiVersion/kind/metadata are always allowed at the
    root and metadata is validated as real ObjectMeta (CRDs mostly say just `type: object`)."""
    root = builder.convert(schema, crd=True)
    props = root.setdefault("properties", {})
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props["metadata"] = builder.ref(OBJECT_META)
    return root


def overlay(root: dict, dotted_path: str, extra: dict) -> None:
    """Require the node at dotted_path (through `properties`) to satisfy `extra` as well."""
    node = root
    parts = dotted_path.split(".")
    for part in parts[:-1]:
        node = node["properties"][part]
    last = node["properties"][parts[-1]]
    node["properties"][parts[-1]] = {"allOf": [last, extra]}


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
        return True
    except re.error:
        return False
