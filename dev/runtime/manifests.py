"""Read the deployment manifests (the same YAML the cluster gets) into plain dicts.

A folder with a kustomization.yaml is rendered with `kubectl kustomize` when kubectl is on
PATH, so overlays and patches apply exactly as in the cluster; without kubectl we follow its
`resources:` list ourselves (patches are then ignored, with a warning). A folder without a
kustomization has every *.yaml / *.yml file read, in name order.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


class ManifestError(ValueError):
    """The manifests say something the runtime cannot run: a mistake to fix in the YAML."""


def load_folder(folder: Path) -> list[dict]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    kustomization = _kustomization_file(folder)
    if kustomization is None:
        return _read_files(sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]))
    if shutil.which("kubectl"):
        return _render_with_kubectl(folder)
    return _follow_resources(folder, kustomization)


def load_all(folders: list[Path]) -> list[dict]:
    """Every object once: an overlay that includes another folder (the dev overlay includes
    istio/) may come first, so the first copy of an object -- the patched one -- wins."""
    seen, docs = set(), []
    for doc in (doc for folder in folders for doc in load_folder(folder)):
        meta = doc.get("metadata") or {}
        key = (str(doc.get("apiVersion", "")).rsplit("/", 1)[0], doc.get("kind"), meta.get("namespace"), meta.get("name"))
        if key not in seen:
            seen.add(key)
            docs.append(doc)
    return docs


def of_kind(docs: list[dict], api_group: str, kind: str) -> list[dict]:
    """Objects of one kind whose apiVersion is in `api_group` (any version of it)."""
    return [d for d in docs if d.get("kind") == kind and str(d.get("apiVersion", "")).rsplit("/", 1)[0] == api_group]


def parse_duration(value: object, default: float | None = None) -> float | None:
    """Seconds from a Go/protobuf duration ("1m30s", "250ms", "1.5s") or a bare number of seconds."""
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ManifestError(f"not a duration: {value!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def _kustomization_file(folder: Path) -> Path | None:
    return next((folder / n for n in KUSTOMIZATION_NAMES if (folder / n).is_file()), None)


def _read_files(paths: list[Path]) -> list[dict]:
    docs = []
    for path in paths:
        if path.name in KUSTOMIZATION_NAMES:
            continue
        try:
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
        except yaml.YAMLError as exc:
            raise ManifestError(f"{path}: {exc}") from exc
    return docs


def _render_with_kubectl(folder: Path) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {folder} failed:\n{result.stderr.strip()}")
    return [d for d in yaml.safe_load_all(result.stdout) if isinstance(d, dict)]


def _follow_resources(folder: Path, kustomization: Path) -> list[dict]:
    spec = yaml.safe_load(kustomization.read_text()) or {}
    if any(spec.get(key) for key in ("patches", "patchesStrategicMerge", "patchesJson6902", "components")):
        print(f"runtime: kubectl not found; patches in {kustomization} are NOT applied", file=sys.stderr)
    docs: list[dict] = []
    for entry in spec.get("resources", []) or []:
        target = folder / entry
        docs.extend(load_folder(target) if target.is_dir() else _read_files([target]))
    namespace = spec.get("namespace")
    if namespace:  # kustomize's namespace transformer, the one part every overlay relies on
        for doc in docs:
            doc.setdefault("metadata", {})["namespace"] = namespace
    return docs
