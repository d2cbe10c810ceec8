"""Which files are manifests, and their documents."""
from pathlib import Path

import yaml

from .findings import Doc, Finding
from .kustomize import KUSTOMIZATION_FILES, kustomization_file, patch_files
from .yamlio import load_all

MANIFEST_DIRS = ("knative", "istio", "eventing", "monitoring")
# A YAML file in those folders that is not a Kubernetes manifest (a promtool rule file, a
# dashboard) says so in its first lines, so that a forgotten apiVersion is still an error.
SKIP_MARKER = "manifests: not-a-manifest"


def kustomization_dirs(root: Path) -> list[Path]:
    return sorted({p.parent for d in MANIFEST_DIRS for name in KUSTOMIZATION_FILES
                   for p in (root / d).rglob(name)})


def manifest_files(root: Path) -> list[Path]:
    patches = set()
    for directory in kustomization_dirs(root):
        patches |= patch_files(kustomization_file(directory))
    files = []
    for d in MANIFEST_DIRS:
        for path in sorted((root / d).rglob("*")):
            if path.suffix not in (".yaml", ".yml") or path.name in KUSTOMIZATION_FILES:
                continue
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                continue
            if path.resolve() in patches or _marked_skip(path):
                continue
            files.append(path)
    return files


def _marked_skip(path: Path) -> bool:
    with path.open(errors="replace") as handle:
        head = [handle.readline() for _ in range(5)]
    return any(SKIP_MARKER in line for line in head)


def load_docs(path: Path, label: str) -> tuple[list[Doc], list[Finding]]:
    try:
        bodies = load_all(path.read_text())
    except yaml.YAMLError as exc:
        return [], [Finding(label, "", "", f"YAML does not parse: {exc}")]
    return [Doc(label, i, body) for i, body in enumerate(bodies)], []


def parse_rendered(text: str, label: str) -> list[Doc]:
    return [Doc(label, i, body) for i, body in enumerate(load_all(text))]
