"""kustomize, built once from its Go module at the pinned version and kept in .state/bin."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from . import paths

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class KustomizeError(RuntimeError):
    pass


def binary() -> Path:
    pin = yaml.safe_load(paths.PINS_FILE.read_text())["tools"]["kustomize"]
    target = paths.bin_dir() / f"kustomize-{pin['version']}"
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise KustomizeError("the `go` command is needed to build kustomize")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as gobin:
        env = dict(os.environ, GOBIN=gobin, GOTOOLCHAIN="local", CGO_ENABLED="0")
        proc = subprocess.run(["go", "install", f"{pin['package']}@{pin['version']}"],
                              cwd=gobin, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise KustomizeError(f"building kustomize {pin['version']} failed:\n{proc.stderr[-2000:]}")
        shutil.move(str(Path(gobin) / "kustomize"), target)
    return target


def build(directory: Path) -> str:
    proc = subprocess.run([str(binary()), "build", str(directory)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise KustomizeError(proc.stderr.strip())
    return proc.stdout


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def patch_files(kustomization: Path) -> set[Path]:
    """Files a kustomization uses as patches: partial objects, checked once rendered."""
    spec = yaml.safe_load(kustomization.read_text()) or {}
    found = set()
    for entry in spec.get("patches", []) or []:
        if isinstance(entry, dict) and entry.get("path"):
            found.add((kustomization.parent / entry["path"]).resolve())
    for entry in spec.get("patchesStrategicMerge", []) or []:
        if isinstance(entry, str) and "\n" not in entry:
            found.add((kustomization.parent / entry).resolve())
    for entry in spec.get("patchesJson6902", []) or []:
        if isinstance(entry, dict) and entry.get("path"):
            found.add((kustomization.parent / entry["path"]).resolve())
    return found
