"""Validate manifest documents against the cached upstream schemas."""
import difflib
import json
import re
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

from . import paths
from .findings import Doc, Finding, field_path
from .openapi_convert import LIST_MAP_KEYS

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def _unique_by_keys(validator, keys, instance, schema):
    if not validator.is_type(instance, "array"):
        return
    seen = {}
    for i, item in enumerate(instance):
        if not isinstance(item, dict):
            continue
        key = tuple(item.get(k) for k in keys)
        if key in seen:
            shown = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key) if v is not None)
            yield ValidationError(f"duplicate entry ({shown}); first at [{seen[key]}]", path=[i])
        seen.setdefault(key, i)


KubeValidator = extend(Draft202012Validator, {LIST_MAP_KEYS: _unique_by_keys})


class SchemaStore:
    def __init__(self, directory=None):
        self.directory = directory or paths.schema_dir()
        index = json.loads((self.directory / "index.json").read_text())
        self.kinds = {tuple(key.split(" ", 1)): info for key, info in index["kinds"].items()}
        self.annotations = index["annotations"]

    def info(self, api_version: str, kind: str) -> dict | None:
        return self.kinds.get((api_version, kind))

    @lru_cache(maxsize=None)
    def validator(self, api_version: str, kind: str) -> Draft202012Validator:
        schema = json.loads((self.directory / self.kinds[(api_version, kind)]["file"]).read_text())
        return KubeValidator(schema)

    def kinds_of_group(self, api_version: str) -> list[str]:
        group = api_version.rpartition("/")[0]
        return sorted({f"{av} {k}" for av, k in self.kinds if av.rpartition("/")[0] == group})


def check_document(doc: Doc, store: SchemaStore) -> list[Finding]:
    body = doc.body
    if not isinstance(body, dict):
        return [Finding(doc.file, f"#{doc.index}", "", "a manifest document must be a mapping")]
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not api_version or not kind:
        return [doc.finding("", "apiVersion and kind are required")]
    info = store.info(api_version, kind)
    if info is None:
        known = store.kinds_of_group(api_version)
        hint = f" (pinned kinds of that group: {', '.join(known)})" if known else ""
        return [doc.finding("", f"unknown kind {kind!r} of apiVersion {api_version!r}: "
                                f"no pinned upstream schema{hint}")]
    findings = []
    if not info["served"]:
        findings.append(doc.finding("apiVersion", f"{api_version} {kind} is not served by {info['source']}"))
    body = without_nulls(body)
    for error in store.validator(api_version, kind).iter_errors(body):
        findings += [doc.finding(path, msg) for path, msg in explain(error)]
    findings += _metadata_rules(doc, body.get("metadata") or {}, info["namespaced"])
    return findings


def without_nulls(value):
    """The API server treats `key: null` as an absent key; so do we."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def explain(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) pairs phrased for someone editing YAML."""
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in known]
        return [(field_path(where + [k]), _unknown_field(k, known)) for k in extras]
    if error.validator in ("anyOf", "oneOf") and error.context:
        types = {e.validator_value if isinstance(e.validator_value, str) else "/".join(e.validator_value)
                 for e in error.context if e.validator == "type"}
        if len(types) == len(error.context):
            return [(field_path(where), f"{error.instance!r} is not of type {' or '.join(sorted(types))}")]
        if error.validator == "oneOf" and "is valid under each of" in error.message:
            return [(field_path(where), "sets more than one of a group of mutually exclusive fields")]
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        return explain(deepest)
    return [(field_path(where), error.message)]


def _unknown_field(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if not known:
        return f"unknown field {name!r}: this object takes no fields{hint}"
    return f"unknown field {name!r}{hint}"


def _metadata_rules(doc: Doc, meta: dict, namespaced: bool) -> list[Finding]:
    """Rules the API server enforces on ObjectMeta beyond its OpenAPI schema."""
    found = []
    name = meta.get("name")
    if isinstance(name, str) and not (len(name) <= 253 and _DNS_SUBDOMAIN.match(name)):
        found.append(doc.finding("metadata.name", f"{name!r} is not a valid DNS-1123 subdomain"))
    ns = meta.get("namespace")
    if ns is not None and not namespaced:
        found.append(doc.finding("metadata.namespace", f"{doc.kind} is cluster-scoped: it takes no namespace"))
    elif isinstance(ns, str) and not (len(ns) <= 63 and _DNS_LABEL.match(ns)):
        found.append(doc.finding("metadata.namespace", f"{ns!r} is not a valid DNS-1123 label"))
    for field in ("labels", "annotations"):
        for key, value in (meta.get(field) or {}).items():
            if not _qualified_key(str(key)):
                found.append(doc.finding(field_path(["metadata", field, key]), "invalid key"))
            if field == "labels" and isinstance(value, str) and value and not (
                    len(value) <= 63 and _QUALIFIED_NAME.match(value)):
                found.append(doc.finding(field_path(["metadata", "labels", key]), f"invalid label value {value!r}"))
    return found


def _qualified_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))
