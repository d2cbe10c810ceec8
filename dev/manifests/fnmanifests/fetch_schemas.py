"""Build .state/schemas/ from the upstream modules pinned in pins.yaml.

Output: one JSON Schema per (apiVersion, kind), an index.json naming them (with scope and
source), and the known annotation keys. A stamp of pins.yaml and of this converter's code
decides whether the cache is current, so editing either rebuilds it.
"""
import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import yaml

from . import gomod, k8s_openapi, paths
from .crds import crd_versions
from .go_constants import annotation_keys, cluster_config_keys
from .openapi_convert import OBJECT_META, SchemaBuilder, crd_root, overlay

POD_SPEC = "io.k8s.api.core.v1.PodSpec"
# Knative embeds a narrowed corev1.PodSpec and a free-form template metadata in its CRDs;
# its webhook then validates them as the real Kubernetes types. Overlaying those types here
# brings back the enums (imagePullPolicy) and closes the metadata.
EMBEDDED_K8S_TYPES = {
    ("serving.knative.dev", "Service"): {"spec.template.metadata": (OBJECT_META, False),
                                         "spec.template.spec": (POD_SPEC, True)},
    ("serving.knative.dev", "Configuration"): {"spec.template.metadata": (OBJECT_META, False),
                                               "spec.template.spec": (POD_SPEC, True)},
    ("serving.knative.dev", "Revision"): {"spec": (POD_SPEC, True)},
}
_CODE = ("fetch_schemas.py", "openapi_convert.py", "k8s_openapi.py", "crds.py", "go_constants.py")


def stamp() -> str:
    digest = hashlib.sha256(paths.PINS_FILE.read_bytes())
    for name in _CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def is_current() -> bool:
    index = paths.schema_dir() / "index.json"
    try:
        return json.loads(index.read_text())["stamp"] == stamp()
    except (OSError, ValueError, KeyError):
        return False


def fetch(force: bool = False, log=print) -> None:
    if is_current() and not force:
        log(f"schemas: cached in {paths.schema_dir()} (pins unchanged)")
        return
    if not gomod.go_available():
        raise gomod.FetchError("the `go` command is needed to fetch upstream schemas")
    started = time.monotonic()
    pins = yaml.safe_load(paths.PINS_FILE.read_text())
    k8s = pins["kubernetes"]
    wanted = {(k8s["module"], k8s["version"], None)}
    wanted |= {(c["module"], c["version"], c.get("sum")) for c in pins["crds"]}
    versions = {m: v for m, v, _ in wanted}
    for a in pins["annotations"]:
        if versions.get(a["module"]) is None:
            raise gomod.FetchError(f"annotations from {a['module']}: pin it under crds first")
    log(f"schemas: fetching {len(wanted)} modules through the Go module proxy ...")
    zips = gomod.download_all(sorted(wanted))

    out = paths.schema_dir().with_name("schemas.new")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    components, kinds = _builtin_kinds(zips[k8s["module"]], k8s)
    for (api_version, kind), info in kinds.items():
        builder = SchemaBuilder(components)
        root = builder.ref(info["definition"])
        _write(out, info, api_version, kind, builder.document(root))
    index = dict(kinds)
    for crd in pins["crds"]:
        source = f"{crd['module']}@{crd['version']}"
        for text in zips[crd["module"]].read_matching(crd["files"]).values():
            for v in crd_versions(text):
                if v.schema is None:
                    continue
                builder = SchemaBuilder(components)
                root = crd_root(builder, v.schema)
                group = v.api_version.split("/")[0]
                for path, (definition, loose) in EMBEDDED_K8S_TYPES.get((group, v.kind), {}).items():
                    overlay(root, path, builder.ref(definition, loose=loose))
                info = {"namespaced": v.namespaced, "served": v.served,
                        "deprecated": v.deprecated, "source": source}
                _write(out, info, v.api_version, v.kind, builder.document(root))
                index[(v.api_version, v.kind)] = info
    annotations = _annotations(pins["annotations"], zips)
    (out / "index.json").write_text(json.dumps({
        "stamp": stamp(),
        "kinds": {f"{av} {kind}": info for (av, kind), info in sorted(index.items())},
        "annotations": annotations,
    }, indent=1))
    shutil.rmtree(paths.schema_dir(), ignore_errors=True)
    out.rename(paths.schema_dir())
    log(f"schemas: {len(index)} kinds written to {paths.schema_dir()} "
        f"in {time.monotonic() - started:.1f}s")


def _builtin_kinds(module_zip, k8s_pin):
    files = module_zip.read_matching(k8s_pin["openapi"] + [k8s_pin["enums"]])
    components, kinds = k8s_openapi.load_documents(
        [files[name] for name in k8s_pin["openapi"]])
    enums = k8s_openapi.enums_from_generated_go(files[k8s_pin["enums"]].decode())
    k8s_openapi.apply_enums(components, enums)
    source = f"{k8s_pin['module']}@{k8s_pin['version']}"
    for info in kinds.values():
        info.update(served=True, deprecated=False, source=source)
    return components, kinds


def _write(out: Path, info: dict, api_version: str, kind: str, schema: dict) -> None:
    info["file"] = f"{api_version.replace('/', '_')}_{kind}.json"
    (out / info["file"]).write_text(json.dumps(schema, separators=(",", ":")))


def _annotations(specs, zips) -> dict:
    known = {}
    for spec in specs:
        files = [spec["file"]] + ([spec["cluster_config"]] if spec.get("cluster_config") else [])
        texts = {k: v.decode() for k, v in zips[spec["module"]].read_matching(files).items()}
        canonical, deprecated = annotation_keys(texts[spec["file"]], spec["group_const"])
        cluster = cluster_config_keys(texts[spec["cluster_config"]]) if spec.get("cluster_config") else set()
        known[spec["prefix"]] = {
            "keys": sorted(canonical), "deprecated": sorted(deprecated),
            "cluster_wide": sorted(cluster - canonical),
            "source": f"{spec['module']}@{zips[spec['module']].version}/{spec['file']}"}
    return known


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    args = parser.parse_args(argv)
    try:
        fetch(force=args.force)
    except gomod.FetchError as exc:
        print(f"fetch-schemas: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
