"""Kafka topics from the repo's KafkaSink manifests.

Topics are declared only as Knative KafkaSink resources (eventing.knative.dev/v1alpha1) under
eventing/: Knative's data plane creates each sink's topic, and locally this module does the
same, so the manifests stay the single source of truth.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from common import ROOT, StackError, say

SINK_API_GROUP = "eventing.knative.dev/"


def eventing_dir() -> Path:
    return Path(os.environ.get("FNSHOP_EVENTING_DIR") or ROOT / "eventing")


def declared_topics(folder: Path) -> dict[str, int]:
    """{topic: partitions} of every KafkaSink in folder/**/*.yaml (multi-document files)."""
    topics: dict[str, int] = {}
    origin: dict[str, Path] = {}
    files = sorted(p for ext in ("*.yaml", "*.yml") for p in folder.rglob(ext)) \
        if folder.is_dir() else []
    for path in files:
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as exc:
            raise StackError(f"{path} is not valid YAML: {exc}") from None
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") != "KafkaSink":
                continue
            if not str(doc.get("apiVersion", "")).startswith(SINK_API_GROUP):
                continue
            spec = doc.get("spec") or {}
            name = spec.get("topic")
            if not name:
                raise StackError(f"{path}: KafkaSink {doc.get('metadata', {}).get('name')!r} "
                                 "has no spec.topic")
            partitions = spec.get("numPartitions", 1)
            if not isinstance(partitions, int) or partitions < 1:
                raise StackError(f"{path}: topic {name!r} has numPartitions={partitions!r}")
            if name in topics and topics[name] != partitions:
                say(f"topic {name} declared with {topics[name]} partitions in {origin[name]} "
                    f"and {partitions} in {path}: using {max(partitions, topics[name])}")
            topics[name] = max(partitions, topics.get(name, 0))
            origin.setdefault(name, path)
    return topics


def ensure_topics(make_admin) -> list[str]:
    """Create the declared topics that do not exist yet (one broker: replication factor 1,
    whatever a manifest says). Existing topics are left alone. Returns the created names."""
    wanted = declared_topics(eventing_dir())
    if not wanted:
        return []
    admin = make_admin()
    try:
        existing = {t["name"]: len(t.get("partitions") or []) for t in admin.describe_topics()}
        missing = {name: n for name, n in wanted.items() if name not in existing}
        for name, n in wanted.items():
            if name in existing and existing[name] != n:
                say(f"topic {name} exists with {existing[name]} partitions, manifest says {n}: "
                    "left as is (delete it or reset the state dir to recreate)")
        if missing:
            admin.create_topics({name: {"num_partitions": n, "replication_factor": 1}
                                 for name, n in missing.items()},
                                timeout_ms=30000, wait_for_metadata=True)
            for name, n in sorted(missing.items()):
                say(f"created topic {name} ({n} partition{'s' if n > 1 else ''})")
        return sorted(missing)
    finally:
        admin.close()
