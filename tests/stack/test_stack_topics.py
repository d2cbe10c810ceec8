"""Which topics the local stack creates: KafkaSink manifests under the eventing folder.

Runs `dev/stack/stack.py topics` (no servers needed) against throwaway eventing folders.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "dev" / "stack" / "stack.py"

SINK = """\
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {{name: {name}}}
spec:
  topic: {topic}
  bootstrapServers: [kafka:9092]
{extra}"""


def sink(topic: str, extra: str = "", name: str | None = None) -> str:
    return SINK.format(name=name or topic, topic=topic, extra=extra)


def run_topics(folder: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, FNSHOP_EVENTING_DIR=str(folder))
    return subprocess.run([sys.executable, str(STACK), "topics"], env=env, text=True,
                          capture_output=True, timeout=60)


def declared(folder: Path) -> dict[str, int]:
    proc = run_topics(folder)
    assert proc.returncode == 0, proc.stderr
    pairs = (line.split() for line in proc.stdout.splitlines() if not line.startswith("stack:"))
    return {name: int(n) for name, n in pairs}


def test_multi_document_files_nested_folders_and_defaults(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "sinks.yaml").write_text(
        sink("orders", "  numPartitions: 3\n  replicationFactor: 3\n") + "---\n"
        + sink("payments") + "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-a-topic}\ndata: {topic: x}\n"
        "---\n")  # an empty trailing document is fine
    (tmp_path / "b.yaml").write_text(sink("products", "  numPartitions: 2\n"))
    assert declared(tmp_path) == {"orders": 3, "payments": 1, "products": 2}


def test_only_knative_kafka_sinks_count(tmp_path):
    (tmp_path / "x.yaml").write_text(
        sink("real") + "---\n"
        + sink("other-group").replace("eventing.knative.dev/v1alpha1", "example.com/v1") + "---\n"
        "apiVersion: sources.knative.dev/v1\nkind: KafkaSource\nmetadata: {name: s}\n"
        "spec: {topics: [from-source]}\n")
    (tmp_path / "notes.txt").write_text(sink("not-yaml-suffix"))
    assert declared(tmp_path) == {"real": 1}


def test_same_topic_twice_takes_the_larger_partition_count(tmp_path):
    (tmp_path / "one.yaml").write_text(sink("orders", "  numPartitions: 2\n", name="a"))
    (tmp_path / "two.yaml").write_text(sink("orders", "  numPartitions: 6\n", name="b"))
    assert declared(tmp_path) == {"orders": 6}


def test_broken_manifests_fail_loudly(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: KafkaSink\n  spec: [unbalanced\n")
    proc = run_topics(tmp_path)
    assert proc.returncode == 1
    assert "bad.yaml is not valid YAML" in proc.stderr

    (tmp_path / "bad.yaml").write_text(sink("t").replace("  topic: t\n", ""))
    proc = run_topics(tmp_path)
    assert proc.returncode == 1 and "has no spec.topic" in proc.stderr

    (tmp_path / "bad.yaml").write_text(sink("t", "  numPartitions: 0\n"))
    proc = run_topics(tmp_path)
    assert proc.returncode == 1 and "numPartitions=0" in proc.stderr


def test_missing_folder_declares_nothing(tmp_path):
    assert declared(tmp_path / "nope") == {}


def test_the_repository_manifests_parse():
    proc = run_topics(ROOT / "eventing")
    assert proc.returncode == 0, proc.stderr
