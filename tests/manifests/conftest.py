"""Fixtures for the manifest validator's tests: the pinned upstream schemas (fetched once
through the Go module proxy, then cached in .state/schemas/) and throw-away copies of the
repository to break."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "dev" / "manifests"
if str(TOOL) not in sys.path:
    sys.path.insert(0, str(TOOL))

from fnmanifests import fetch_schemas  # noqa: E402
from fnmanifests.schema_check import SchemaStore  # noqa: E402
from fnmanifests.validate import check_all  # noqa: E402

COPIED = ("knative", "istio", "eventing", "monitoring", "functions")


@pytest.fixture(scope="session")
def store() -> SchemaStore:
    fetch_schemas.fetch(log=lambda *_: None)
    return SchemaStore()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A copy of the manifests and the function code, safe to edit."""
    for name in COPIED:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return tmp_path


@pytest.fixture()
def findings(store):
    def run(root: Path) -> list[str]:
        return sorted({str(f) for f in check_all(root, store)})
    return run


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))
