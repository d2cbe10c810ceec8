"""The built-in Kubernetes API: definitions, kinds and their scope, from the published
OpenAPI v3 documents of k8s.io/kubernetes, plus the enums that only its generated Go
definitions keep."""
import json
import re

_FUNC_OF_DEF = re.compile(r'^\t\t"([^"]+)":\s+(schema_\w+)\(ref\),$')
_FUNC_START = re.compile(r"^func (schema_\w+)\(ref common\.ReferenceCallback\)")
_TOP_PROPERTY = re.compile(r'^\t{5}"(\w+)": \{$')
_ENUM = re.compile(r"Enum:\s+\[\]interface\{\}\{(.*)\},?$")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def go_def_to_openapi_name(go_name: str) -> str:
    """k8s.io/api/core/v1.Container -> io.k8s.api.core.v1.Container"""
    package, _, type_name = go_name.rpartition(".")
    domain, *rest = package.split("/")
    return ".".join(list(reversed(domain.split("."))) + rest + [type_name])


def enums_from_generated_go(source: str) -> dict[str, dict[str, tuple[bool, list]]]:
    """{definition: {property: (applies_to_items, values)}} from zz_generated.openapi.go."""
    def_of_func, enums = {}, {}
    current, prop, in_items = None, None, False
    for line in source.splitlines():
        if m := _FUNC_OF_DEF.match(line):
            def_of_func[m.group(2)] = go_def_to_openapi_name(m.group(1))
        elif m := _FUNC_START.match(line):
            current, prop = def_of_func.get(m.group(1)), None
        elif m := _TOP_PROPERTY.match(line):
            prop, in_items = m.group(1), False
        elif prop and "Items: &spec.SchemaOrArray{" in line:
            in_items = True
        elif current and prop and (m := _ENUM.search(line)):
            values = [v.encode().decode("unicode_escape") for v in _QUOTED.findall(m.group(1))]
            enums.setdefault(current, {})[prop] = (in_items, values)
    return enums


def apply_enums(components: dict, enums: dict) -> int:
    applied = 0
    for def_name, props in enums.items():
        schema = components.get(def_name)
        for prop, (on_items, values) in props.items():
            target = (schema or {}).get("properties", {}).get(prop)
            if target is None:
                continue
            if on_items:
                target = target.get("items")
            if target is not None and "$ref" not in target and "allOf" not in target:
                target["enum"] = values
                applied += 1
    return applied


def load_documents(texts: list[bytes]) -> tuple[dict, dict]:
    """Merge OpenAPI documents: (components by name, {(apiVersion, kind): info})."""
    components, kinds = {}, {}
    for text in texts:
        doc = json.loads(text)
        components.update(doc.get("components", {}).get("schemas", {}))
        for path, ops in doc.get("paths", {}).items():
            if re.search(r"\{name\}/[^/]+$", path):
                continue  # a subresource (pods/{name}/binding, .../scale): not a kind to write
            for op in ops.values():
                gvk = op.get("x-kubernetes-group-version-kind") if isinstance(op, dict) else None
                if gvk:
                    namespaced = "{namespace}" in path
                    key = (_api_version(gvk), gvk["kind"])
                    kinds[key] = kinds.get(key, False) or namespaced
    defs_by_gvk = {}
    for name, schema in components.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            key = (_api_version(gvk), gvk["kind"])
            if key in kinds and not gvk["kind"].endswith("List"):
                defs_by_gvk[key] = {"definition": name, "namespaced": kinds[key]}
    return components, defs_by_gvk


def _api_version(gvk: dict) -> str:
    return f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
